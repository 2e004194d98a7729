#!/usr/bin/env bash
# addons.sh builds the node add-on images every node image preloads, from Go modules and the
# Debian packages in kaas/slim, each cached by a content hash of its inputs:
#   kaas.local/flannel:FLANNEL_VERSION          flanneld (CGO, glibc) + our flannel CNI plugin, on kaas/slim
#   kaas.local/hostpath-provisioner:v0.1.0      FROM scratch: ./cmd/hostpath-provisioner of this repository
#   kaas.local/busybox:BUSYBOX_VERSION          FROM scratch: Debian's busybox-static (test pods)
#   kaas.local/openvpn:OPENVPN_TAG              kaas/slim plus Debian's openvpn 2.6 and hack/images/openvpn/kaas-vpn:
#                                               the tunnel's server (customer cluster) and client
#                                               (beside each hosted kube-apiserver); providers/vpn
#                                               names this tag (vpn.Image)
# Their manifests are hack/manifests/flannel.yaml and hack/manifests/hostpath-storage.yaml.
# Usage: addons.sh [--print-images]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

FLANNEL_VERSION=v0.28.10
HOSTPATH_TAG=v0.1.0
BUSYBOX_VERSION=1.35.0
OPENVPN_TAG=v0.1.0
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The proxy refuses the tencentcloud vpc SDK flannel v0.28.10 requires (403); an older release
# satisfies the tencentvpc backend's imports.
TENCENT_VPC_REPLACE="github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc=github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc@v1.0.1000"
HERE="${ROOT}/hack/images"
OUT="${CACHE}/addons"
SELF_HASH=$(hash_of "${BASH_SOURCE[0]}" "${HERE}/common.sh")

IMAGES=("kaas.local/flannel:${FLANNEL_VERSION}" "kaas.local/hostpath-provisioner:${HOSTPATH_TAG}" "kaas.local/busybox:${BUSYBOX_VERSION}"
        "kaas.local/openvpn:${OPENVPN_TAG}")

# go_main OUT MODULE@VERSION PKG CGO [REPLACE...]: builds PKG from a wrapper module.
go_main() {
  local out=$1 modver=$2 pkg=$3 cgo=$4; shift 4
  local key; key=$(hash_of "${SELF_HASH}" "${modver}" "${cgo}" "$@")
  stamped "${out}" "${key}" && return
  local dir="${out}.mod" r
  rm -rf "${dir}"; wrapper_module "${dir}" "kaas.local/$(basename "${out}")"
  for r in "$@"; do (cd "${dir}" && go mod edit -replace "${r}"); done
  printf '//go:build tools\n\n// Package tools pins the command this module builds.\npackage tools\n\nimport _ "%s"\n' "${pkg}" > "${dir}/tools.go"
  log "resolving ${modver}"
  (cd "${dir}" && go get "${modver}" >"${dir}/get.log" 2>&1 && go mod tidy >>"${dir}/get.log" 2>&1) \
    || die "resolving ${modver} failed (log: ${dir}/get.log)" "check the proxy: go list -m ${modver}"
  local ld="-s -w"
  [[ ${pkg} == github.com/flannel-io/flannel ]] && ld+=" -X github.com/flannel-io/flannel/pkg/version.Version=${FLANNEL_VERSION}"
  log "building $(basename "${out}") from ${modver} (CGO_ENABLED=${cgo})"
  (cd "${dir}" && heavy env CGO_ENABLED="${cgo}" go build -trimpath -ldflags "${ld}" -o "${out}.tmp" "${pkg}") \
    || die "building ${pkg} failed" "read the compiler output above; rm -rf ${dir} to start clean"
  mv "${out}.tmp" "${out}"; echo "${key}" > "${out}.stamp"
}

main() {
  if [[ ${1:-} == --print-images ]]; then printf '%s\n' "${IMAGES[@]}"; return; fi
  need_docker
  mkdir -p "${OUT}"
  local slim; slim=$("${HERE}/base.sh" --print-tags | grep '^kaas/slim:')
  image_exists "${slim}" || "${HERE}/base.sh"

  go_main "${OUT}/flanneld" "github.com/flannel-io/flannel@${FLANNEL_VERSION}" github.com/flannel-io/flannel 1 "${TENCENT_VPC_REPLACE}"
  # Ours, built like the project's tests and tools (CGO off, -trimpath) so that it shares their
  # compiled dependencies; go's cache makes an unchanged rebuild a matter of seconds.
  log "building hostpath-provisioner from ./cmd/hostpath-provisioner"
  (cd "${ROOT}" && heavy env CGO_ENABLED=0 GOFLAGS="-buildvcs=false -trimpath" go build -ldflags "-s -w" -o "${OUT}/hostpath-provisioner" ./cmd/hostpath-provisioner) \
    || die "building ./cmd/hostpath-provisioner failed" "go build ./cmd/hostpath-provisioner to see why"

  local ctx="${OUT}/ctx"
  rm -rf "${ctx}"; mkdir -p "${ctx}/flannel" "${ctx}/hostpath" "${ctx}/busybox"
  cp "${OUT}/flanneld" "${HERE}/flannel/flannel-cni" "${HERE}/flannel/install-cni" "${ctx}/flannel/"
  cat > "${ctx}/flannel/Dockerfile" <<DOCKERFILE
FROM ${slim}
COPY flanneld /opt/bin/flanneld
COPY flannel-cni install-cni /opt/kaas/
ENTRYPOINT ["/opt/bin/flanneld"]
DOCKERFILE
  cp "${OUT}/hostpath-provisioner" "${ctx}/hostpath/"
  cat > "${ctx}/hostpath/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY hostpath-provisioner /usr/local/bin/hostpath-provisioner
ENTRYPOINT ["/usr/local/bin/hostpath-provisioner"]
DOCKERFILE
  # busybox from Debian's busybox-static, taken out of kaas/slim; its applets as symlinks.
  local cid; cid=$(docker create "${slim}" /bin/true)
  docker cp "${cid}:/bin/busybox" "${ctx}/busybox/busybox" >/dev/null; docker rm "${cid}" >/dev/null
  # Not `busybox | head -1`: head closing the pipe early kills busybox with SIGPIPE (pipefail).
  local banner; banner=$("${ctx}/busybox/busybox" 2>&1 || true); banner=${banner%%$'\n'*}
  [[ ${banner} == *"v${BUSYBOX_VERSION}"* ]] \
    || die "kaas/slim's busybox is not v${BUSYBOX_VERSION}: ${banner}" "set BUSYBOX_VERSION in $0"
  cat > "${ctx}/busybox/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["/bin/sh"]
DOCKERFILE
  mkdir -p "${ctx}/openvpn"
  cp "${HERE}/openvpn/kaas-vpn" "${ctx}/openvpn/"
  cat > "${ctx}/openvpn/Dockerfile" <<DOCKERFILE
FROM ${slim}
ARG MIRROR
RUN echo "deb \${MIRROR} bookworm main" > /etc/apt/sources.list \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openvpn >/dev/null \\
 && apt-get clean \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /var/log/*.log \\
 && openvpn --version | head -n 1
COPY kaas-vpn /usr/local/bin/kaas-vpn
ENTRYPOINT ["/usr/local/bin/kaas-vpn"]
DOCKERFILE
  image "kaas.local/flannel:${FLANNEL_VERSION}" "${ctx}/flannel"
  image "kaas.local/hostpath-provisioner:${HOSTPATH_TAG}" "${ctx}/hostpath"
  image "kaas.local/busybox:${BUSYBOX_VERSION}" "${ctx}/busybox"
  image "kaas.local/openvpn:${OPENVPN_TAG}" "${ctx}/openvpn" "MIRROR=${MIRROR}"
  log "add-on images: ${IMAGES[*]}"
}
main "$@"
