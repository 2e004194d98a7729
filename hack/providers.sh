#!/usr/bin/env bash
# providers.sh builds the project's own Cluster API providers (cmd/manager: the infrastructure
# provider CAPGC, the hosted control plane and the bootstrap provider, one binary) into one
# image, and renders the clusterctl local repository that installs them as three providers.
#
#   hack/providers.sh [image|repository|key|all]     (default: all)
#
# image       kaas/gcore-providers:VERSION, FROM scratch with the static manager binary, also
#             tagged kaas/gcore-providers:KEY. KEY (the label kaas.sandbox/content) hashes the Go
#             files that go into the binary, go.mod, go.sum, the Go toolchain and the recipe; an
#             image whose key matches is not rebuilt.
# repository  renders config/default/{infrastructure,controlplane,bootstrap} with kubectl kustomize
#             (image docker.io/kaas/gcore-providers:VERSION, each with only its own API group's
#             webhooks) into .cache/clusterctl/repository/, as clusterctl's local repository wants:
#               infrastructure-gcore/VERSION/{infrastructure-components.yaml,metadata.yaml,cluster-template.yaml}
#               control-plane-gcore/VERSION/{control-plane-components.yaml,metadata.yaml}
#               bootstrap-gcore/VERSION/{bootstrap-components.yaml,metadata.yaml}
#             checks them with clusterctl (every variable has a default; the cluster template
#             renders) and has hack/capi.sh rewrite .cache/clusterctl/clusterctl.yaml, which lists
#             them as InfrastructureProvider, ControlPlaneProvider and BootstrapProvider "gcore".
# key         prints KEY, to compare with what a cluster runs.
# VERSION is .providers of versions/versions.json. Heavy steps take /tmp/kaas-heavy.lock.
#
# A running service cluster picks up a rebuilt image in one of two ways: load the VERSION tag
# again (kind load docker-image kaas/gcore-providers:VERSION) and `kubectl rollout restart` the
# three Deployments (IfNotPresent then starts the new image), or load the KEY tag and point the
# Deployments at it (kubectl set image ... manager=docker.io/kaas/gcore-providers:KEY), which
# rolls them by itself.
# common.sh: lib.sh plus the heavy-build lock shared with the image builders.
source "$(dirname "${BASH_SOURCE[0]}")/images/common.sh"

command -v jq >/dev/null || die "jq is not installed" "run: make setup"
VERSION=$(pinned .providers)
[[ $VERSION =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "versions/versions.json: .providers is ${VERSION}, not vX.Y.Z" "fix it there"
MAJOR=${BASH_REMATCH[1]} MINOR=${BASH_REMATCH[2]}
IMAGE=kaas/gcore-providers
BUILD_DIR="${CACHE}/build/providers"
REPO="${CACHE}/clusterctl/repository"
TEMPLATE="${ROOT}/templates/cluster-template.yaml"

# provider table: the kustomize directory under config/default (= the --providers value), the
# clusterctl type, the repository label, the components file, the API group its CRDs and
# webhooks belong to, and the other groups whose webhooks it serves (comma-separated, or -):
# the control plane provider checks the networks of Cluster API's Clusters for the tunnel.
PROVIDERS=(
  "infrastructure InfrastructureProvider infrastructure-gcore infrastructure-components.yaml infrastructure.cluster.x-k8s.io -"
  "controlplane ControlPlaneProvider control-plane-gcore control-plane-components.yaml controlplane.cluster.x-k8s.io cluster.x-k8s.io"
  "bootstrap BootstrapProvider bootstrap-gcore bootstrap-components.yaml bootstrap.cluster.x-k8s.io -"
)

# IMAGE_RECIPE names how the image is built (flags, Dockerfile); bump it when that changes.
IMAGE_RECIPE="scratch-v1 cgo=0 trimpath ldflags=-s,-w uid=65532 entrypoint=/manager"

# go_files prints, relative to ROOT, every file of the project's own packages that the manager
# binary is built from (Go sources and embedded files), as `go build` would pick them.
go_files() {
  (cd "${ROOT}" && CGO_ENABLED=0 go list -deps \
    -f '{{if and .Module (eq .Module.Path "github.com/kaas-sandbox/sandbox")}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}' \
    ./cmd/manager) | sed "s|^${ROOT}/||" | sort
}

# content_key prints the hash the image depends on. Paths are hashed relative to ROOT, so two
# checkouts of the same sources share images.
content_key() {
  local files
  files=$(go_files) || die "go list ./cmd/manager failed" "run: go build ./cmd/manager"
  [[ -n $files ]] || die "go list found no source files of ./cmd/manager" "run: go list -deps ./cmd/manager"
  # One sha256sum for all files (hash_of would start four processes per file).
  # shellcheck disable=SC2086 # one path a line, none with spaces
  { go env GOVERSION; echo "${IMAGE_RECIPE}"; (cd "${ROOT}" && sha256sum go.mod go.sum ${files}); } | sha256sum | cut -c1-16
}

# content_of IMAGE prints the kaas.sandbox/content label of a local image, or nothing.
content_of() { docker image inspect -f '{{index .Config.Labels "kaas.sandbox/content"}}' "$1" 2>/dev/null || true; }

image() {
  need_docker
  local key ctx
  key=$(content_key)
  if [[ "$(content_of "${IMAGE}:${VERSION}")" == "$key" ]]; then
    image_exists "${IMAGE}:${key}" || docker tag "${IMAGE}:${VERSION}" "${IMAGE}:${key}"
    log "${IMAGE}:${VERSION} is up to date (${IMAGE}:${key})"
    return
  fi
  if [[ "$(content_of "${IMAGE}:${key}")" == "$key" ]]; then
    log "${IMAGE}:${key} exists: tagging it ${VERSION}"
    docker tag "${IMAGE}:${key}" "${IMAGE}:${VERSION}"
    return
  fi
  ctx="${BUILD_DIR}/image"
  rm -rf "$ctx"; mkdir -p "$ctx"
  log "building ./cmd/manager (1-2 min on a cold build cache)"
  (cd "${ROOT}" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${ctx}/manager" ./cmd/manager) \
    >"${BUILD_DIR}/build.log" 2>&1 || die "building ./cmd/manager failed" "read ${BUILD_DIR}/build.log"
  cat > "${ctx}/Dockerfile" <<EOF
FROM scratch
COPY manager /manager
# The numeric uid of distroless' nonroot user, as Cluster API's own images use.
USER 65532:65532
ENTRYPOINT ["/manager"]
LABEL kaas.sandbox/content="${key}" org.opencontainers.image.version="${VERSION}" org.opencontainers.image.source="github.com/kaas-sandbox/sandbox/cmd/manager"
EOF
  log "docker build ${IMAGE}:${VERSION} (and :${key})"
  docker build -q -t "${IMAGE}:${VERSION}" -t "${IMAGE}:${key}" "$ctx" >"${BUILD_DIR}/docker.log" 2>&1 \
    || die "docker build of ${IMAGE}:${VERSION} failed" "read ${BUILD_DIR}/docker.log; is dockerd up? (make setup)"
  rm -f "${ctx}/manager"
  log "${IMAGE}:${VERSION} = ${IMAGE}:${key}: $(docker image inspect -f '{{.Size}}' "${IMAGE}:${VERSION}" | numfmt --to=iec)"
}

# clusterctl_clean ARGS... runs ./bin/clusterctl (built by hack/tools.sh when missing) with an
# empty environment and config: no variable from the caller or ~/.cluster-api leaks into a check.
clusterctl_clean() {
  [[ -x ${BIN}/clusterctl ]] || "${ROOT}/hack/tools.sh" clusterctl >&2 || die "no clusterctl to check the repository" "run: make tools"
  local home="${BUILD_DIR}/clusterctl-home"
  mkdir -p "$home"; : > "${home}/clusterctl.yaml"
  env -i PATH=/usr/bin:/bin HOME="$home" CLUSTERCTL_DISABLE_VERSIONCHECK=true KUBECONFIG=/nonexistent \
    ${GCORE_CLOUDS_YAML_B64:+GCORE_CLOUDS_YAML_B64="${GCORE_CLOUDS_YAML_B64}"} \
    "${BIN}/clusterctl" "$@" --config "${home}/clusterctl.yaml"
}

# filter_webhooks GROUPS < manifests.yaml prints the webhook configurations of controller-gen's
# manifests.yaml with only the webhooks whose rules name one of GROUPS (comma-separated); a
# configuration left with none is dropped. A webhook whose rules name one of GROUPS and another
# group is an error.
filter_webhooks() {
  awk -v group="$1" '
    BEGIN { n = split(group, gs, ","); for (i = 1; i <= n; i++) if (gs[i] != "-") want[gs[i]] = 1; n = 0 }
    function flush_entry() {
      if (entry == "") return
      if (mine && others) { printf "webhook %s names %s and other API groups: give each group its own webhook\n", name, group > "/dev/stderr"; failed = 1 }
      if (mine && !others) { kept = kept entry; n++ }
      entry = ""; mine = others = ingroups = 0; name = "?"
    }
    function flush_doc() {
      flush_entry()
      if (n > 0) printf "---\n%s%s", header, kept
      header = kept = ""; n = 0; inwebhooks = 0
    }
    /^---/ { flush_doc(); next }
    !inwebhooks { header = header $0 "\n"; if ($0 ~ /^webhooks:/) inwebhooks = 1; next }
    /^- / { flush_entry() }
    {
      entry = entry $0 "\n"
      if ($0 ~ /^  name: /) { name = $2 }
      if ($0 ~ /apiGroups:$/) { ingroups = 1; next }
      if (ingroups && $0 ~ /^ *- [^ :]+$/) { g = $2; gsub(/"/, "", g); if (g in want) mine = 1; else others = 1; next }
      ingroups = 0
    }
    END { flush_doc(); exit failed }
  '
}

# stage_config DIR GROUPS copies config/ into DIR with webhook/manifests.yaml cut down to the
# webhooks of GROUPS (comma-separated).
stage_config() {
  local dir=$1 group=$2
  rm -rf "$dir"; mkdir -p "$dir"
  cp -r "${ROOT}/config" "${dir}/config"
  filter_webhooks "$group" < "${ROOT}/config/webhook/manifests.yaml" > "${dir}/config/webhook/manifests.yaml" \
    || die "cannot split config/webhook/manifests.yaml by API group" "see the message above; fix the +kubebuilder:webhook markers"
}

# check_components FILE GROUP DIR fails unless FILE holds what a provider needs: GROUP's CRDs
# (as many as config/crd/bases has), one Deployment running our image, the webhook Service,
# Issuer and Certificate, and every variable with a default.
check_components() {
  local file=$1 group=$2 dir=$3 want got kind
  want=$(ls "${ROOT}/config/crd/bases/${group}"_*.yaml | wc -l)
  got=$(grep -c "^  group: ${group}$" "$file" || true)
  [[ $got == "$want" ]] || die "${file}: ${got} CRDs of ${group}, config/crd/bases has ${want}" "list every CRD in config/crd/kustomization.yaml"
  for kind in Namespace Deployment Service ServiceAccount ClusterRole ClusterRoleBinding Issuer Certificate; do
    grep -q "^kind: ${kind}$" "$file" || die "${file} has no ${kind}" "compare ${dir} with config/"
  done
  grep -q "image: docker.io/${IMAGE}:${VERSION}$" "$file" || die "${file} does not run ${IMAGE}:${VERSION}" "compare ${dir} with config/manager"
  if ! clusterctl_clean generate yaml --from "$file" >/dev/null 2>"${dir}/clusterctl.log"; then
    die "clusterctl cannot process ${file}: $(tail -n1 "${dir}/clusterctl.log")" "give every \${VARIABLE} in config/ a default: \${VARIABLE:=value}"
  fi
}

# check_template fails unless clusterctl renders the cluster template with only the flags
# `clusterctl generate cluster` takes (and the credentials, which have no default), for the
# newest pinned Kubernetes version.
check_template() {
  local file=$1 dir=$2 k8s
  k8s=$(pinned '.kubernetes[-1].version')
  if ! GCORE_CLOUDS_YAML_B64=$(printf 'clouds: {}\n' | base64 -w0) clusterctl_clean generate cluster check --from "$file" --kubernetes-version "$k8s" --worker-machine-count 2 \
    --target-namespace check >"${dir}/cluster.yaml" 2>"${dir}/clusterctl.log"; then
    die "clusterctl cannot render ${file}: $(tail -n1 "${dir}/clusterctl.log")" "fix templates/cluster-template.yaml"
  fi
  grep -q '^kind: GcoreControlPlane$' "${dir}/cluster.yaml" || die "${file} renders no GcoreControlPlane" "fix templates/cluster-template.yaml"
}

repository() {
  local p name type label file group dir stage key
  key=$(cd "${ROOT}" && hash_of "${VERSION}" "${IMAGE}" hack/providers.sh config templates/cluster-template.yaml)
  for p in "${PROVIDERS[@]}"; do
    read -r name type label file group extra <<<"$p"
    dir="${REPO}/${label}/${VERSION}"
    if [[ -s ${dir}/${file} && -s ${dir}/metadata.yaml && "$(cat "${dir}/.content" 2>/dev/null)" == "$key" ]]; then
      log "clusterctl repository: ${label} ${VERSION} is up to date"
      continue
    fi
    log "rendering config/default/${name} into ${dir}/${file}"
    stage="${BUILD_DIR}/${label}"
    stage_config "$stage" "${group},${extra}"
    mkdir -p "${stage}/overlay"
    # The image named canonically, as clusterctl requires (`kind load` puts kaas/x:tag into the
    # nodes as docker.io/kaas/x:tag).
    cat > "${stage}/overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../config/default/${name}
images:
- name: ${IMAGE}
  newName: docker.io/${IMAGE}
  newTag: ${VERSION}
EOF
    kustomize "${stage}/overlay" > "${stage}/${file}" 2>"${stage}/kustomize.log" \
      || die "kubectl kustomize config/default/${name} failed: $(tail -n1 "${stage}/kustomize.log")" "read ${stage}/kustomize.log"
    check_components "${stage}/${file}" "$group" "$stage"
    cat > "${stage}/metadata.yaml" <<EOF
# Written by hack/providers.sh: the release series of the gcore providers and the Cluster API
# contract each implements.
apiVersion: clusterctl.cluster.x-k8s.io/v1alpha3
kind: Metadata
releaseSeries:
- major: ${MAJOR}
  minor: ${MINOR}
  contract: v1beta2
EOF
    rm -rf "$dir"; mkdir -p "$dir"
    if [[ $label == infrastructure-gcore ]]; then
      # clusterctl generate cluster looks for the default flavor beside the infrastructure
      # provider's components.
      check_template "$TEMPLATE" "$stage"
      cp "$TEMPLATE" "${dir}/cluster-template.yaml"
    fi
    cp "${stage}/metadata.yaml" "${dir}/metadata.yaml"
    cp "${stage}/${file}" "${dir}/${file}"
    chmod 0644 "${dir}"/*.yaml
    echo "$key" > "${dir}/.content"
    log "  $(grep -c '^kind: ' "${dir}/${file}") objects, $(grep -c '^  group: ' "${dir}/${file}") CRDs, $(grep -c '^- admissionReviewVersions:' "${dir}/${file}") webhooks"
  done
  # hack/capi.sh owns clusterctl.yaml; its write_config lists the gcore providers it finds here.
  "${ROOT}/hack/capi.sh" config
  grep -q "/infrastructure-gcore/${VERSION}/" "${CACHE}/clusterctl/clusterctl.yaml" \
    || die "${CACHE}/clusterctl/clusterctl.yaml does not list the gcore providers" "check write_config in hack/capi.sh"
}

case "${1:-all}" in
  image) image ;;
  repository) repository ;;
  key) content_key ;;
  all) image; repository ;;
  *) die "unknown command: $1" "use: hack/providers.sh [image|repository|key|all]" ;;
esac
