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
# hash_of prints a short content hash of the given files and strings.
hash_of() { { for a in "$@"; do if [[ -e $a ]]; then find "$a" -type f -print0 | sort -z | xargs -0 sha256sum; else echo "$a"; fi; done; } | sha256sum | cut -c1-16; }

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
