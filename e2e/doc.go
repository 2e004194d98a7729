// Package e2e holds the end-to-end suites of KaaS Sandbox. They build on the images made by
// `make images` and the kind clusters of hack/kind-cluster.sh, and run only with the e2e build
// tag: `make e2e`. The package is its own Go module so that its test-only dependencies (Ginkgo,
// Gomega) stay out of the project's go.mod.
package e2e
