#!/usr/bin/env bash
# cert-manager.sh builds cert-manager from its Go module and puts its manifest where clusterctl
# installs it from (docs/cert-manager.md says why this release).
#
#   hack/cert-manager.sh [images|manifest|render|check|all]     (default: all)
#
# images    FROM scratch images, cached by content (the label kaas.sandbox/content):
#             kaas/cert-manager-{controller,webhook,cainjector}:VERSION
# manifest  copies the committed hack/manifests/cert-manager.yaml to where clusterctl installs
#           cert-manager from (.cache/clusterctl/repository/cert-manager/VERSION/) and has
#           hack/capi.sh point clusterctl's config (`cert-manager: url:`) at it; renders it
#           first when it is stale (a version or a value below changed)
# render    (make cert-manager-manifest) renders the Helm chart shipped in the module
#           (deploy/charts, deploy/crds) with Helm, built here from helm.sh/helm/v3, the way
#           cert-manager's release makes its static cert-manager.yaml, with our image names and
#           imagePullPolicy IfNotPresent, into hack/manifests/cert-manager.yaml
# check     fails when that file is stale (make test runs it)
# VERSION is v1.11.5: the newest release whose root module still holds cmd/controller,
# cmd/webhook and cmd/cainjector (later ones keep them in modules the proxy does not serve).
# Heavy steps take /tmp/kaas-heavy.lock.
# common.sh: lib.sh plus the heavy-build lock shared with the image builders.
source "$(dirname "${BASH_SOURCE[0]}")/images/common.sh"

CM_VERSION="${CERT_MANAGER_VERSION:-v1.11.5}"
CM_MODULE=github.com/cert-manager/cert-manager
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
BUILD_DIR="${CACHE}/build/cert-manager-${CM_VERSION}"
HELM="${CACHE}/tools/helm-${HELM_VERSION}/helm"
OUT_DIR="${CACHE}/clusterctl/repository/cert-manager/${CM_VERSION}"
# The rendered chart is committed: make cert-manager-manifest writes it (with helm, built here)
# and every other run takes it as it is, so no run compiles helm (3 min on a fresh machine).
# Its first line carries the key of what it was rendered from (render_key).
COMMITTED="${ROOT}/hack/manifests/cert-manager.yaml"
# RENDER_RECIPE names how the chart is assembled and rendered; bump it when that changes.
RENDER_RECIPE="chart-v1 crds-wrapped-in-installCRDs namespace-first"
KUBE_VERSION=$(jq -r '.kubernetes[-1].version' "${ROOT}/versions/versions.json")
SETS=(--set installCRDs=true --set creator=static --set startupapicheck.enabled=false
  --set image.repository=docker.io/kaas/cert-manager-controller --set image.tag="${CM_VERSION}" --set image.pullPolicy=IfNotPresent
  --set webhook.image.repository=docker.io/kaas/cert-manager-webhook --set webhook.image.tag="${CM_VERSION}" --set webhook.image.pullPolicy=IfNotPresent
  --set cainjector.image.repository=docker.io/kaas/cert-manager-cainjector --set cainjector.image.tag="${CM_VERSION}" --set cainjector.image.pullPolicy=IfNotPresent)
COMPONENTS=(controller webhook cainjector)
# IMAGE_RECIPE names how an image is built (flags, Dockerfile); bump it when that changes. The
# content key of an image is its version, the Go toolchain, this recipe and the component.
IMAGE_RECIPE="scratch-v1 ldflags=AppVersion,-s,-w uid=1000 path=/app/cmd/NAME/NAME"
export GOFLAGS=-buildvcs=false

command -v jq >/dev/null || die "jq is not installed" "run: make setup"

prepare_module() {
  local want="${CM_VERSION} $(hash_of "${BASH_SOURCE[0]}")" mod
  if [[ -f ${BUILD_DIR}/.prepared && "$(cat "${BUILD_DIR}/.prepared")" == "$want" ]]; then return; fi
  log "preparing the wrapper module ${BUILD_DIR} (downloads on a cold module cache)"
  mod=$(module_dir "${CM_MODULE}@${CM_VERSION}")
  mkdir -p "${BUILD_DIR}"
  {
    echo "// Throw-away wrapper module written by hack/cert-manager.sh; safe to delete."
    echo "module kaas.local/cert-manager"
    echo
    echo "go 1.24"
    echo
    echo "require ${CM_MODULE} ${CM_VERSION}"
    echo
    echo "tool ("
    local comp; for comp in "${COMPONENTS[@]}"; do echo "	${CM_MODULE}/cmd/${comp}"; done
    echo ")"
    echo
    echo "// Copied from cert-manager's own go.mod: a dependent module does not inherit replaces."
    grep -E '^replace ' "${mod}/go.mod" || true
  } > "${BUILD_DIR}/go.mod"
  rm -f "${BUILD_DIR}/go.sum"
  (cd "${BUILD_DIR}" && go mod tidy) >"${BUILD_DIR}/tidy.log" 2>&1 \
    || die "go mod tidy failed in ${BUILD_DIR}" "read ${BUILD_DIR}/tidy.log"
  echo "$want" > "${BUILD_DIR}/.prepared"
}

# image_key prints the content key of component $1's image.
image_key() { hash_of "${CM_VERSION}" "$(go env GOVERSION)" "${IMAGE_RECIPE}" "$1"; }

# up_to_date succeeds when component $1's image carries its current content key.
up_to_date() {
  [[ "$(docker image inspect -f '{{index .Config.Labels "kaas.sandbox/content"}}' "kaas/cert-manager-$1:${CM_VERSION}" 2>/dev/null)" == "$(image_key "$1")" ]]
}

# build_binaries builds the named components in one go build (the packages they share are
# compiled once, and the three keep both cores busy) into BUILD_DIR/bin.
build_binaries() {
  local pkgs=() c
  for c in "$@"; do pkgs+=("${CM_MODULE}/cmd/${c}"); done
  prepare_module
  mkdir -p "${BUILD_DIR}/bin"
  log "building cert-manager ${CM_VERSION}: $* (3-6 min on a cold build cache)"
  (cd "${BUILD_DIR}" && heavy env CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X ${CM_MODULE}/pkg/util.AppVersion=${CM_VERSION}" \
      -o "${BUILD_DIR}/bin/" "${pkgs[@]}") >"${BUILD_DIR}/build.log" 2>&1 \
    || die "building cert-manager ${CM_VERSION} ($*) failed" "read ${BUILD_DIR}/build.log; rm -rf ${BUILD_DIR} to start clean"
}

# build_image packs component $1's binary, built by build_binaries, into its image.
build_image() {
  local c=$1 image="kaas/cert-manager-$1:${CM_VERSION}" key ctx
  key=$(image_key "$c")
  ctx="${BUILD_DIR}/image-${c}"
  mkdir -p "$ctx"
  cp "${BUILD_DIR}/bin/${c}" "${ctx}/${c}"
  cat > "${ctx}/Dockerfile" <<EOF
FROM scratch
COPY ${c} /app/cmd/${c}/${c}
# A numeric non-root user: the chart runs every pod with runAsNonRoot.
USER 1000:1000
ENTRYPOINT ["/app/cmd/${c}/${c}"]
LABEL kaas.sandbox/content="${key}" org.opencontainers.image.source="${CM_MODULE}/cmd/${c}@${CM_VERSION}"
EOF
  log "docker build ${image}"
  docker build -q -t "$image" "$ctx" >"${ctx}/docker.log" 2>&1 \
    || die "docker build of ${image} failed" "read ${ctx}/docker.log; is dockerd up? (make setup)"
  rm -f "${ctx}/${c}"
  log "${image}: $(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec)"
}

images() {
  docker info >/dev/null 2>&1 || "${ROOT}/hack/setup-host.sh" || die "no Docker daemon answers" "run: make setup"
  local stale=() c
  for c in "${COMPONENTS[@]}"; do
    if up_to_date "$c"; then log "kaas/cert-manager-${c}:${CM_VERSION} is up to date"; else stale+=("$c"); fi
  done
  ((${#stale[@]})) || return 0
  build_binaries "${stale[@]}"
  for c in "${stale[@]}"; do build_image "$c"; done
}

build_helm() {
  if [[ -x $HELM ]] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "${HELM_VERSION}"; then return; fi
  local dir="${CACHE}/build/helm-${HELM_VERSION}"
  log "building helm ${HELM_VERSION} from helm.sh/helm/v3 (about 2 min cold), to render cert-manager's chart"
  mkdir -p "$dir" "$(dirname "$HELM")"
  if [[ ! -f $dir/go.sum ]]; then
    rm -f "$dir/go.mod"
    (cd "$dir" && go mod init kaas.local/helm && go get "helm.sh/helm/v3@${HELM_VERSION}" && go get -tool helm.sh/helm/v3/cmd/helm) \
      >"$dir/tidy.log" 2>&1 || { rm -f "$dir/go.sum"; die "preparing helm ${HELM_VERSION} failed" "read $dir/tidy.log"; }
  fi
  (cd "$dir" && heavy env CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" -o "$HELM" helm.sh/helm/v3/cmd/helm) \
    >"$dir/build.log" 2>&1 || die "building helm failed" "read $dir/build.log"
}

# render_key prints the key of what the committed manifest is rendered from: the versions, the
# recipe, the Kubernetes version helm renders for and the values set.
render_key() { hash_of "${CM_VERSION}" "${HELM_VERSION}" "${RENDER_RECIPE}" "${KUBE_VERSION}" "${SETS[*]}"; }

# committed_key prints the key on the committed manifest's first line (empty when there is none).
committed_key() { head -n1 "${COMMITTED}" 2>/dev/null | sed -n 's/.* key \([0-9a-f]*\)$/\1/p'; }

# fresh succeeds when the committed manifest was rendered from what this script asks.
fresh() { [[ "$(committed_key)" == "$(render_key)" ]]; }

# render renders cert-manager's chart with helm (built here) into the committed manifest.
render() {
  local mod chart key tmp="${COMMITTED}.tmp"
  key=$(render_key)
  build_helm
  prepare_module
  mod=$(module_dir "${CM_MODULE}@${CM_VERSION}")
  chart="${BUILD_DIR}/chart/cert-manager"
  rm -rf "${BUILD_DIR}/chart"; mkdir -p "${chart}/templates"
  # The chart as cert-manager's release assembles it (make/manifests.mk): templates, values,
  # a Chart.yaml with the version set, and the CRDs wrapped in `if .Values.installCRDs`.
  cp "${mod}/deploy/charts/cert-manager/values.yaml" "${chart}/"
  cp "${mod}"/deploy/charts/cert-manager/templates/* "${chart}/templates/"
  sed -e "s/^version: .*/version: ${CM_VERSION}/" -e "s/^appVersion: .*/appVersion: ${CM_VERSION}/" \
      -e '/^annotations:/,$d' "${mod}/deploy/charts/cert-manager/Chart.template.yaml" > "${chart}/Chart.yaml"
  {
    echo '{{- if .Values.installCRDs }}'
    for f in "${mod}"/deploy/crds/*.yaml; do echo "---"; cat "$f"; done
    echo '{{- end }}'
  } > "${chart}/templates/crds.yaml"
  chmod -R u+w "${BUILD_DIR}/chart"
  log "rendering cert-manager ${CM_VERSION}'s chart with helm ${HELM_VERSION} into ${COMMITTED#"${ROOT}/"}"
  {
    echo "# cert-manager ${CM_VERSION}'s chart rendered by helm ${HELM_VERSION} (make cert-manager-manifest; do not edit) key ${key}"
    cat "${mod}/deploy/manifests/namespace.yaml"
    "$HELM" template --api-versions="" --kube-version "${KUBE_VERSION}" --namespace=cert-manager "${SETS[@]}" cert-manager "$chart" 2>"${BUILD_DIR}/helm.log"
  } > "${tmp}" || die "helm template of cert-manager's chart failed" "read ${BUILD_DIR}/helm.log"
  local c
  for c in "${COMPONENTS[@]}"; do
    grep -q "image: \"docker.io/kaas/cert-manager-${c}:${CM_VERSION}\"" "${tmp}" \
      || die "the rendered manifest does not run kaas/cert-manager-${c}:${CM_VERSION}" "read ${tmp}"
  done
  mv "${tmp}" "${COMMITTED}"
  log "  $(grep -c '^kind: ' "${COMMITTED}") objects; commit ${COMMITTED#"${ROOT}/"}"
}

# check fails when the committed manifest was rendered from anything else than this script asks.
check() {
  fresh || die "${COMMITTED#"${ROOT}/"} was not rendered from cert-manager ${CM_VERSION}, helm ${HELM_VERSION} and the values in hack/cert-manager.sh" \
      "run: make cert-manager-manifest, and commit the result"
}

# manifest puts the committed manifest where clusterctl installs cert-manager from, rendering it
# first only when it is stale (a version or a value changed), and points clusterctl's config at it.
manifest() {
  local out="${OUT_DIR}/cert-manager.yaml"
  if ! fresh; then
    log "${COMMITTED#"${ROOT}/"} is stale: rendering it again (commit the result)"
    render
  fi
  mkdir -p "${OUT_DIR}"
  if ! cmp -s "${COMMITTED}" "${out}"; then cp "${COMMITTED}" "${out}"; fi
  log "cert-manager ${CM_VERSION} manifest: ${out}"
  "${ROOT}/hack/capi.sh" config
}

case "${1:-all}" in
  images) images ;;
  manifest) manifest ;;
  render) render ;;
  check) check ;;
  all) images; manifest ;;
  *) die "unknown command: $1" "use: hack/cert-manager.sh [images|manifest|render|check|all]" ;;
esac
