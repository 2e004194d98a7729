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

# vet and the tests build like every tool and image of the project (CGO off, -trimpath), so
# that each dependency is compiled once on a machine: the tests reuse what go vet compiled,
# clusterctl and the controller images reuse what the tests did.
SHARED_BUILD := CGO_ENABLED=0 GOFLAGS="$(GOFLAGS) -trimpath"
# fakecloud's packages (its task engine, store and HTTP servers are ours, concurrent, and cheap
# to build with the race detector) also run under the race detector in make test, but for the
# openstack CLI scripts (minutes of Python, once is enough).
RACE_PKGS := ./fakecloud/... ./cmd/fakecloud/...

.PHONY: vet
vet: ## go vet every package.
	$(SHARED_BUILD) $(GO) vet ./...

.PHONY: unit
unit: ## Unit and envtest tests (needs KUBEBUILDER_ASSETS: use make test); fakecloud's packages again with the race detector (not the openstack CLI tests).
	$(SHARED_BUILD) $(GO) test -count=1 ./...
	$(GO) test -race -count=1 -skip '^TestOpenStackCLI' $(RACE_PKGS)

.PHONY: unit-race
unit-race: ## Every unit and envtest test with the race detector (needs KUBEBUILDER_ASSETS: use make test-race).
	$(GO) test -race -count=1 ./...

# test-deps: the tools and envtest binaries the tests need; envtest's kube-apiserver and kubectl
# are built in one go build (hack/envtest.sh), so it comes before hack/tools.sh.
define test-deps
	@hack/test-deps.sh
	@assets=$$(hack/envtest.sh) || { echo "hack/envtest.sh could not build envtest's kube-apiserver and etcd (see above)"; exit 1; }; \
	  hack/tools.sh kubectl clusterctl && \
	  echo "KUBEBUILDER_ASSETS=$$assets" && \
	  KUBEBUILDER_ASSETS=$$assets KAAS_REQUIRE_OPENSTACK_CLI=1 KAAS_REQUIRE_HAPROXY=1 KAAS_REQUIRE_CLUSTERCTL=1 $(MAKE) --no-print-directory $(1)
endef

.PHONY: test
test: fmt-check vet generate-check ## Everything CI runs before e2e: gofmt, go vet, generated files up to date, unit, envtest, openstack-CLI and clusterctl-repository tests (envtest's kube-apiserver and etcd are the images' own, built once).
	$(call test-deps,unit)

.PHONY: test-race
test-race: fmt-check vet generate-check ## make test with the race detector on every package (compiles every dependency a second time: about 10 more minutes on a fresh machine).
	$(call test-deps,unit-race)

.PHONY: bench
bench: ## fakecloud at scale: creates/s, p50/p99 of get and list-with-filter with 10,000 of each stored, restart time (BENCH_N=10000).
	$(GO) run ./cmd/fakecloud bench --n $(or $(BENCH_N),10000)

.PHONY: bench-docker
bench-docker: images ## fakecloud's docker backend: server to ACTIVE and to cloud-init done (alone, and 10 at once), load balancer to ACTIVE, idle VM memory.
	$(GO) run ./cmd/fakecloud bench --backend docker --servers $(or $(BENCH_SERVERS),10)

# Targets owned by other areas of the project live in mk/.
-include mk/*.mk
