# KaaS Sandbox. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
GO ?= go
GOFLAGS ?= -buildvcs=false
export GOFLAGS
BIN := $(CURDIR)/bin

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: setup
setup: ## Make this host ready: Docker engine, the kaas-runc runtime, dockerd running.
	@hack/setup-host.sh

.PHONY: build
build: ## Build the project's binaries into ./bin.
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a file.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$out" ]]; then echo "gofmt would change:"; echo "$$out"; echo "run: gofmt -w ."; exit 1; fi

.PHONY: vet
vet: ## go vet every package.
	$(GO) vet ./...

.PHONY: unit
unit: ## Unit tests, with the race detector.
	$(GO) test -race -count=1 ./...

.PHONY: test
test: fmt-check vet generate-check ## Everything CI runs before e2e: gofmt, go vet, generated files up to date, unit, envtest, openstack-CLI and clusterctl-repository tests (envtest's kube-apiserver and etcd are built once into .cache/envtest).
	@hack/test-deps.sh
	@hack/tools.sh kubectl clusterctl
	@assets=$$(hack/envtest.sh) || { echo "hack/envtest.sh could not build envtest's kube-apiserver and etcd (see above)"; exit 1; }; \
	  echo "KUBEBUILDER_ASSETS=$$assets"; \
	  KUBEBUILDER_ASSETS=$$assets KAAS_REQUIRE_OPENSTACK_CLI=1 KAAS_REQUIRE_HAPROXY=1 KAAS_REQUIRE_CLUSTERCTL=1 $(MAKE) --no-print-directory unit

.PHONY: bench
bench: ## fakecloud at scale: creates/s, p50/p99 of get and list-with-filter with 10,000 of each stored, restart time (BENCH_N=10000).
	$(GO) run ./cmd/fakecloud bench --n $(or $(BENCH_N),10000)

.PHONY: bench-docker
bench-docker: images ## fakecloud's docker backend: server to ACTIVE and to cloud-init done (alone, and 10 at once), load balancer to ACTIVE, idle VM memory.
	$(GO) run ./cmd/fakecloud bench --backend docker --servers $(or $(BENCH_SERVERS),10)

# Targets owned by other areas of the project live in mk/.
-include mk/*.mk
