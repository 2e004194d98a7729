// Package testimages names the images the sandbox's e2e runs inside customer clusters, which
// hack/images/k8s-e2e.sh builds from k8s.io/kubernetes and every node image preloads, and tests
// them against the real docker engine (build tag imagetest, run by make test-images).
package testimages

// Agnhost is Kubernetes' own test server (k8s.io/kubernetes/test/images/agnhost) under the
// name hack/images/k8s-e2e.sh gives it. The e2e serves an admission webhook with it, which the
// hosted kube-apiserver can only call through the reverse tunnel.
const Agnhost = "kaas.local/e2e/agnhost:2.66.1"
