# The sandbox's service cluster (hack/sandbox.sh). Included by the Makefile.

.PHONY: sandbox
sandbox: ## Service cluster: kind "kaas-sandbox" on the newest node image, cert-manager + CAPI core via clusterctl init (idempotent).
	@hack/sandbox.sh up

.PHONY: sandbox-status
sandbox-status: ## Show the sandbox's providers and how to use it.
	@hack/sandbox.sh status

.PHONY: sandbox-down
sandbox-down: ## Remove the sandbox's kind cluster, its network and kubeconfig, and every fakecloud container and network (images stay cached).
	@hack/sandbox.sh down

.PHONY: capi-images
capi-images: setup ## Build CAPI core/kubeadm controller images and the clusterctl local repository (cached).
	@hack/capi.sh all

.PHONY: cert-manager-images
cert-manager-images: setup ## Build cert-manager images and its manifest for clusterctl (cached).
	@hack/cert-manager.sh all

.PHONY: cert-manager-manifest
cert-manager-manifest: ## Render cert-manager's chart with helm (built here) into hack/manifests/cert-manager.yaml; commit it (make test fails when it is stale).
	@hack/cert-manager.sh render

.PHONY: bench-cluster
bench-cluster: ## In the running sandbox: apply -> hosted control plane Ready, -> all Nodes Ready (2 VMs + 1 bare metal), idle control plane memory/CPU, deletion (BENCH_VMS, BENCH_BM).
	@hack/bench-cluster.sh

.PHONY: conformance-tunnel
conformance-tunnel: ## In the running sandbox: Kubernetes' own e2e specs for the paths through the tunnel (kubectl logs, exec and logs over websockets, proxy, port-forward, admission and conversion webhooks, the Aggregator) against a cluster (demo; --cluster via hack/conformance-tunnel.sh); table in .cache/conformance/.
	@hack/conformance-tunnel.sh

.PHONY: bench-tunnel
bench-tunnel: ## In the running sandbox: the reverse tunnel of a cluster (demo; BENCH_TUNNEL_CLUSTER, BENCH_TUNNEL_NAMESPACE): VPNReady timing, recovery after the server pod is deleted and the clients restarted, memory, exec round trip, port-forward throughput.
	@hack/bench-tunnel.sh
