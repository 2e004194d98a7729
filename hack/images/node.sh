#!/usr/bin/env bash
# node.sh builds kaas/node:VERSION, a kind-compatible node image for one pinned Kubernetes
# version, with no registry: it stands on kaas/base (hack/images/base.sh) and adds
#   - kind's node files from the sigs.k8s.io/kind module (entrypoint, systemd units, /kind/bin
#     hooks), /kind/version, and our containerd config (restrict_oom_score_adj = true, the pause
#     image of this version) with /etc/containerd/cri-base.json;
#   - containerd at /usr/local/bin (where kind's unit looks), CNI plugins in /opt/cni/bin;
#   - kubelet, kubeadm, kubectl (hack/images/kubernetes.sh);
#   - /kind/manifests/default-cni.yaml (flannel) and default-storage.yaml (hostpath), which
#     kind applies itself when a cluster does not set disableDefaultCNI;
#   - every component and add-on image preloaded, pinned, in containerd's k8s.io namespace, and
#     agnhost, Kubernetes' test server (hack/images/k8s-e2e.sh), which the e2e runs in clusters.
# Cached: the image carries a hash of all its inputs and is rebuilt only when one changes.
# Usage: node.sh VERSION
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE="${ROOT}/hack/images"

# ref_of NAME prints the fully qualified reference containerd stores for a docker image name.
ref_of() { case $1 in */*.*/*|*.*/*) echo "$1" ;; */*) echo "docker.io/$1" ;; *) echo "docker.io/library/$1" ;; esac; }

main() {
  local v=${1:-}
  [[ -n ${v} ]] || die "no version given" "hack/images/node.sh v1.36.3 (pinned: $(k8s_versions | paste -sd' '))"
  k8s_field "${v}" version >/dev/null
  need_docker
  local pause_tag etcd_tag coredns_tag
  pause_tag=$(k8s_field "${v}" pause); etcd_tag=$(k8s_field "${v}" etcd); coredns_tag=$(k8s_field "${v}" coredns)
  local node="kaas/node:${v}"

  # all.sh has built the bases and add-ons already when it calls us for each version.
  [[ -n ${KAAS_IMAGES_SHARED_READY:-} ]] || "${HERE}/base.sh"
  "${HERE}/kubernetes.sh" "${v}"
  [[ -n ${KAAS_IMAGES_SHARED_READY:-} ]] || { "${HERE}/addons.sh"; "${HERE}/k8s-e2e.sh"; }
  local base; base=$("${HERE}/base.sh" --print-tags | grep '^kaas/base:')
  local images=(
    "registry.k8s.io/kube-apiserver:${v}" "registry.k8s.io/kube-controller-manager:${v}"
    "registry.k8s.io/kube-scheduler:${v}" "registry.k8s.io/kube-proxy:${v}"
    "registry.k8s.io/etcd:${etcd_tag}" "registry.k8s.io/coredns/coredns:${coredns_tag}"
    "registry.k8s.io/pause:${pause_tag}"
  )
  mapfile -t -O "${#images[@]}" images < <("${HERE}/addons.sh" --print-images; "${HERE}/k8s-e2e.sh" --print-images)

  local kind_dir
  kind_dir=$(cd "${CACHE}" && go mod download -json "sigs.k8s.io/kind@$(pinned .kind)" | jq -r .Dir)/images/base/files \
    || die "cannot download sigs.k8s.io/kind" "check the module proxy"
  [[ -f ${kind_dir}/usr/local/bin/entrypoint ]] || die "no node files in ${kind_dir}" "has kind moved images/base/files?"

  # Build context: everything that goes into the staged image.
  local ctx="${CACHE}/node/${v}/ctx"
  rm -rf "${ctx}"; mkdir -p "${ctx}/files" "${ctx}/bin" "${ctx}/manifests"
  cp -a "${kind_dir}/." "${ctx}/files/"; chmod -R u+w "${ctx}/files"
  rm -f "${ctx}/files/etc/containerd/config.toml" "${ctx}/files/etc/systemd/system/containerd-fuse-overlayfs.service"
  sed "s/@PAUSE_TAG@/${pause_tag}/" "${HERE}/node/containerd-config.toml" > "${ctx}/files/etc/containerd/config.toml"
  local b; for b in kubelet kubeadm kubectl; do cp "${CACHE}/k8s/${v}/bin/${b}" "${ctx}/bin/"; done
  cp "${ROOT}/hack/manifests/flannel.yaml" "${ctx}/manifests/default-cni.yaml"
  cp "${ROOT}/hack/manifests/hostpath-storage.yaml" "${ctx}/manifests/default-storage.yaml"
  echo "${v}" > "${ctx}/version"
  cat > "${ctx}/Dockerfile" <<DOCKERFILE
FROM ${base}
COPY files/ /
COPY bin/ /usr/bin/
COPY manifests/ /kind/manifests/
COPY version /kind/version
RUN chmod 0755 /usr/local/bin/* /kind/bin/* \\
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \\
 && ln -sf /usr/bin/containerd-shim-runc-v2 /usr/local/bin/containerd-shim-runc-v2 \\
 && ln -sf /usr/bin/ctr /usr/local/bin/ctr \\
 && mkdir -p /opt/cni/bin /etc/cni/net.d /etc/kubernetes/manifests /var/local-path-provisioner \\
 && cp -a /usr/lib/cni/. /opt/cni/bin/ \\
 && ctr oci spec | jq '.hooks.createContainer += [{"path": "/kind/bin/mount-product-files.sh"}] | del(.process.rlimits)' > /etc/containerd/cri-base.json \\
 && ln -sf /usr/lib/systemd/systemd /sbin/init \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /lib/systemd/system/local-fs.target.wants/* \\
          /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* \\
          /lib/systemd/system/basic.target.wants/* /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \\
 && find /etc/systemd/system -path '*.wants/*' ! -path '*/cloud-init.target.wants/*' -delete \\
 && echo ReadKMsg=no >> /etc/systemd/journald.conf \\
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \\
 && systemctl mask systemd-binfmt.service \\
 && kubeadm version -o short && containerd --version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE

  # The cache key: the build context and the IDs of every image preloaded.
  local ids=() i; for i in "${images[@]}"; do ids+=("$(docker image inspect -f '{{.Id}}' "${i}")") || die "image ${i} is missing" "run hack/images/kubernetes.sh ${v} and hack/images/addons.sh"; done
  local key; key=$(hash_of "${BASH_SOURCE[0]}" "${ctx}" "${ids[@]}")
  if [[ "$(docker image inspect -f '{{index .Config.Labels "kaas.hash"}}' "${node}" 2>/dev/null)" == "${key}" ]]; then
    log "${node} is up to date"; return
  fi

  local stage="kaas/node-stage:${v}"
  log "docker build ${stage} (node files, kubelet/kubeadm/kubectl ${v})"
  heavy docker build -q -t "${stage}" "${ctx}" > "${CACHE}/node/${v}/build.log" 2>&1 \
    || { cat "${CACHE}/node/${v}/build.log" >&2; die "docker build of ${stage} failed" "read the output above"; }

  # Preload: run the staged image's containerd alone, import each image into it, commit.
  local c="kaas-node-build-${v//./-}"
  docker rm -f "${c}" >/dev/null 2>&1 || true
  docker run -d --name "${c}" --privileged --tmpfs /run --tmpfs /tmp --entrypoint /usr/local/bin/containerd "${stage}" >/dev/null \
    || die "cannot start containerd in ${stage}" "docker run --privileged needs the kaas-runc runtime: run make setup"
  trap 'docker rm -f '"${c}"' >/dev/null 2>&1 || true' EXIT
  local n=0
  until docker exec "${c}" ctr version >/dev/null 2>&1; do
    n=$((n + 1)); ((n < 30)) || die "containerd in ${c} did not come up" "docker logs ${c}"; sleep 1
  done
  n=0
  for i in "${images[@]}"; do
    n=$((n + 1)); log "preloading ${i} into ${node} (${n}/${#images[@]})"
    docker save "${i}" | docker exec -i "${c}" ctr -n k8s.io images import --no-unpack --all-platforms --digests - >/dev/null \
      || die "importing ${i} into ${c} failed" "docker logs ${c}"
    # Pinned, so the kubelet's image garbage collection never drops what cannot be pulled again.
    # (containerd 1.6's import has no --label.) Docker names short images docker.io/library/...
    docker exec "${c}" ctr -n k8s.io images label "$(ref_of "${i}")" io.cri-containerd.pinned=pinned >/dev/null \
      || die "pinning ${i} in ${c} failed" "docker exec ${c} ctr -n k8s.io images ls"
  done
  # The image's STOPSIGNAL is systemd's; containerd wants SIGTERM to close its database cleanly.
  docker kill -s TERM "${c}" >/dev/null
  timeout 60 docker wait "${c}" >/dev/null || docker stop "${c}" >/dev/null
  log "committing ${node}"
  heavy docker commit -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' -c 'CMD []' -c "LABEL kaas.hash=${key}" \
      "${c}" "${node}" >/dev/null || die "docker commit of ${node} failed" "docker logs ${c}"
  docker rm -f "${c}" >/dev/null; trap - EXIT
  docker rmi "${stage}" >/dev/null 2>&1 || true
  log "built ${node} ($(docker image inspect -f '{{.Size}}' "${node}" | numfmt --to=iec))"
}
main "$@"
