#!/usr/bin/env bash
# k8s-e2e.sh builds what Kubernetes' own end-to-end tests need, from k8s.io/kubernetes at the
# newest pinned version (K8S_E2E_VERSION overrides it), offline and cached by content:
#   kaas.local/e2e/agnhost:AGNHOST_TAG   test/images/agnhost (Kubernetes' test server: webhooks,
#                                        port-forward tester, logs generator...) on kaas/slim.
#                                        Every node image preloads it: the sandbox's e2e serves
#                                        an admission webhook with it, through the tunnel.
#   kaas.local/e2e/busybox:BUSYBOX_TAG   kaas.local/busybox (hack/images/addons.sh) under the tag
#                                        the e2e framework asks for (only with --conformance)
#   kaas.local/e2e/sample-apiserver:SAMPLE_APISERVER_TAG
#                                        k8s.io/sample-apiserver at the version's staging release,
#                                        on kaas/slim, for the Aggregator spec (only with
#                                        --conformance)
#   .cache/k8s-e2e/VERSION/e2e.test      test/e2e compiled (only with --conformance)
# Usage: k8s-e2e.sh                 the agnhost image
#        k8s-e2e.sh --print-images  the images node images preload
#        k8s-e2e.sh --conformance   also e2e.test, sample-apiserver and the busybox tag; prints
#                                   e2e.test's path
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The tags test/utils/image/manifest.go of the version below asks for; the build checks them.
AGNHOST_TAG=2.66.1
BUSYBOX_TAG=1.37.0-2
SAMPLE_APISERVER_TAG=1.29.2
E2E_REPO=kaas.local/e2e
HERE="${ROOT}/hack/images"
SELF_HASH=$(hash_of "${BASH_SOURCE[0]}" "${HERE}/common.sh")

# e2e_version prints the Kubernetes version the tests come from.
e2e_version() { echo "${K8S_E2E_VERSION:-$(k8s_versions | sort -V | tail -n 1)}"; }

# build_agnhost VERSION builds the agnhost binary and its image.
build_agnhost() {
  local v=$1 out="${CACHE}/k8s-e2e/$1"
  k8s_wrapper "${out}/agnhost-mod" "${v}" k8s.io/kubernetes/test/images/agnhost
  local src; src=$(cd "${out}/agnhost-mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes) || die "k8s.io/kubernetes ${v} is not in ${out}/agnhost-mod" "rm -rf ${out}/agnhost-mod"
  local tag; tag=$(tr -d '[:space:]' < "${src}/test/images/agnhost/VERSION")
  [[ ${tag} == "${AGNHOST_TAG}" ]] || die "agnhost of Kubernetes ${v} is ${tag}, this script names ${AGNHOST_TAG}" "set AGNHOST_TAG in $0"
  local name want
  for name in busybox sample-apiserver; do
    want=${BUSYBOX_TAG}; [[ ${name} == busybox ]] || want=${SAMPLE_APISERVER_TAG}
    grep -q "\"${name}\", \"${want}\"" "${src}/test/utils/image/manifest.go" \
      || die "Kubernetes ${v}'s e2e asks for another ${name} than ${want}" "set its tag in $0 from ${src}/test/utils/image/manifest.go"
  done
  local bin="${out}/agnhost" key; key=$(hash_of "${SELF_HASH}" "${v}")
  if ! stamped "${bin}" "${key}"; then
    log "building agnhost ${tag} from k8s.io/kubernetes ${v} (1-3 min on a cold cache)"
    (cd "${out}/agnhost-mod" && heavy env CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.Version=${tag}" -o "${bin}.tmp" k8s.io/kubernetes/test/images/agnhost) \
      || die "building agnhost failed" "read the compiler output above; rm -rf ${out}/agnhost-mod to re-resolve modules"
    mv "${bin}.tmp" "${bin}"; echo "${key}" > "${bin}.stamp"
  fi
  local slim; slim=$("${HERE}/base.sh" --print-tags | grep '^kaas/slim:')
  image_exists "${slim}" || "${HERE}/base.sh"
  local ctx="${out}/agnhost-ctx"
  rm -rf "${ctx}"; mkdir -p "${ctx}"; cp "${bin}" "${ctx}/agnhost"
  cp "${src}/test/images/agnhost/porter/localhost.crt" "${src}/test/images/agnhost/porter/localhost.key" "${ctx}/"
  # As upstream's image: the binary at /agnhost, porter's test certificate in the working
  # directory, a user and a group some tests look for, and busybox's applets (netstat, nc, wget,
  # nslookup, which upstream's Alpine base has and the specs' probes and commands call) after
  # Debian's own tools on the PATH.
  cat > "${ctx}/Dockerfile" <<DOCKERFILE
FROM ${slim}
COPY agnhost localhost.crt localhost.key /
RUN ln -s agnhost /agnhost-2 && mkdir /uploads /opt/busybox \\
 && /bin/busybox --install -s /opt/busybox \\
 && groupadd -g 50000 group-defined-in-image \\
 && useradd -u 1000 -G group-defined-in-image user-defined-in-image
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/busybox
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
DOCKERFILE
  image "${E2E_REPO}/agnhost:${AGNHOST_TAG}" "${ctx}"
}

# build_sample_apiserver VERSION builds k8s.io/sample-apiserver v0.Y.Z and its image.
build_sample_apiserver() {
  local v=$1 out="${CACHE}/k8s-e2e/$1" modver="k8s.io/sample-apiserver@v0.${1#v1.}"
  local bin="${out}/sample-apiserver" dir="${out}/sample-apiserver-mod" key; key=$(hash_of "${SELF_HASH}" "${modver}")
  if ! stamped "${bin}" "${key}"; then
    log "building sample-apiserver from ${modver}"
    rm -rf "${dir}"; wrapper_module "${dir}" "kaas.local/sample-apiserver"
    (cd "${dir}" && go get "${modver}" >"${dir}/get.log" 2>&1) \
      || die "resolving ${modver} failed (log: ${dir}/get.log)" "check the proxy: go list -m ${modver}"
    (cd "${dir}" && heavy env CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${bin}.tmp" k8s.io/sample-apiserver) \
      || die "building sample-apiserver failed" "read the compiler output above"
    mv "${bin}.tmp" "${bin}"; echo "${key}" > "${bin}.stamp"
  fi
  local slim; slim=$("${HERE}/base.sh" --print-tags | grep '^kaas/slim:')
  local ctx="${out}/sample-apiserver-ctx"
  rm -rf "${ctx}"; mkdir -p "${ctx}"; cp "${bin}" "${ctx}/kube-sample-apiserver"
  printf 'FROM %s\nCOPY kube-sample-apiserver /kube-sample-apiserver\nENTRYPOINT ["/kube-sample-apiserver"]\n' "${slim}" > "${ctx}/Dockerfile"
  image "${E2E_REPO}/sample-apiserver:${SAMPLE_APISERVER_TAG}" "${ctx}"
}

# build_e2e_test VERSION compiles test/e2e into e2e.test. Its wrapper module imports what
# e2e_test.go imports, so that go mod tidy resolves the test's dependencies too.
build_e2e_test() {
  local v=$1 out="${CACHE}/k8s-e2e/$1"
  local dir="${out}/e2e-mod"
  if [[ ! -f ${dir}/.ready ]]; then
    local src; src=$(cd "${CACHE}" && go mod download -json "k8s.io/kubernetes@${v}" | jq -r .Dir) \
      || die "k8s.io/kubernetes@${v} is not on the module proxy" "go list -m -versions k8s.io/kubernetes"
    local pkgs; mapfile -t pkgs < <(awk '/^import \(/{on=1; next} on && /^\)/{exit} on' "${src}/test/e2e/e2e_test.go" \
      | grep -o '"[^"]*"' | tr -d '"' | grep '\.' )
    ((${#pkgs[@]} > 10)) || die "found only ${#pkgs[@]} imports in ${src}/test/e2e/e2e_test.go" "has test/e2e changed its layout?"
    k8s_wrapper "${dir}" "${v}" k8s.io/kubernetes/test/e2e "${pkgs[@]}"
  fi
  local bin="${out}/e2e.test" key; key=$(hash_of "${SELF_HASH}" "${v}")
  if ! stamped "${bin}" "${key}"; then
    local minor=${v#v1.} ld="-s -w" p
    minor=${minor%%.*}
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X ${p}.gitVersion=${v} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor}"
    done
    log "building e2e.test from k8s.io/kubernetes ${v} (3-20 min on 2 cores the first time)"
    (cd "${dir}" && heavy env CGO_ENABLED=0 go test -c -trimpath -ldflags "${ld}" -o "${bin}.tmp" k8s.io/kubernetes/test/e2e) \
      || die "building e2e.test failed" "read the compiler output above; rm -rf ${dir} to re-resolve modules"
    mv "${bin}.tmp" "${bin}"; echo "${key}" > "${bin}.stamp"
  fi
  echo "${bin}"
}

main() {
  case ${1:-} in
    --print-images) echo "${E2E_REPO}/agnhost:${AGNHOST_TAG}"; return ;;
    ""|--conformance) ;;
    *) die "unknown argument $1" "usage: $0 [--print-images|--conformance]" ;;
  esac
  need_docker
  local v; v=$(e2e_version)
  k8s_field "${v}" version >/dev/null
  build_agnhost "${v}"
  [[ ${1:-} == --conformance ]] || return 0
  image_exists "kaas.local/busybox:$("${HERE}/addons.sh" --print-images | sed -n 's|^kaas.local/busybox:||p')" || "${HERE}/addons.sh"
  docker tag "$("${HERE}/addons.sh" --print-images | grep '^kaas.local/busybox:')" "${E2E_REPO}/busybox:${BUSYBOX_TAG}"
  build_sample_apiserver "${v}"
  build_e2e_test "${v}"
}
main "$@"
