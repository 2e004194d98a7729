// Package runner runs a scenario (package scenarios) against the running sandbox: it creates
// the scenario's cluster from the cluster template, switches fakecloud's faults on and off,
// disrupts the service cluster (pods, provider managers, fakecloud's process, the kind node),
// waits for conditions, probes the customer cluster, takes measurements between marks against
// their SLOs and checks the cloud for duplicated and leaked resources. The cleanup steps always
// run, every one of them, with a fresh bounded context, even after a failure or a cancelled
// context.
//
// Run takes an Env, which bundles what a run talks to: the service cluster's client, the
// cloud (fakecloud's admin API and Neutron), the cluster template, the customer clusters, the
// disruptions that need docker or a process, and the artifact dumper. NewSandboxEnv builds it
// from the sandbox's files (.cache/sandbox/kubeconfig, fakecloud's clouds.yaml, clusterctl's
// configuration); tests build one from fakes.
//
// A run returns a Result: each step's status and duration, the failed step with the last
// conditions seen and the cloud's message, each measurement against its SLO, the fault
// windows with the cloud events inside them, and the leaks found. WriteMarkdown and
// WriteJUnit render a list of results.
package runner
