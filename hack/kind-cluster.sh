#!/usr/bin/env bash
# kind-cluster.sh manages a kind cluster on our own node image (kaas/node:VERSION, built by
# hack/images/node.sh when missing), with this host's quirks in its config: the kubelet may run
# on cgroup v1 (failCgroupV1: false). The node image carries our hostpath provisioner as kind's
# default storage manifest, so kind installs it; this script applies flannel (with the cluster's
# pod network) and the repository's copy of the provisioner (hack/manifests/), so an edit there
# takes effect without an image rebuild.
#
# The cluster's pod and Service networks are 100.96.0.0/16 and 100.64.0.0/16, not kind's and
# kubeadm's 10.244.0.0/16 and 10.96.0.0/12: customer clusters of the sandbox use those, and the
# hosted apiservers (pods of this cluster) route them through their tunnel into the customer's
# network. Customer clusters whose networks overlap these are refused.
#
# Usage: kind-cluster.sh create|delete|kubeconfig|config
# Env:   KIND_CLUSTER   cluster name (default kaas)
#        K8S_VERSION    pinned Kubernetes version (default: the newest in versions/versions.json)
#        KIND_WORKERS   worker nodes besides the control plane (default 0)
#        KIND_KUBECONFIG where to write the kubeconfig (default .cache/kind/NAME.kubeconfig)
#        KIND_WAIT      how long to wait for nodes and add-ons (default 300s)
#        KIND_RETAIN    1 keeps the nodes of a failed create for debugging
#        KIND_POD_SUBNET, KIND_SERVICE_SUBNET  the cluster's networks (defaults above)
# create is idempotent: an existing cluster of that name is reused and checked.
source "$(dirname "${BASH_SOURCE[0]}")/images/common.sh"

NAME="${KIND_CLUSTER:-kaas}"
VERSION="${K8S_VERSION:-$(pinned '.kubernetes[-1].version')}"
WORKERS="${KIND_WORKERS:-0}"
KUBECONFIG_OUT="${KIND_KUBECONFIG:-${CACHE}/kind/${NAME}.kubeconfig}"
WAIT="${KIND_WAIT:-300s}"
IMAGE="kaas/node:${VERSION}"
POD_SUBNET="${KIND_POD_SUBNET:-100.96.0.0/16}"
SERVICE_SUBNET="${KIND_SERVICE_SUBNET:-100.64.0.0/16}"

config() {
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
networking:
  podSubnet: ${POD_SUBNET}
  serviceSubnet: ${SERVICE_SUBNET}
  # flannel is applied by this script, with the pod network above.
  disableDefaultCNI: true
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  apiVersion: kubelet.config.k8s.io/v1beta1
  # This host has cgroup v1; kubelet 1.35+ refuses it unless told otherwise.
  failCgroupV1: false
  # A container that exits is started again within 5 s, however often it exits (the default
  # back-off doubles from 10 s to 5 min; KubeletCrashLoopBackOffMax, beta and on since 1.35):
  # the tunnel's client beside each hosted kube-apiserver comes back within seconds.
  crashLoopBackOff:
    maxContainerRestartPeriod: 5s
nodes:
- role: control-plane
$(for ((i = 0; i < WORKERS; i++)); do echo "- role: worker"; done)
YAML
}

# pod_cidr_within NODE_RANGE NETWORK succeeds when the first two octets agree (both are /16 or
# smaller here), enough to tell a cluster made with other networks.
pod_cidr_within() { [[ $(cut -d. -f1,2 <<<"$1") == $(cut -d. -f1,2 <<<"$2") ]]; }

# (Not `kind get clusters | grep -q`: grep leaving early can SIGPIPE kind, a failure under pipefail.)
exists() { local all; all=$(kind get clusters 2>/dev/null) || true; grep -qx -- "${NAME}" <<<"${all}"; }

create() {
  need_docker
  "${ROOT}/hack/tools.sh" kind kubectl
  k8s_field "${VERSION}" version >/dev/null
  image_exists "${IMAGE}" || { log "${IMAGE} is missing: building it"; "${ROOT}/hack/images/node.sh" "${VERSION}"; }
  mkdir -p "$(dirname "${KUBECONFIG_OUT}")"
  if exists; then
    log "kind cluster ${NAME} exists: reusing it"
    # After a dockerd restart its nodes may be stopped, or starting.
    local stopped
    stopped=$(docker ps -aq --filter "label=io.x-k8s.kind.cluster=${NAME}" --filter status=exited --filter status=created)
    if [[ -n $stopped ]]; then
      log "starting the stopped nodes of ${NAME}"
      # shellcheck disable=SC2086 # one container ID per word
      docker start ${stopped} >/dev/null || die "cannot start the nodes of ${NAME}" "docker ps -a --filter label=io.x-k8s.kind.cluster=${NAME}"
    fi
    kind export kubeconfig --name "${NAME}" --kubeconfig "${KUBECONFIG_OUT}" >/dev/null 2>&1 \
      || die "cannot read the kubeconfig of kind cluster ${NAME}" "hack/kind-cluster.sh delete, then create"
  else
    local cfg="${CACHE}/kind/${NAME}.yaml"
    mkdir -p "$(dirname "${cfg}")"
    config > "${cfg}"
    log "creating kind cluster ${NAME}: Kubernetes ${VERSION}, 1 control plane + ${WORKERS} workers, image ${IMAGE}"
    local retain=(); [[ ${KIND_RETAIN:-} == 1 ]] && retain=(--retain)
    kind create cluster --name "${NAME}" --image "${IMAGE}" --config "${cfg}" --kubeconfig "${KUBECONFIG_OUT}" "${retain[@]}" \
      || die "kind create cluster ${NAME} failed" "rerun with KIND_RETAIN=1 and read: kind export logs --name ${NAME} /tmp/${NAME}-logs"
  fi
  export KUBECONFIG="${KUBECONFIG_OUT}"
  local deadline=$(( $(date +%s) + ${WAIT%s} ))
  until kubectl get --raw /readyz >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || die "the apiserver of ${NAME} does not answer after ${WAIT}" "docker ps -a --filter label=io.x-k8s.kind.cluster=${NAME}; kind export logs --name ${NAME}"
    sleep 2
  done
  # A cluster made before the sandbox had its own provisioner has a "standard" class of
  # rancher.io/local-path; a class's provisioner cannot change, so that class is replaced.
  local prov; prov=$(kubectl get storageclass standard -o jsonpath='{.provisioner}' 2>/dev/null || true)
  if [[ -n ${prov} && ${prov} != kaas.local/hostpath ]]; then
    log "replacing StorageClass standard (provisioner ${prov}) with kaas.local/hostpath's; volumes made before keep working"
    kubectl delete storageclass standard >/dev/null || die "cannot delete StorageClass standard" "kubectl --kubeconfig ${KUBECONFIG_OUT} get storageclass"
  fi
  local have; have=$(kubectl get nodes -o jsonpath='{.items[0].spec.podCIDR}' 2>/dev/null || true)
  if [[ -n ${have} ]] && ! pod_cidr_within "${have}" "${POD_SUBNET}"; then
    die "kind cluster ${NAME} gives its nodes pod ranges such as ${have}, outside ${POD_SUBNET} (it was made with other networks)" "hack/kind-cluster.sh delete, then create (make sandbox-down; make sandbox for the sandbox)"
  fi
  log "applying flannel (pod network ${POD_SUBNET}) and the hostpath provisioner from hack/manifests"
  sed "s|10.244.0.0/16|${POD_SUBNET}|" "${ROOT}/hack/manifests/flannel.yaml" | kubectl apply -f - -f "${ROOT}/hack/manifests/hostpath-storage.yaml" >/dev/null \
    || die "kubectl apply of hack/manifests failed" "kubectl --kubeconfig ${KUBECONFIG_OUT} get pods -A"
  log "waiting up to ${WAIT} for nodes, flannel, CoreDNS and the hostpath provisioner"
  kubectl wait --for=condition=Ready nodes --all --timeout="${WAIT}" >/dev/null \
    || die "nodes of ${NAME} are not Ready" "kubectl --kubeconfig ${KUBECONFIG_OUT} describe nodes; kind export logs --name ${NAME}"
  kubectl -n kube-flannel rollout status daemonset/kube-flannel-ds --timeout="${WAIT}" >/dev/null \
    || die "flannel did not roll out" "kubectl --kubeconfig ${KUBECONFIG_OUT} -n kube-flannel logs ds/kube-flannel-ds"
  kubectl -n kube-system rollout status deployment/coredns --timeout="${WAIT}" >/dev/null \
    || die "CoreDNS did not roll out" "kubectl --kubeconfig ${KUBECONFIG_OUT} -n kube-system describe pods -l k8s-app=kube-dns"
  kubectl -n hostpath-storage rollout status daemonset/hostpath-provisioner --timeout="${WAIT}" >/dev/null \
    || die "the hostpath provisioner did not roll out" "kubectl --kubeconfig ${KUBECONFIG_OUT} -n hostpath-storage describe pods"
  log "kind cluster ${NAME} is ready: export KUBECONFIG=${KUBECONFIG_OUT}"
}

case "${1:-}" in
  create) create ;;
  delete)
    if exists; then log "deleting kind cluster ${NAME}"; kind delete cluster --name "${NAME}" >/dev/null; fi
    rm -f "${KUBECONFIG_OUT}" ;;
  kubeconfig) exists || die "no kind cluster ${NAME}" "hack/kind-cluster.sh create"; kind get kubeconfig --name "${NAME}" ;;
  config) config ;;
  *) die "usage: hack/kind-cluster.sh create|delete|kubeconfig|config" "make kind-cluster" ;;
esac
