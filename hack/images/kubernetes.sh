#!/usr/bin/env bash
# kubernetes.sh builds one pinned Kubernetes version from the Go module proxy, offline of any
# registry:
#   binaries  kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler
#             kube-proxy, from k8s.io/kubernetes in a wrapper module, CGO_ENABLED=0, into
#             .cache/k8s/VERSION/bin (version-stamped, so kubeadm sees the real version);
#             etcd (go.etcd.io/etcd/server/v3 etcdmain) and CoreDNS (github.com/coredns/coredns)
#             at the versions this kubeadm expects, and a pause of our own (hack/images/pause);
#   images    under the names kubeadm expects: registry.k8s.io/{kube-apiserver,
#             kube-controller-manager,kube-scheduler,kube-proxy}:VERSION, registry.k8s.io/etcd:TAG,
#             registry.k8s.io/coredns/coredns:TAG, registry.k8s.io/pause:TAG. All FROM scratch but
#             kube-proxy, which needs iptables and stands on kaas/slim (hack/images/base.sh).
# Every artifact is cached by a hash of its inputs; a rerun with nothing changed does nothing.
# Usage: kubernetes.sh VERSION                      binaries and images
#        kubernetes.sh --binaries VERSION [BIN...]  only these Kubernetes binaries (default all)
#        kubernetes.sh --etcd VERSION               only etcd for VERSION; prints its path
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

K8S_BINS=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
SELF_HASH=$(hash_of "${BASH_SOURCE[0]}" "${ROOT}/hack/images/common.sh")

# k8s_module VERSION prepares .cache/k8s/VERSION/mod, the wrapper module the binaries are
# built in (k8s_wrapper in common.sh).
k8s_module() { k8s_wrapper "${CACHE}/k8s/$1/mod" "$1" "${K8S_BINS[@]/#/k8s.io/kubernetes/cmd/}"; }

# build_k8s_bins VERSION BIN... builds the named Kubernetes binaries that are not built yet, in
# one go build: the packages they share are compiled once and the compiles keep both cores busy.
build_k8s_bins() {
  local v=$1; shift
  local out="${CACHE}/k8s/${v}/bin" minor=${v#v1.}; minor=${minor%%.*}
  local stale=() pkgs=() b
  for b in "$@"; do stamped "${out}/${b}" "${SELF_HASH}" || stale+=("${b}"); done
  ((${#stale[@]})) || return 0
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X ${p}.gitVersion=${v} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor} -X ${p}.gitTreeState=clean -X ${p}.buildDate=1970-01-01T00:00:00Z"
  done
  for b in "${stale[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  k8s_module "${v}"
  mkdir -p "${out}/.tmp"
  log "building ${stale[*]} ${v} (${#stale[@]} of ${#K8S_BINS[@]} binaries; cold, 3-5 min for the first and about 1 min for each other on 2 cores)"
  (cd "${CACHE}/k8s/${v}/mod" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "${ld}" -o "${out}/.tmp/" "${pkgs[@]}") \
    || die "building ${stale[*]} ${v} failed" "read the compiler output above; rm -rf ${CACHE}/k8s/${v}/mod to re-resolve modules"
  for b in "${stale[@]}"; do
    mv "${out}/.tmp/${b}" "${out}/${b}"; echo "${SELF_HASH}" > "${out}/${b}.stamp"
  done
  rmdir "${out}/.tmp"
}

# build_go_main OUT MODULE@VERSION PKG [FILE...]: builds PKG from a wrapper module beside OUT; a
# FILE (main.go) is copied into the wrapper when the module has no importable main.
build_go_main() {
  local out=$1 modver=$2 pkg=$3; shift 3
  local key; key=$(hash_of "${SELF_HASH}" "${modver}" "$@")
  if stamped "${out}" "${key}"; then return; fi
  local dir; dir="$(dirname "${out}")/mod"
  rm -rf "${dir}"; wrapper_module "${dir}" "kaas.local/$(basename "${out}")"
  local f; for f in "$@"; do cp "${f}" "${dir}/"; done
  if [[ ${pkg} != . ]]; then
    printf '//go:build tools\n\n// Package tools pins the command this module builds.\npackage tools\n\nimport _ "%s"\n' "${pkg}" > "${dir}/tools.go"
  fi
  (cd "${dir}" && go get "${modver}" >"${dir}/get.log" 2>&1 && go mod tidy >>"${dir}/get.log" 2>&1) \
    || die "resolving ${modver} failed (log: ${dir}/get.log)" "check the proxy: go list -m ${modver}"
  (cd "${dir}" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}.tmp" "${pkg}") \
    || die "building ${pkg} (${modver}) failed" "read the compiler output above"
  mv "${out}.tmp" "${out}"; echo "${key}" > "${out}.stamp"
}

# build_etcd VERSION builds the etcd server the Kubernetes VERSION's kubeadm expects (a main
# around etcdmain.Main) and prints its path.
build_etcd() {
  local tag; tag=$(k8s_field "$1" etcd)
  local bin="${CACHE}/etcd/${tag%-*}/etcd" main="${CACHE}/etcd/main.go"
  mkdir -p "${CACHE}/etcd"
  printf '// Command etcd runs etcd.\npackage main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "${main}"
  if ! stamped "${bin}" "$(hash_of "${SELF_HASH}" "go.etcd.io/etcd/server/v3@v${tag%-*}" "${main}")"; then log "building etcd v${tag%-*}"; fi
  build_go_main "${bin}" "go.etcd.io/etcd/server/v3@v${tag%-*}" . "${main}" >&2
  echo "${bin}"
}

main() {
  # --modules VERSION only resolves and downloads modules (network, no compiling): a warm-up.
  if [[ ${1:-} == --modules ]]; then k8s_module "$2"; return; fi
  local only_bins=false
  [[ ${1:-} == --binaries ]] && { only_bins=true; shift; }
  local only_etcd=false
  [[ ${1:-} == --etcd ]] && { only_etcd=true; shift; }
  local v=${1:-}; [[ -n ${v} ]] || die "no version given" "hack/images/kubernetes.sh v1.36.3 (pinned: $(k8s_versions | paste -sd' '))"
  shift
  k8s_field "${v}" version >/dev/null
  if ${only_bins}; then build_k8s_bins "${v}" "${@:-${K8S_BINS[@]}}"; return; fi
  if ${only_etcd}; then build_etcd "${v}"; return; fi

  need_docker
  local etcd_tag coredns_tag pause_tag
  etcd_tag=$(k8s_field "${v}" etcd); coredns_tag=$(k8s_field "${v}" coredns); pause_tag=$(k8s_field "${v}" pause)
  build_k8s_bins "${v}" "${K8S_BINS[@]}"

  local etcd_bin coredns_bin="${CACHE}/coredns/${coredns_tag}/coredns" pause_bin="${CACHE}/pause/pause"
  etcd_bin=$(build_etcd "${v}")
  if ! stamped "${coredns_bin}" "$(hash_of "${SELF_HASH}" "github.com/coredns/coredns@${coredns_tag}")"; then log "building CoreDNS ${coredns_tag}"; fi
  build_go_main "${coredns_bin}" "github.com/coredns/coredns@${coredns_tag}" github.com/coredns/coredns
  local pkey; pkey=$(hash_of "${SELF_HASH}" "${ROOT}/hack/images/pause")
  if ! stamped "${pause_bin}" "${pkey}"; then
    log "building pause"; mkdir -p "${CACHE}/pause"
    (cd "${ROOT}/hack/images/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${pause_bin}" .) || die "building pause failed" "cd hack/images/pause && go build ."
    echo "${pkey}" > "${pause_bin}.stamp"
  fi

  # One build context per image, holding only what goes into it, so the hash label is exact.
  local slim; slim=$("${ROOT}/hack/images/base.sh" --print-tags | grep '^kaas/slim:')
  image_exists "${slim}" || "${ROOT}/hack/images/base.sh"
  local ctxs="${CACHE}/k8s/${v}/images" c
  rm -rf "${ctxs}"; mkdir -p "${ctxs}"
  local -A names=(
    [kube-apiserver]="registry.k8s.io/kube-apiserver:${v}"
    [kube-controller-manager]="registry.k8s.io/kube-controller-manager:${v}"
    [kube-scheduler]="registry.k8s.io/kube-scheduler:${v}"
    [kube-proxy]="registry.k8s.io/kube-proxy:${v}"
    [etcd]="registry.k8s.io/etcd:${etcd_tag}"
    [coredns]="registry.k8s.io/coredns/coredns:${coredns_tag}"
    [pause]="registry.k8s.io/pause:${pause_tag}"
  )
  local order=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns pause) i=0
  for c in "${order[@]}"; do
    i=$((i + 1)); mkdir -p "${ctxs}/${c}"
    case ${c} in
      etcd) cp "${etcd_bin}" "${ctxs}/${c}/" ;;
      coredns) cp "${coredns_bin}" "${ctxs}/${c}/" ;;
      pause) cp "${pause_bin}" "${ctxs}/${c}/" ;;
      *) cp "${CACHE}/k8s/${v}/bin/${c}" "${ctxs}/${c}/" ;;
    esac
    {
      if [[ ${c} == kube-proxy ]]; then echo "FROM ${slim}"; else echo "FROM scratch"; fi
      echo "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
      echo "COPY ${c} /usr/local/bin/${c}"
      case ${c} in
        coredns) echo 'EXPOSE 53 53/udp'; echo 'ENTRYPOINT ["/usr/local/bin/coredns"]' ;;
        pause) echo 'USER 65535:65535'; echo 'ENTRYPOINT ["/usr/local/bin/pause"]' ;;
        etcd) echo 'WORKDIR /var/lib/etcd' ;;
        kube-proxy) ;;
        *) echo "ENTRYPOINT [\"/usr/local/bin/${c}\"]" ;;
      esac
    } > "${ctxs}/${c}/Dockerfile"
    log "image ${names[${c}]} (${i}/${#order[@]})"
    image "${names[${c}]}" "${ctxs}/${c}"
  done
  log "Kubernetes ${v}: binaries in ${CACHE}/k8s/${v}/bin, images: $(for c in "${order[@]}"; do printf '%s ' "${names[${c}]}"; done)"
}
main "$@"
