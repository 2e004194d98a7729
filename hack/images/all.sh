#!/usr/bin/env bash
# all.sh builds every image the sandbox's clusters need, offline and cached by content: the
# Debian bases, the add-ons (flannel, the hostpath provisioner, busybox, OpenVPN), agnhost
# (Kubernetes' test server), HAProxy, the service cluster's controllers (Cluster API core and
# kubeadm providers, cert-manager, our gcore providers, with clusterctl's local repository)
# and, for each pinned Kubernetes version (or only those given), its component images and its
# node image kaas/node:VERSION.
# A warm rerun with nothing changed only checks hashes. Usage: all.sh [VERSION...]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
  need_docker
  local versions=("$@"); ((${#versions[@]})) || mapfile -t versions < <(k8s_versions)
  log "images for Kubernetes ${versions[*]}"
  "${ROOT}/hack/images/base.sh"
  "${ROOT}/hack/images/addons.sh"
  "${ROOT}/hack/images/k8s-e2e.sh"
  "${ROOT}/hack/images/haproxy.sh"
  "${ROOT}/hack/capi.sh" all
  "${ROOT}/hack/cert-manager.sh" all
  "${ROOT}/hack/providers.sh" all
  export KAAS_IMAGES_SHARED_READY=1
  local v i=0
  for v in "${versions[@]}"; do
    i=$((i + 1)); log "== Kubernetes ${v} (${i}/${#versions[@]})"
    "${ROOT}/hack/images/node.sh" "${v}"
  done
  log "done; node images:"
  for v in "${versions[@]}"; do docker images --format '  {{.Repository}}:{{.Tag}} {{.Size}}' "kaas/node:${v}" >&2; done
}
main "$@"
