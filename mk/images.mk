# Image and kind targets (hack/images/, hack/kind-cluster.sh). Included by the Makefile.

.PHONY: tools
tools: setup ## Build the pinned kind, kubectl and clusterctl into ./bin (cached).
	@hack/tools.sh

.PHONY: images
images: setup ## Build every image offline, cached by content: bases, add-ons, components and kaas/node:VERSION for each pinned version (VERSIONS="v1.36.3" for some).
	@hack/images/all.sh $(VERSIONS)

.PHONY: kind-cluster
kind-cluster: setup ## Create (or reuse) a kind cluster from kaas/node (KIND_CLUSTER=kaas, K8S_VERSION=newest pinned); flannel and the hostpath provisioner included.
	@hack/kind-cluster.sh create

.PHONY: kind-cluster-down
kind-cluster-down: ## Delete the kind cluster made by kind-cluster (KIND_CLUSTER=kaas).
	@hack/kind-cluster.sh delete
