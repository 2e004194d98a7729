#!/usr/bin/env bash
# base.sh builds the Debian bookworm root filesystems everything else stands on, with
# debootstrap --variant=minbase, and imports them as docker images:
#   kaas/base:<hash>  the node base (systemd, containerd, runc, CNI plugins, cloud-init, ...),
#                     packages from hack/images/base.packages;
#   kaas/slim:<hash>  a small glibc + iptables image for kube-proxy and flannel,
#                     packages from hack/images/slim.packages.
# <hash> is a content hash of this script and the package list: a rerun with nothing changed
# does nothing. Both are also tagged :latest. Prints nothing on stdout unless --print-tags.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
HERE="${ROOT}/hack/images"

# base_tag NAME prints the content-addressed tag of kaas/NAME.
base_tag() { echo "kaas/$1:$(hash_of "${HERE}/base.sh" "${HERE}/$1.packages")"; }

build_rootfs() {
  local name=$1 tag; tag=$(base_tag "$1")
  if image_exists "${tag}"; then
    docker tag "${tag}" "kaas/${name}:latest"
    log "${tag} is up to date"; return
  fi
  local pkgs; pkgs=$(grep -vE '^\s*(#|$)' "${HERE}/${name}.packages" | paste -sd, -)
  local dir="${CACHE}/rootfs/${name}"
  rm -rf "${dir}"; mkdir -p "${dir}" "${CACHE}/debs"
  log "debootstrap ${SUITE} minbase for kaas/${name} (${pkgs//,/ }); takes 2-4 min cold"
  heavy debootstrap --variant=minbase --cache-dir="${CACHE}/debs" --include="${pkgs}" \
      "${SUITE}" "${dir}" "${MIRROR}" > "${CACHE}/rootfs/${name}.log" 2>&1 \
    || { tail -n 15 "${CACHE}/rootfs/${name}.log" "${dir}/debootstrap/debootstrap.log" >&2 2>/dev/null
         cp "${dir}/debootstrap/debootstrap.log" "${CACHE}/rootfs/${name}.debootstrap.log" 2>/dev/null || true; false; } \
    || die "debootstrap of kaas/${name} failed (log: ${CACHE}/rootfs/${name}.log)" \
           "check that ${MIRROR} answers and every package in hack/images/${name}.packages exists in ${SUITE}"
  log "trimming kaas/${name}"
  chroot "${dir}" apt-get clean >/dev/null 2>&1 || true
  rm -rf "${dir}"/var/lib/apt/lists/* "${dir}"/usr/share/doc/* "${dir}"/usr/share/man/* \
         "${dir}"/usr/share/locale/* "${dir}"/usr/share/info/* "${dir}"/var/log/*.log \
         "${dir}"/var/cache/debconf/*-old "${dir}"/tmp/*
  # Containers get their own resolv.conf and hostname at run time.
  : > "${dir}/etc/resolv.conf"; : > "${dir}/etc/hostname"
  log "importing ${tag}"
  tar -C "${dir}" -c . | heavy docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "${tag}" >/dev/null \
    || die "docker import of ${tag} failed" "check dockerd: docker info"
  docker tag "${tag}" "kaas/${name}:latest"
  rm -rf "${dir}"
  log "built ${tag} ($(docker image inspect -f '{{.Size}}' "${tag}" | numfmt --to=iec))"
}

main() {
  need_docker
  local names=(base slim)
  if [[ ${1:-} == --print-tags ]]; then for n in "${names[@]}"; do base_tag "$n"; done; return; fi
  for n in "${names[@]}"; do build_rootfs "$n"; done
}
main "$@"
