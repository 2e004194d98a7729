#!/usr/bin/env bash
# capi.sh builds Cluster API's own controllers from the sigs.k8s.io/cluster-api Go module and
# makes a clusterctl local provider repository for them, the way CAPI's e2e does it (see
# test/framework/clusterctl/repository.go in that module).
#
#   hack/capi.sh [images|repository|all]     (default: all)
#
# images      FROM scratch images, cached by content (the label kaas.sandbox/content):
#               kaas/cluster-api-controller:VERSION            (sigs.k8s.io/cluster-api/core)
#               kaas/kubeadm-bootstrap-controller:VERSION      (.../bootstrap/kubeadm)
#               kaas/kubeadm-control-plane-controller:VERSION  (.../controlplane/kubeadm)
# repository  renders each provider's kustomize tree (config/default in the module) with our image
#             names and imagePullPolicy IfNotPresent into
#               .cache/clusterctl/repository/<provider-label>/<version>/{components.yaml,metadata.yaml}
#             and writes .cache/clusterctl/clusterctl.yaml pointing clusterctl at it (and at the
#             cert-manager manifest that hack/cert-manager.sh puts beside it).
# VERSION is .clusterAPI of versions/versions.json. Heavy steps take /tmp/kaas-heavy.lock.
# common.sh: lib.sh plus the heavy-build lock shared with the image builders.
source "$(dirname "${BASH_SOURCE[0]}")/images/common.sh"

command -v jq >/dev/null || die "jq is not installed" "run: make setup"
CAPI_VERSION=$(jq -er .clusterAPI "${ROOT}/versions/versions.json") || die "no .clusterAPI in versions/versions.json" "pin the Cluster API version there"
CAPI_MINOR=$(cut -d. -f2 <<<"${CAPI_VERSION}")
BUILD_DIR="${CACHE}/build/capi-${CAPI_VERSION}"
REPO_ROOT="${CACHE}/clusterctl"
REPO="${REPO_ROOT}/repository"
export GOFLAGS=-buildvcs=false

# provider table: clusterctl type, clusterctl name, repository label, Go package (= kustomize tree
# beside it), image name, components file name (as in CAPI's releases).
PROVIDERS=(
  "CoreProvider cluster-api cluster-api core kaas/cluster-api-controller core-components.yaml"
  "BootstrapProvider kubeadm bootstrap-kubeadm bootstrap/kubeadm kaas/kubeadm-bootstrap-controller bootstrap-components.yaml"
  "ControlPlaneProvider kubeadm control-plane-kubeadm controlplane/kubeadm kaas/kubeadm-control-plane-controller control-plane-components.yaml"
)

# IMAGE_RECIPE names how an image is built (flags, Dockerfile); bump it when that changes.
IMAGE_RECIPE="scratch-v2 ldflags=version,-s,-w uid=65532"
# content_key prints the hash an image depends on: the module version, the Go toolchain, the
# recipe and the package. Editing anything else in this script rebuilds nothing.
content_key() { hash_of "${CAPI_VERSION}" "$(go env GOVERSION)" "${IMAGE_RECIPE}" "$1"; }

prepare_module() {
  local want="${CAPI_VERSION} $(hash_of "${BASH_SOURCE[0]}")"
  if [[ -f ${BUILD_DIR}/.prepared && "$(cat "${BUILD_DIR}/.prepared")" == "$want" ]]; then return; fi
  log "preparing the wrapper module ${BUILD_DIR} (downloads on a cold module cache)"
  mkdir -p "${BUILD_DIR}"
  local goline; goline=$(grep -m1 '^go ' "$(module_dir "sigs.k8s.io/cluster-api@${CAPI_VERSION}")/go.mod")
  cat > "${BUILD_DIR}/go.mod" <<EOF
// Throw-away wrapper module written by hack/capi.sh; safe to delete.
module kaas.local/capi

${goline}

require sigs.k8s.io/cluster-api ${CAPI_VERSION}

// CAPI requires its api submodule at v0.0.0 with a local replace, which a dependent does not inherit.
replace sigs.k8s.io/cluster-api/api => sigs.k8s.io/cluster-api/api ${CAPI_VERSION}

tool (
	sigs.k8s.io/cluster-api/core
	sigs.k8s.io/cluster-api/bootstrap/kubeadm
	sigs.k8s.io/cluster-api/controlplane/kubeadm
)
EOF
  rm -f "${BUILD_DIR}/go.sum"
  (cd "${BUILD_DIR}" && go mod tidy) >"${BUILD_DIR}/tidy.log" 2>&1 \
    || die "go mod tidy failed in ${BUILD_DIR}" "read ${BUILD_DIR}/tidy.log"
  echo "$want" > "${BUILD_DIR}/.prepared"
}

build_image() {
  local pkg=$1 image=$2 key bin ctx
  key=$(content_key "${pkg}")
  if [[ "$(docker image inspect -f '{{index .Config.Labels "kaas.sandbox/content"}}' "${image}:${CAPI_VERSION}" 2>/dev/null)" == "$key" ]]; then
    log "${image}:${CAPI_VERSION} is up to date"
    return
  fi
  prepare_module
  ctx="${BUILD_DIR}/image-${pkg//\//-}"
  bin="${ctx}/manager"
  mkdir -p "$ctx"
  local ld="-s -w"
  ld+=" -X sigs.k8s.io/cluster-api/version.gitVersion=${CAPI_VERSION} -X sigs.k8s.io/cluster-api/version.gitMajor=1"
  ld+=" -X sigs.k8s.io/cluster-api/version.gitMinor=${CAPI_MINOR} -X sigs.k8s.io/cluster-api/version.gitTreeState=clean"
  ld+=" -X sigs.k8s.io/cluster-api/version.buildDate=1970-01-01T00:00:00Z"
  log "building sigs.k8s.io/cluster-api/${pkg} ${CAPI_VERSION} (1-3 min on a cold build cache)"
  # Without the fieldsv1string tag CAPI's own Dockerfile sets (managed fields kept as a string,
  # to save memory): a tag in k8s.io/apimachinery changes every package above it, and without it
  # the managers reuse the packages clusterctl and the tests compiled (minutes on a fresh machine).
  (cd "${BUILD_DIR}" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$bin" "sigs.k8s.io/cluster-api/${pkg}") \
    >"${ctx}/build.log" 2>&1 || die "building sigs.k8s.io/cluster-api/${pkg} failed" "read ${ctx}/build.log; rm -rf ${BUILD_DIR} to start clean"
  cat > "${ctx}/Dockerfile" <<EOF
FROM scratch
COPY manager /manager
# The numeric uid of distroless' nonroot user, as CAPI's own images use.
USER 65532:65532
ENTRYPOINT ["/manager"]
LABEL kaas.sandbox/content="${key}" org.opencontainers.image.source="sigs.k8s.io/cluster-api/${pkg}@${CAPI_VERSION}"
EOF
  log "docker build ${image}:${CAPI_VERSION}"
  docker build -q -t "${image}:${CAPI_VERSION}" "$ctx" >"${ctx}/docker.log" 2>&1 \
    || die "docker build of ${image}:${CAPI_VERSION} failed" "read ${ctx}/docker.log; is dockerd up? (make setup)"
  rm -f "$bin"
  log "${image}:${CAPI_VERSION}: $(docker image inspect -f '{{.Size}}' "${image}:${CAPI_VERSION}" | numfmt --to=iec)"
}

images() {
  docker info >/dev/null 2>&1 || "${ROOT}/hack/setup-host.sh" || die "no Docker daemon answers" "run: make setup"
  local p
  for p in "${PROVIDERS[@]}"; do
    read -r _ _ _ pkg image _ <<<"$p"
    build_image "$pkg" "$image"
  done
}

repository() {
  local mod p type name label pkg image file dir overlay key orig
  mod=$(module_dir "sigs.k8s.io/cluster-api@${CAPI_VERSION}")
  key=$(hash_of "${CAPI_VERSION}" "${BASH_SOURCE[0]}")
  mkdir -p "${REPO}" "${REPO_ROOT}/overrides"
  for p in "${PROVIDERS[@]}"; do
    read -r type name label pkg image file <<<"$p"
    dir="${REPO}/${label}/${CAPI_VERSION}"
    if [[ -s ${dir}/${file} && -s ${dir}/metadata.yaml && "$(cat "${dir}/.content" 2>/dev/null)" == "$key" ]]; then
      log "clusterctl repository: ${label} ${CAPI_VERSION} is up to date"
      continue
    fi
    log "rendering ${pkg}/config/default into ${dir}/${file}"
    mkdir -p "$dir"
    # An overlay on the module's (read-only) tree: our image (named canonically, as clusterctl
    # requires; `kind load` puts kaas/x:tag into the node as docker.io/kaas/x:tag),
    # IfNotPresent because no registry can be reached (the images are loaded into the nodes),
    # and the leader lease KCP ships with (60 s, renewed within 40 s) for all three managers:
    # with the core's and bootstrap's 15/10 s, a service cluster busy on two cores made them
    # miss renewals and restart (six times in one benchmark), refusing webhooks meanwhile.
    orig=$(sed -n 's/^ *- image: \(.*\):[^:/]*$/\1/p' "${mod}/${pkg}/config/default/manager_image_patch.yaml")
    [[ -n $orig ]] || die "no image found in ${pkg}/config/default/manager_image_patch.yaml" "CAPI's layout changed: adapt hack/capi.sh"
    overlay="${BUILD_DIR}/overlay-${label}"
    rm -rf "$overlay"; mkdir -p "$overlay"
    cat > "${overlay}/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- $(realpath --relative-to="$overlay" "${mod}/${pkg}/config/default")
images:
- name: ${orig}
  newName: docker.io/${image}
  newTag: ${CAPI_VERSION}
patches:
- target:
    kind: Deployment
  patch: |-
    - op: replace
      path: /spec/template/spec/containers/0/imagePullPolicy
      value: IfNotPresent
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --leader-elect-lease-duration=60s
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --leader-elect-renew-deadline=40s
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --leader-elect-retry-period=5s
EOF
    kustomize "$overlay" > "${dir}/${file}.tmp" 2>"${overlay}/kustomize.log" \
      || die "kubectl kustomize ${pkg}/config/default failed" "read ${overlay}/kustomize.log"
    grep -q "image: docker.io/${image}:${CAPI_VERSION}" "${dir}/${file}.tmp" \
      || die "the rendered ${file} does not use ${image}:${CAPI_VERSION}" "compare ${dir}/${file}.tmp with ${mod}/${pkg}/config/default"
    grep -q -- "--leader-elect-renew-deadline=40s" "${dir}/${file}.tmp" \
      || die "the rendered ${file} lacks the leader-election flags" "compare ${dir}/${file}.tmp with ${mod}/${pkg}/config/default"
    mv "${dir}/${file}.tmp" "${dir}/${file}"
    cp "${mod}/metadata.yaml" "${dir}/metadata.yaml"
    chmod 0644 "${dir}/metadata.yaml"
    echo "$key" > "${dir}/.content"
    log "  $(grep -c '^kind: ' "${dir}/${file}") objects, image ${image}:${CAPI_VERSION}"
  done
  write_config
}

# write_config writes the clusterctl config file: the three providers (and the gcore providers
# hack/providers.sh renders into the same repository), an empty overrides folder
# (so nothing in ~/.config/cluster-api changes what is installed) and, when hack/cert-manager.sh
# has put a manifest into the repository, cert-manager from there.
write_config() {
  local cfg="${REPO_ROOT}/clusterctl.yaml" p type name label file
  {
    echo "# Written by hack/capi.sh: clusterctl's config for the sandbox's local repository."
    echo "# Use: clusterctl --config ${cfg} ..."
    echo "providers:"
    for p in "${PROVIDERS[@]}"; do
      read -r type name label _ _ file <<<"$p"
      echo "- name: ${name}"
      echo "  type: ${type}"
      echo "  url: ${REPO}/${label}/${CAPI_VERSION}/${file}"
    done
    # The project's own providers, once hack/providers.sh has rendered them (newest version).
    local gp gurl
    for gp in "InfrastructureProvider infrastructure-gcore infrastructure-components.yaml" \
      "ControlPlaneProvider control-plane-gcore control-plane-components.yaml" \
      "BootstrapProvider bootstrap-gcore bootstrap-components.yaml"; do
      read -r type label file <<<"$gp"
      gurl=$(ls -d "${REPO}/${label}"/v*/"${file}" 2>/dev/null | sort -V | tail -n1 || true)
      [[ -n $gurl ]] || continue
      echo "- name: gcore"
      echo "  type: ${type}"
      echo "  url: ${gurl}"
    done
    echo "overridesFolder: ${REPO_ROOT}/overrides"
    # clusterctl would otherwise ask GitHub whether a newer clusterctl exists.
    echo "CLUSTERCTL_DISABLE_VERSIONCHECK: \"true\""
    local cm
    cm=$(ls -d "${REPO}"/cert-manager/v*/cert-manager.yaml 2>/dev/null | sort -V | tail -n1 || true)
    if [[ -n $cm ]]; then
      echo "cert-manager:"
      echo "  url: ${cm}"
      echo "  version: $(basename "$(dirname "$cm")")"
      echo "  timeout: 10m"
    fi
  } > "${cfg}.tmp"
  mv "${cfg}.tmp" "$cfg"
  log "clusterctl config: ${cfg}"
}

case "${1:-all}" in
  images) images ;;
  repository) repository ;;
  config) write_config ;;
  all) images; repository ;;
  *) die "unknown command: $1" "use: hack/capi.sh [images|repository|config|all]" ;;
esac
