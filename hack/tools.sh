#!/usr/bin/env bash
# tools.sh builds the pinned command-line tools into ./bin, each from its Go module in a
# throw-away wrapper module under .cache/tools (never the project's go.mod):
#   kind       sigs.k8s.io/kind at .kind of versions/versions.json
#   clusterctl sigs.k8s.io/cluster-api/cmd/clusterctl at .clusterAPI
#   kubectl    from k8s.io/kubernetes at the newest pinned Kubernetes version
#   controller-gen  sigs.k8s.io/controller-tools at .controllerTools (CRDs, RBAC, deepcopy)
# A tool already in ./bin at the right version is left alone. Usage: hack/tools.sh [TOOL...]
source "$(dirname "${BASH_SOURCE[0]}")/images/common.sh"

KIND_VERSION=$(pinned .kind)
CAPI_VERSION=$(pinned .clusterAPI)
KUBECTL_VERSION=$(pinned '.kubernetes[-1].version')
CONTROLLER_TOOLS_VERSION=$(pinned .controllerTools)
TOOLS_DIR="${CACHE}/tools"

build_kind() {
  if [[ -x ${BIN}/kind ]] && "${BIN}/kind" version 2>/dev/null | grep -q "^kind ${KIND_VERSION} "; then return; fi
  log "building kind ${KIND_VERSION}"
  local dir="${TOOLS_DIR}/kind"
  wrapper_module "${dir}" kaas.local/tools/kind
  (cd "${dir}" && go get "sigs.k8s.io/kind@${KIND_VERSION}" >/dev/null 2>&1) \
    || die "go get sigs.k8s.io/kind@${KIND_VERSION} failed" "check the module proxy: go list -m sigs.k8s.io/kind@${KIND_VERSION}"
  (cd "${dir}" && heavy env CGO_ENABLED=0 go build -trimpath -o "${BIN}/kind" sigs.k8s.io/kind) \
    || die "building kind failed" "rerun with the log above; rm -rf ${dir} to start clean"
  log "kind: $("${BIN}/kind" version)"
}

build_clusterctl() {
  if [[ -x ${BIN}/clusterctl ]] && "${BIN}/clusterctl" version -o short 2>/dev/null | grep -qx "${CAPI_VERSION}"; then return; fi
  log "building clusterctl ${CAPI_VERSION}"
  local dir="${TOOLS_DIR}/clusterctl"
  wrapper_module "${dir}" kaas.local/tools/clusterctl
  # cluster-api requires its api submodule at v0.0.0 with a local replace, which a dependent
  # module does not inherit: point it at the release instead.
  (cd "${dir}" && go mod edit -replace "sigs.k8s.io/cluster-api/api=sigs.k8s.io/cluster-api/api@${CAPI_VERSION}" \
    && go get "sigs.k8s.io/cluster-api@${CAPI_VERSION}" "sigs.k8s.io/cluster-api/cmd/clusterctl@${CAPI_VERSION}" >/dev/null 2>&1) \
    || die "go get sigs.k8s.io/cluster-api@${CAPI_VERSION} failed" "check the module proxy: go list -m sigs.k8s.io/cluster-api@${CAPI_VERSION}"
  local minor=${CAPI_VERSION#v1.}; minor=${minor%%.*}
  local ld="-X sigs.k8s.io/cluster-api/version.gitVersion=${CAPI_VERSION} -X sigs.k8s.io/cluster-api/version.gitMajor=1"
  ld+=" -X sigs.k8s.io/cluster-api/version.gitMinor=${minor} -X sigs.k8s.io/cluster-api/version.gitTreeState=clean"
  (cd "${dir}" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "${ld}" -o "${BIN}/clusterctl" sigs.k8s.io/cluster-api/cmd/clusterctl) \
    || die "building clusterctl failed" "rerun with the log above; rm -rf ${dir} to start clean"
  log "clusterctl: $("${BIN}/clusterctl" version -o short)"
}

build_kubectl() {
  if [[ -x ${BIN}/kubectl ]] && "${BIN}/kubectl" version --client -o json 2>/dev/null | jq -e --arg v "${KUBECTL_VERSION}" '.clientVersion.gitVersion == $v' >/dev/null; then return; fi
  local built="${CACHE}/k8s/${KUBECTL_VERSION}/bin/kubectl"
  if [[ ! -x ${built} ]]; then
    log "building kubectl ${KUBECTL_VERSION}"
    "${ROOT}/hack/images/kubernetes.sh" --binaries "${KUBECTL_VERSION}" kubectl
  fi
  install -m 0755 "${built}" "${BIN}/kubectl"
  log "kubectl: $("${BIN}/kubectl" version --client -o json | jq -r .clientVersion.gitVersion)"
}

build_controller-gen() {
  local stamp="${BIN}/.controller-gen.version"
  if [[ -x ${BIN}/controller-gen && "$(cat "${stamp}" 2>/dev/null)" == "${CONTROLLER_TOOLS_VERSION}" ]]; then return; fi
  log "building controller-gen ${CONTROLLER_TOOLS_VERSION}"
  local dir="${TOOLS_DIR}/controller-gen"
  wrapper_module "${dir}" kaas.local/tools/controller-gen
  (cd "${dir}" && go get "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_TOOLS_VERSION}" >/dev/null 2>&1) \
    || die "go get sigs.k8s.io/controller-tools@${CONTROLLER_TOOLS_VERSION} failed" "check the module proxy: go list -m sigs.k8s.io/controller-tools@${CONTROLLER_TOOLS_VERSION}"
  (cd "${dir}" && heavy env CGO_ENABLED=0 go build -trimpath -o "${BIN}/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen) \
    || die "building controller-gen failed" "rerun with the log above; rm -rf ${dir} to start clean"
  echo "${CONTROLLER_TOOLS_VERSION}" > "${stamp}"
  log "controller-gen: $("${BIN}/controller-gen" --version)"
}

tools=("$@"); ((${#tools[@]})) || tools=(kind clusterctl kubectl)
for t in "${tools[@]}"; do
  case $t in
    kind|clusterctl|kubectl|controller-gen) "build_$t" ;;
    *) die "unknown tool $t" "hack/tools.sh [kind] [clusterctl] [kubectl] [controller-gen]" ;;
  esac
done
