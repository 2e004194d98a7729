# End-to-end suites (e2e/, its own Go module). Included by the Makefile.

E2E_TIMEOUT ?= 90m

.PHONY: e2e
e2e: images tools ## Ginkgo e2e: per pinned version (E2E_VERSIONS="v1.36.3" for some), a kind cluster of 1 control plane + 2 workers on kaas/node; logs to e2e/_artifacts on failure.
	cd e2e && $(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v . -args -ginkgo.v
