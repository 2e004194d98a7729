#!/usr/bin/env bash
# Shared helpers for hack/ scripts: logging with timestamps, and a content hash for caching.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${ROOT}/bin"
CACHE="${KAAS_CACHE:-${ROOT}/.cache}"
mkdir -p "${BIN}" "${CACHE}"
export PATH="${BIN}:${PATH}"

_t0=$(date +%s)
# log prints a progress line with the seconds elapsed since the script started.
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*" >&2; }
# die prints what failed and what to try, then exits.
die() { printf 'ERROR: %s\n' "$1" >&2; [[ $# -gt 1 ]] && printf '  try: %s\n' "$2" >&2; exit 1; }
# hash_of prints a short content hash of the given files, directories and strings. It never
# depends on where the checkout lies (a directory's files are named relative to it), so a clean
# clone elsewhere finds the images an earlier one built.
hash_of() {
  { for a in "$@"; do
      if [[ -d $a ]]; then (cd "$a" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
      elif [[ -e $a ]]; then sha256sum <"$a"
      else echo "$a"; fi
    done; } | sha256sum | cut -c1-16
}

# module_dir MODULE@VERSION downloads a Go module (if needed) and prints where it lies in the
# module cache.
module_dir() {
  local d
  d=$(cd "${TMPDIR:-/tmp}" && go mod download -json "$1" | jq -r '.Dir // empty') || true
  [[ -d $d ]] || die "cannot download $1" "check the Go module proxy: go list -m $1"
  echo "$d"
}

# kustomize runs kubectl's built-in kustomize: ./bin/kubectl (hack/tools.sh), else the kubectl
# hack/images/kubernetes.sh built for a pinned version, else it has hack/tools.sh build one.
kustomize() {
  local k
  k=$(command -v kubectl || ls -1 "${CACHE}"/k8s/v*/bin/kubectl 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z $k ]]; then
    "${ROOT}/hack/tools.sh" kubectl >&2 || die "no kubectl to render kustomize trees" "run: make tools"
    k="${BIN}/kubectl"
  fi
  "$k" kustomize "$@"
}

# customer_node_container NODE prints the docker container of a customer node: fakecloud names
# its containers <instance>-<type>-<id> and labels them kaas.fakecloud/name (the server's
# OpenStack name, which is the node's for a VM; a bare-metal host carries its Ironic node's), and
# gives each the instance's name as hostname.
customer_node_container() {
  local c
  c=$(docker ps -q --filter "label=kaas.fakecloud/name=$1" | head -n1)
  if [[ -z $c ]]; then
    for id in $(docker ps -q --filter label=kaas.fakecloud/instance); do
      [[ $(docker inspect --format '{{.Config.Hostname}}' "$id") == "$1" ]] && { c=$id; break; }
    done
  fi
  [[ -n $c ]] && docker inspect --format '{{.Name}}' "$c" | sed 's,^/,,'
}

# workload_kubeconfig NS CLUSTER OUT prints the path of a kubeconfig for customer cluster NS/CLUSTER
# of the running sandbox: the sandbox's own copy for its demo cluster, else the cluster's
# kubeconfig Secret written to OUT.
workload_kubeconfig() {
  local ns=$1 cluster=$2 out=$3 own="${CACHE}/sandbox/$2.kubeconfig"
  if [[ ${ns} == default && -s ${own} ]]; then echo "${own}"; return; fi
  kubectl --kubeconfig "${CACHE}/sandbox/kubeconfig" get secret -n "${ns}" "${cluster}-kubeconfig" -o jsonpath='{.data.value}' \
    | base64 -d >"${out}" && [[ -s ${out} ]] \
    || die "cannot read the kubeconfig of ${ns}/${cluster}" "kubectl --kubeconfig ${CACHE}/sandbox/kubeconfig get secret -n ${ns} ${cluster}-kubeconfig"
  echo "${out}"
}
