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

# The images' own tests: each image the project builds, run against the real docker engine with
# dockertest (build tag imagetest), seconds to a verdict before the sandbox e2e.
IMAGE_TEST_PKGS := ./providers/vpn/ ./fakecloud/docker/haproxy/ ./internal/testimages/

.PHONY: test-images
test-images: setup ## The images' own tests against the real docker engine (dockertest): the tunnel's OpenVPN server and client, the HAProxy amphora of fakecloud's load balancers and agnhost's admission webhook (builds the images first, cached).
	@hack/images/addons.sh
	@hack/images/k8s-e2e.sh
	@hack/images/haproxy.sh
	$(SHARED_BUILD) $(GO) test -tags imagetest -count=1 -run '^TestImage' -v $(IMAGE_TEST_PKGS)
