#!/usr/bin/env bash
# envtest.sh provides the binaries controller-runtime's envtest needs (kube-apiserver and etcd,
# and kubectl), because setup-envtest's download bucket cannot be reached. They are the very
# binaries the images use, built by hack/images/kubernetes.sh from the Go module proxy (so a
# machine that builds both compiles them once).
#
#   hack/envtest.sh [KUBERNETES_VERSION]
#
# The version defaults to the newest one in versions/versions.json; etcd is the one its kubeadm
# expects. .cache/envtest/<version>/ links to them. The last line on stdout is that directory,
# ready for KUBEBUILDER_ASSETS; progress goes to stderr. Heavy builds take /tmp/kaas-heavy.lock
# so they never run beside another one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v jq >/dev/null || die "jq is not installed" "apt-get install -y jq (or run make setup)"
command -v go >/dev/null || die "go is not installed" "install Go 1.26 and put it on PATH"

versions="${ROOT}/versions/versions.json"
k8s="${1:-$(jq -r '.kubernetes[-1].version' "$versions")}"
etcd_tag=$(jq -r --arg v "$k8s" '.kubernetes[] | select(.version == $v) | .etcd' "$versions")
[[ -n $etcd_tag ]] || die "Kubernetes $k8s is not in $versions" "pick one of: $(jq -r '[.kubernetes[].version] | join(" ")' "$versions")"
etcd="v${etcd_tag%-*}" # "3.6.8-0" -> "v3.6.8"

kubernetes="${ROOT}/hack/images/kubernetes.sh"
"$kubernetes" --binaries "$k8s" kube-apiserver kubectl >&2 \
  || die "building kube-apiserver and kubectl ${k8s} failed (see above)" "rm -rf ${CACHE}/k8s/${k8s}/mod and run hack/envtest.sh again"
etcd_bin=$("$kubernetes" --etcd "$k8s") || die "building etcd ${etcd} failed (see above)" "run: hack/images/kubernetes.sh --etcd ${k8s}"

out="${CACHE}/envtest/${k8s}"
mkdir -p "$out"
ln -sfn "${CACHE}/k8s/${k8s}/bin/kube-apiserver" "${out}/kube-apiserver"
ln -sfn "${CACHE}/k8s/${k8s}/bin/kubectl" "${out}/kubectl"
ln -sfn "${etcd_bin}" "${out}/etcd"
"${out}/kube-apiserver" --version | grep -qx "Kubernetes ${k8s}" \
  || die "${out}/kube-apiserver does not report ${k8s}" "rm -rf ${CACHE}/k8s/${k8s}/bin and run hack/envtest.sh again"
# Not `etcd --version | grep -q`: grep leaving at the first line can kill etcd with SIGPIPE
# before its last line, which pipefail turns into a failure about one run in many.
etcd_version=$("${out}/etcd" --version) || die "${out}/etcd --version failed" "rm -rf $(dirname "${etcd_bin}") and run hack/envtest.sh again"
[[ ${etcd_version} == *"etcd Version: ${etcd#v}"* ]] \
  || die "${out}/etcd does not report ${etcd}" "rm -rf $(dirname "${etcd_bin}") and run hack/envtest.sh again"
log "envtest binaries for ${k8s} (etcd ${etcd}) in ${out}"
echo "$out"
