// Package scenarios holds the sandbox's lifecycle and chaos scenarios as data: one YAML file
// per scenario in this directory (embedded, so the command line carries them), their Go
// types, a strict decoder and the validation, and the upgrade matrix. Running them is the
// runner's job; this package says what a scenario is and whether a file is one.
//
// A scenario is a Kubernetes-style object:
//
//	apiVersion: scenarios.kaas.sandbox/v1alpha1
//	kind: Scenario
//	metadata:
//	  name: octavia-outage             # a DNS-1123 label, unique
//	  labels: {chaos: "true", octavia: "true", smoke: "true"}
//	spec:
//	  description: |                   # what happens, the pass criterion, the figure reported
//	    ...
//	  variables: {FLAVOR: g1.medium}   # declared variables and their defaults
//	  intervals: {outage: 3m/5s}       # named waits, added to DefaultIntervals
//	  cluster:                         # the cluster template's variables
//	    workers: {vm: 1, bareMetal: 0}
//	  steps:                           # in order; the first failure ends them
//	  - fault: {name: lb-down, type: outage, service: load-balancer, expiresAfter: 10m}
//	  - createCluster: {}
//	  - expect:
//	      object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}
//	      condition: EndpointReady
//	      status: "False"
//	      messageContains: "503"
//	      within: create
//	  - clearFault: {name: lb-down}
//	  - mark: fault-end
//	  - expect: {object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}, condition: Ready, within: recover}
//	  - mark: ready
//	  - measure: {name: recovery, from: fault-end, to: ready, slo: 60s}
//	  cleanup:                         # always runs, every step of it
//	  - deleteCluster: {within: delete}
//
// Each step sets exactly one action (see Step). Decoding is strict: an unknown field is an
// error naming the file and the line, and so is every problem validation finds (a step with
// no action or two, a fault without expiresAfter, a probabilistic fault without a seed, a
// measure naming an unknown mark, an unknown interval, a version that is not pinned...). All
// the problems of a file are reported at once (FileError).
//
// Variables: ${NAME} in a string value is replaced by the variable's value: the built-in
// default (KUBERNETES_VERSION and KUBERNETES_VERSION_UPGRADE_FROM/_TO, from the pinned
// versions) or the default declared in spec.variables, overridden by the environment variable
// of the same name, then by Options.Overrides. An undefined variable is an error. The runtime
// variables CLUSTER_NAME and NAMESPACE exist once a run has created its cluster: loading keeps
// references to them until Options.Runtime gives their values.
package scenarios
