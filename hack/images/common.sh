#!/usr/bin/env bash
# Helpers shared by the image and tool builders under hack/: the pinned versions, the lock that
# keeps heavy builds one at a time, and throw-away Go wrapper modules under .cache/.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# One clock for a whole run: child scripts inherit the start time, so progress lines add up.
if [[ -n ${KAAS_T0:-} ]]; then _t0=${KAAS_T0}; else export KAAS_T0=${_t0}; fi

VERSIONS_JSON="${ROOT}/versions/versions.json"
HEAVY_LOCK="${KAAS_HEAVY_LOCK:-/tmp/kaas-heavy.lock}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# pinned prints a field of versions.json, e.g. `pinned .kind`.
pinned() { jq -er "$1" "${VERSIONS_JSON}" || die "cannot read $1 from ${VERSIONS_JSON}" "check the file is valid JSON"; }
# k8s_field VERSION FIELD prints FIELD (etcd, coredns, pause) of a pinned Kubernetes version.
k8s_field() {
  jq -er --arg v "$1" --arg f "$2" '.kubernetes[] | select(.version == $v) | .[$f]' "${VERSIONS_JSON}" \
    || die "Kubernetes $1 has no $2 in ${VERSIONS_JSON}" "pin it there: $(jq -r '[.kubernetes[].version]|join(", ")' "${VERSIONS_JSON}") are pinned"
}
# k8s_versions prints every pinned Kubernetes version, one a line.
k8s_versions() { jq -r '.kubernetes[].version' "${VERSIONS_JSON}"; }

# heavy runs a command holding the shared heavy-build lock (other helpers' builds take it too),
# saying so when it has to wait.
heavy() {
  if [[ ${KAAS_HEAVY_HELD:-} == 1 ]]; then "$@"; return; fi
  if ! flock -n "${HEAVY_LOCK}" true 2>/dev/null; then log "waiting for the heavy-build lock ${HEAVY_LOCK} (another build runs)"; fi
  flock "${HEAVY_LOCK}" "$@"
}

# heavy_begin takes the heavy-build lock for a run of heavy steps (so a series such as seven
# Kubernetes binaries is not interleaved with others' builds); heavy inside it runs directly.
# heavy_end releases it. Not nestable.
heavy_begin() {
  [[ ${KAAS_HEAVY_HELD:-} == 1 ]] && return
  exec {_heavy_fd}>>"${HEAVY_LOCK}"
  if ! flock -n "${_heavy_fd}"; then
    log "waiting for the heavy-build lock ${HEAVY_LOCK} (another build runs)"
    flock "${_heavy_fd}"
  fi
  export KAAS_HEAVY_HELD=1 _KAAS_HEAVY_OWNER=$$
}
heavy_end() {
  [[ ${_KAAS_HEAVY_OWNER:-} == "$$" ]] || return 0
  flock -u "${_heavy_fd}"; exec {_heavy_fd}>&-
  unset KAAS_HEAVY_HELD _KAAS_HEAVY_OWNER
}

# wrapper_module DIR MODPATH writes a fresh go.mod for a throw-away module in DIR (never the
# project's own go.mod) and leaves the caller to go get/replace in it.
wrapper_module() {
  local dir=$1 name=$2
  mkdir -p "${dir}"
  if [[ ! -f ${dir}/go.mod ]]; then
    (cd "${dir}" && go mod init "${name}" >/dev/null 2>&1) || die "go mod init in ${dir} failed" "remove ${dir} and rerun"
  fi
}

# k8s_wrapper DIR VERSION PKG... prepares DIR, a wrapper module that requires k8s.io/kubernetes
# VERSION, replaces each staging module its go.mod names (k8s.io/api => ./staging/...) with the
# v0.Y.Z release (k8s.io/kubernetes cannot be required as it is), and imports PKG... from a
# tools.go so that go mod tidy resolves what they need. Done once: DIR/.ready marks it.
k8s_wrapper() {
  local dir=$1 v=$2; shift 2
  [[ -f ${dir}/.ready ]] && return
  log "preparing a wrapper module for k8s.io/kubernetes ${v} in ${dir#"${ROOT}/"} (downloads modules on a cold cache)"
  rm -rf "${dir}"; wrapper_module "${dir}" "kaas.local/k8s-wrapper"
  local src; src=$(cd "${dir}" && go mod download -json "k8s.io/kubernetes@${v}" | jq -r .Dir) \
    || die "k8s.io/kubernetes@${v} is not on the module proxy" "go list -m -versions k8s.io/kubernetes"
  local staging=v0.${v#v1.}
  local args=() m p
  for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "${src}/go.mod"); do
    args+=(-replace "${m}=${m}@${staging}")
  done
  ((${#args[@]})) || die "found no staging replaces in ${src}/go.mod" "has k8s.io/kubernetes changed its layout?"
  (cd "${dir}" && go mod edit "${args[@]}" -require "k8s.io/kubernetes@${v}" \
     && { printf '//go:build tools\n\n// Package tools pins the Kubernetes packages this module builds.\npackage tools\n\nimport (\n'
          for p in "$@"; do printf '\t_ "%s"\n' "${p}"; done; printf ')\n'; } > tools.go \
     && go mod tidy >"${dir}/tidy.log" 2>&1) \
    || die "resolving k8s.io/kubernetes ${v} failed (log: ${dir}/tidy.log)" "check the proxy has the k8s.io staging modules at ${staging}"
  touch "${dir}/.ready"
}

# stamped FILE KEY succeeds when FILE exists and was built from inputs hashing to KEY.
stamped() { [[ -x $1 && -f $1.stamp && "$(cat "$1.stamp")" == "$2" ]]; }

# image NAME CONTEXT [BUILD-ARG...] builds CONTEXT as NAME unless NAME carries the same content
# hash label. Build args (e.g. the Debian mirror) are not part of the key.
image() {
  local name=$1 ctx=$2 key a args=(); shift 2
  for a in "$@"; do args+=(--build-arg "$a"); done
  key=$(hash_of "${ctx}")
  if [[ "$(docker image inspect -f '{{index .Config.Labels "kaas.hash"}}' "${name}" 2>/dev/null)" == "${key}" ]]; then return; fi
  log "docker build ${name}"
  # A binary on scratch or a package on kaas/slim: small, so not worth the heavy-build lock.
  docker build -q --label "kaas.hash=${key}" "${args[@]}" -t "${name}" "${ctx}" >/dev/null \
    || die "docker build ${name} failed" "docker build ${ctx} by hand to see why"
}

# image_exists NAME succeeds when docker has an image called NAME.
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# need_docker makes sure a Docker daemon with the kaas-runc runtime answers.
need_docker() { docker info >/dev/null 2>&1 || "${ROOT}/hack/setup-host.sh" || die "no Docker daemon" "run: make setup"; }
