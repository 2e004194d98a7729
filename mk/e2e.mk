# End-to-end suites (e2e/, its own Go module). Included by the Makefile.

E2E_TIMEOUT ?= 90m
# The Ginkgo timeout of `make e2e-quickstart` (two workload clusters made and deleted).
E2E_QUICKSTART_TIMEOUT ?= 60m

# `make e2e` runs every spec but the quickstart and upgrade ones, which need the sandbox.
.PHONY: e2e
e2e: images tools ## Ginkgo e2e: per pinned version (E2E_VERSIONS="v1.36.3" for some), a kind cluster of 1 control plane + 2 workers on kaas/node; logs to e2e/_artifacts on failure.
	cd e2e && $(SHARED_BUILD) $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v . -args -ginkgo.v -ginkgo.label-filter='!quickstart && !upgrade'

# The quickstart specs use the sandbox as it is (no clusterctl init): they read
# .cache/sandbox/kubeconfig, .cache/clusterctl/clusterctl.yaml and its repository, and fakecloud's
# clouds.yaml files, and load e2e/config/gcore.yaml as Cluster API's E2EConfig.
# KUBERNETES_VERSION=<a pinned version> picks the workload clusters' version (default: the
# newest); E2E_KEEP_CLUSTERS=1 leaves the clusters for a look; E2E_KEEP=1 keeps the logs of a
# passing run too.
.PHONY: e2e-quickstart
e2e-quickstart: sandbox ## After make sandbox: a cluster of 2 VM + 1 bare-metal workers from the gcore template (Nodes, kubectl columns, a Deployment, nothing left in fakecloud after delete), then CAPI's QuickStartSpec; logs to e2e/_artifacts on failure.
	cd e2e && $(SHARED_BUILD) $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v . -args -ginkgo.v -ginkgo.label-filter=quickstart -ginkgo.timeout=$(E2E_QUICKSTART_TIMEOUT)

.PHONY: e2e-upgrade
e2e-upgrade: sandbox ## After make sandbox: a cluster at the second newest pinned version (E2E_UPGRADE_FROM=v1.35.4 for another) upgraded one minor: control plane (etcd, apiservers, the rest), then workers, then add-ons; skipped minors and downgrades refused.
	cd e2e && $(SHARED_BUILD) $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v . -args -ginkgo.v -ginkgo.label-filter=upgrade -ginkgo.timeout=$(E2E_QUICKSTART_TIMEOUT)
