# The project's own Cluster API providers: their image and clusterctl repository
# (hack/providers.sh). Included by the Makefile.

.PHONY: provider-images
provider-images: setup ## Build kaas/gcore-providers:VERSION (cmd/manager, FROM scratch), cached by content and also tagged with the content key.
	@hack/providers.sh image

.PHONY: provider-repository
provider-repository: ## Render the gcore infrastructure, control plane and bootstrap providers and the cluster template into clusterctl's local repository, checked with clusterctl, and list them in .cache/clusterctl/clusterctl.yaml.
	@hack/providers.sh repository
