# Generated code and manifests (controller-gen). Included by the Makefile.

CONTROLLER_GEN := $(BIN)/controller-gen

.PHONY: controller-gen
controller-gen:
	@hack/tools.sh controller-gen

.PHONY: generate
generate: controller-gen ## Regenerate deepcopy code (api/), CRDs (config/crd/bases), RBAC (config/rbac) and webhook configurations (config/webhook) with controller-gen.
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths=./providers/... output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) webhook paths=./providers/... output:webhook:artifacts:config=config/webhook

.PHONY: generate-check
generate-check: generate ## Fail when the committed generated files differ from what `make generate` makes, or hack/manifests/cert-manager.yaml from what `make cert-manager-manifest` would render.
	@out=$$(git status --porcelain -- 'api/*zz_generated.deepcopy.go' config/crd/bases config/rbac/role.yaml config/webhook/manifests.yaml); if [[ -n "$$out" ]]; then echo "generated files are stale or unknown to git:"; echo "$$out"; echo "run: make generate, and commit the result"; exit 1; fi
	@hack/cert-manager.sh check
