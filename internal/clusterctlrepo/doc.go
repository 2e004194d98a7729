// Package clusterctlrepo holds the tests of what clusterctl installs and generates for the
// project's own providers: they run hack/providers.sh to render the local repository (the
// infrastructure, control plane and bootstrap "gcore" providers, their metadata and the
// clusterctl.yaml that lists them) and clusterctl itself on the cluster template
// (templates/cluster-template.yaml), then check every object against the Go types, the
// project's webhooks and, through envtest, the CRDs' schemas.
//
// The tests need bash, jq, kubectl and clusterctl (./bin, from hack/tools.sh); without
// kubectl or clusterctl they are skipped unless KAAS_REQUIRE_CLUSTERCTL is set.
package clusterctlrepo
