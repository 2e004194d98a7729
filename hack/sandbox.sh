#!/usr/bin/env bash
# sandbox.sh brings up (or tears down) the sandbox's service cluster:
#
#   hack/sandbox.sh up     host setup, tools, images (all cached), a kind cluster named
#                          kaas-sandbox on the newest pinned node image, the controller images
#                          loaded into it, fakecloud (docker backend) with the cluster's nodes on
#                          its external network, then `clusterctl init` against the local provider
#                          repository (cert-manager, CAPI core, kubeadm bootstrap and control
#                          plane, and our gcore infrastructure, control plane and bootstrap
#                          providers); waits until every pod is Running and the webhooks answer;
#                          then makes the demo cluster (SANDBOX_DEMO=0 skips it) and waits until
#                          it is Ready. A second run reuses everything and only checks.
#   hack/sandbox.sh down   deletes the cluster, fakecloud's containers and networks, the docker
#                          network and the kubeconfig; images stay (they are the build cache).
#   hack/sandbox.sh status what runs, and how to use it.
#
# Env: SANDBOX_WAIT (default 300s) bounds each wait; SANDBOX_SKIP_NODE_IMAGES=1 uses an existing
# kaas/node image without asking hack/images/all.sh to check it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# One clock for the whole run, shared with the scripts called below.
if [[ -n ${KAAS_T0:-} ]]; then _t0=${KAAS_T0}; else export KAAS_T0=${_t0}; fi

NAME=kaas-sandbox
# The cluster gets a docker network of its own, so `down` can remove it without touching the
# "kind" network other clusters share.
NETWORK=kaas-sandbox
SANDBOX_DIR="${CACHE}/sandbox"
KUBECONFIG_FILE="${SANDBOX_DIR}/kubeconfig"
CLUSTERCTL_CONFIG="${CACHE}/clusterctl/clusterctl.yaml"
WAIT="${SANDBOX_WAIT:-300s}"
VERSIONS_JSON="${ROOT}/versions/versions.json"
K8S_VERSION=$(jq -er '.kubernetes[-1].version' "$VERSIONS_JSON") || die "cannot read versions/versions.json" "check it is valid JSON (and that jq is installed: make setup)"
CAPI_VERSION=$(jq -er .clusterAPI "$VERSIONS_JSON")
CM_VERSION="${CERT_MANAGER_VERSION:-v1.11.5}"
PROVIDERS_VERSION=$(jq -er '.providers // "v0.1.0"' "$VERSIONS_JSON")
DEMO="${SANDBOX_DEMO_NAME:-demo}"
IMAGES=(
  "kaas/gcore-providers:${PROVIDERS_VERSION}"
  "kaas/cluster-api-controller:${CAPI_VERSION}"
  "kaas/kubeadm-bootstrap-controller:${CAPI_VERSION}"
  "kaas/kubeadm-control-plane-controller:${CAPI_VERSION}"
  "kaas/cert-manager-controller:${CM_VERSION}"
  "kaas/cert-manager-webhook:${CM_VERSION}"
  "kaas/cert-manager-cainjector:${CM_VERSION}"
)
# Hosted control planes of every pinned version run in the service cluster: its node image holds
# the newest version's components, the older ones are loaded.
while read -r v etcd; do
  IMAGES+=("registry.k8s.io/kube-apiserver:${v}" "registry.k8s.io/kube-controller-manager:${v}" "registry.k8s.io/kube-scheduler:${v}" "registry.k8s.io/etcd:${etcd}")
done < <(jq -r '.kubernetes[:-1][] | "\(.version) \(.etcd)"' "$VERSIONS_JSON")
export KUBECONFIG="${KUBECONFIG_FILE}"

kctl() { kubectl --kubeconfig "${KUBECONFIG_FILE}" "$@"; }
# (Not `kind get clusters | grep -q`: grep leaving early can SIGPIPE kind, a failure under pipefail.)
cluster_exists() { local all; all=$(kind get clusters 2>/dev/null) || true; grep -qx -- "${NAME}" <<<"${all}"; }
control_plane() { echo "${NAME}-control-plane"; }

# load_images puts the controller images into the node's containerd. It remembers the image IDs
# it loaded (in .cache/sandbox/loaded-images, which `down` removes with the cluster), loads only
# what is new or rebuilt, and prints the names of rebuilt ones so their controllers can be
# restarted.
load_images() {
  local img want have changed=() record="${SANDBOX_DIR}/loaded-images"
  touch "$record"
  for img in "${IMAGES[@]}"; do
    if ! want=$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null); then
      # The older versions' components are built by a full `make images`, not by make sandbox.
      if [[ $img == registry.k8s.io/* ]]; then
        log "${img} is not built: hosted control planes of that version cannot start (run: make images)"
        continue
      fi
      die "image ${img} is missing" "run: make images"
    fi
    have=$(awk -v i="$img" '$1 == i {print $2}' "$record")
    [[ $have == "$want" ]] && continue
    log "loading ${img} into ${NAME}"
    kind load docker-image --name "${NAME}" "$img" >/dev/null 2>"${SANDBOX_DIR}/kind-load.log" \
      || die "kind load docker-image ${img} failed" "read ${SANDBOX_DIR}/kind-load.log; docker exec $(control_plane) ctr -n k8s.io images ls"
    { grep -v "^${img} " "$record" || true; echo "${img} ${want}"; } > "${record}.tmp" && mv "${record}.tmp" "$record"
    [[ -n $have ]] && changed+=("$img")
  done
  printf '%s\n' "${changed[@]}"
}

providers_installed() {
  local got
  got=$(kctl get providers -A -o jsonpath='{range .items[*]}{.metadata.name}@{.version}{"\n"}{end}' 2>/dev/null) || return 1
  grep -qx "cluster-api@${CAPI_VERSION}" <<<"$got" \
    && grep -qx "bootstrap-kubeadm@${CAPI_VERSION}" <<<"$got" \
    && grep -qx "control-plane-kubeadm@${CAPI_VERSION}" <<<"$got" \
    && grep -qx "infrastructure-gcore@${PROVIDERS_VERSION}" <<<"$got" \
    && grep -qx "control-plane-gcore@${PROVIDERS_VERSION}" <<<"$got" \
    && grep -qx "bootstrap-gcore@${PROVIDERS_VERSION}" <<<"$got"
}

# missing_providers prints clusterctl init flags for the providers not installed yet (clusterctl
# init adds providers to a management cluster that has some already).
missing_providers() {
  local got
  got=$(kctl get providers -A -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null || true)
  grep -qx cluster-api <<<"$got" || echo "--core cluster-api:${CAPI_VERSION}"
  grep -qx bootstrap-kubeadm <<<"$got" || echo "--bootstrap kubeadm:${CAPI_VERSION}"
  grep -qx control-plane-kubeadm <<<"$got" || echo "--control-plane kubeadm:${CAPI_VERSION}"
  grep -qx infrastructure-gcore <<<"$got" || echo "--infrastructure gcore:${PROVIDERS_VERSION}"
  grep -qx control-plane-gcore <<<"$got" || echo "--control-plane gcore:${PROVIDERS_VERSION}"
  grep -qx bootstrap-gcore <<<"$got" || echo "--bootstrap gcore:${PROVIDERS_VERSION}"
}

# webhooks_answer dry-runs the creation of a Cluster on the server: it passes only when CAPI's
# defaulting and validating webhooks (served by capi-controller-manager) reply.
webhooks_answer() {
  kctl create --dry-run=server -o name -f - >/dev/null 2>"${SANDBOX_DIR}/dry-run.log" <<EOF
apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata:
  name: webhook-probe
  namespace: default
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["10.244.0.0/16"]
  controlPlaneRef: {apiGroup: controlplane.cluster.x-k8s.io, kind: KubeadmControlPlane, name: webhook-probe}
  infrastructureRef: {apiGroup: infrastructure.cluster.x-k8s.io, kind: DockerCluster, name: webhook-probe}
EOF
}

wait_ready() {
  local deadline=$(( $(date +%s) + ${WAIT%s} )) pending
  log "waiting up to ${WAIT} for every pod to be Running and Ready"
  while :; do
    pending=$(kctl get pods -A --no-headers 2>/dev/null | awk '{split($3,r,"/"); if (($4 != "Running" || r[1] != r[2]) && $4 != "Completed") print $1"/"$2" "$4" "$3}')
    [[ -z $pending ]] && break
    if (( $(date +%s) > deadline )); then
      echo "$pending" >&2
      die "pods are not Running after ${WAIT}" "KUBECONFIG=${KUBECONFIG_FILE} kubectl describe pod -n NAMESPACE NAME; kubectl logs ..."
    fi
    log "  $(wc -l <<<"$pending") pod(s) not ready yet: $(head -n3 <<<"$pending" | awk '{print $1}' | paste -sd' ')"
    sleep 5
  done
  log "waiting for CAPI's webhooks to answer (a server-side dry-run create of a Cluster)"
  while ! webhooks_answer; do
    if (( $(date +%s) > deadline )); then
      cat "${SANDBOX_DIR}/dry-run.log" >&2
      die "CAPI's webhooks do not answer" "KUBECONFIG=${KUBECONFIG_FILE} kubectl -n capi-system logs deploy/capi-controller-manager; kubectl get validatingwebhookconfigurations"
    fi
    sleep 3
  done
}

up() {
  mkdir -p "${SANDBOX_DIR}"
  log "== host setup"
  "${ROOT}/hack/setup-host.sh"
  log "== tools: kind, kubectl, clusterctl"
  "${ROOT}/hack/tools.sh" kind kubectl clusterctl || die "building the tools failed" "run hack/tools.sh and read its output"
  if [[ ${SANDBOX_SKIP_NODE_IMAGES:-} == 1 ]] && docker image inspect "kaas/node:${K8S_VERSION}" >/dev/null 2>&1; then
    log "== images for Kubernetes ${K8S_VERSION}: SANDBOX_SKIP_NODE_IMAGES=1, using kaas/node:${K8S_VERSION} as it is"
  else
    log "== images for Kubernetes ${K8S_VERSION}"
    "${ROOT}/hack/images/all.sh" "${K8S_VERSION}" || die "building the node images failed" "run: hack/images/all.sh ${K8S_VERSION}"
  fi
  log "== Cluster API ${CAPI_VERSION} images and clusterctl repository"
  "${ROOT}/hack/capi.sh" all
  log "== cert-manager ${CM_VERSION} images and manifest"
  "${ROOT}/hack/cert-manager.sh" all
  log "== our providers ${PROVIDERS_VERSION}: image and clusterctl repository"
  "${ROOT}/hack/providers.sh" all
  grep -q '^cert-manager:' "${CLUSTERCTL_CONFIG}" || die "${CLUSTERCTL_CONFIG} names no cert-manager" "run: hack/cert-manager.sh manifest"

  log "== kind cluster ${NAME} (Kubernetes ${K8S_VERSION}, docker network ${NETWORK})"
  # A new cluster has none of the images loaded into an old one.
  cluster_exists || rm -f "${SANDBOX_DIR}/loaded-images"
  KIND_EXPERIMENTAL_DOCKER_NETWORK="${NETWORK}" KIND_CLUSTER="${NAME}" K8S_VERSION="${K8S_VERSION}" \
    KIND_KUBECONFIG="${KUBECONFIG_FILE}" KIND_WAIT="${WAIT}" "${ROOT}/hack/kind-cluster.sh" create \
    || die "the kind cluster ${NAME} did not come up" "make sandbox-down, then make sandbox again; hack/kind-cluster.sh's output above says more"

  log "== controller images into ${NAME}"
  local changed
  changed=$(load_images) || exit 1

  log "== fakecloud, and the service cluster's nodes on its external network"
  "${ROOT}/hack/sandbox-cloud.sh" up "${NETWORK}"
  local node addr
  while read -r node addr; do
    kctl annotate node "$node" --overwrite "kaas.sandbox/lb-member-address=${addr}" >/dev/null \
      || die "annotating node ${node} failed" "KUBECONFIG=${KUBECONFIG_FILE} kubectl get nodes"
  done < <("${ROOT}/hack/sandbox-cloud.sh" attach $(kind get nodes --name "${NAME}"))

  if providers_installed; then
    log "== providers already installed: $(kctl get providers -A --no-headers | awk '{print $2"@"$6}' | paste -sd' ')"
    # clusterctl installs a provider version once; our CRDs change with the code, so they are
    # applied from the tree the image was built from (server-side: clusterctl's labels stay).
    kctl apply --server-side --force-conflicts -f "${ROOT}/config/crd/bases" >/dev/null \
      || die "applying config/crd/bases failed" "KUBECONFIG=${KUBECONFIG_FILE} kubectl apply --server-side -f config/crd/bases"
    if [[ -n $changed ]]; then
      log "restarting the deployments whose images were rebuilt"
      local ns
      for ns in cert-manager capi-system capi-kubeadm-bootstrap-system capi-kubeadm-control-plane-system capgc-system gcore-control-plane-system gcore-bootstrap-system; do
        kctl -n "$ns" rollout restart deployment >/dev/null 2>&1 || true
      done
    fi
  else
    local flags
    flags=$(missing_providers)
    log "== clusterctl init ${flags//$'\n'/ }"
    # shellcheck disable=SC2086 # one flag and value per word
    if ! clusterctl init --config "${CLUSTERCTL_CONFIG}" --kubeconfig "${KUBECONFIG_FILE}" ${flags} \
      --wait-providers --wait-provider-timeout 600 2>&1 | tee "${SANDBOX_DIR}/clusterctl-init.log" | sed 's/^/    /' >&2; then
      die "clusterctl init failed" "read ${SANDBOX_DIR}/clusterctl-init.log; KUBECONFIG=${KUBECONFIG_FILE} kubectl get pods -A; then make sandbox again"
    fi
  fi
  wait_ready
  [[ ${SANDBOX_DEMO:-1} == 0 ]] || demo_cluster
  log "== the sandbox is ready"
  status
}

# demo_cluster makes the demo customer cluster from the providers' template (once), waits until
# it is Ready and writes its kubeconfig.
demo_cluster() {
  local cloudsb64 wait=${SANDBOX_DEMO_WAIT:-900}
  cloudsb64=$(base64 -w0 "${CACHE}/sandbox/fakecloud/clouds.yaml")
  if ! kctl get cluster "${DEMO}" -n default >/dev/null 2>&1; then
    log "== demo cluster ${DEMO}: Kubernetes ${K8S_VERSION}, hosted control plane, 1 VM and 1 bare-metal worker"
    GCORE_CLOUDS_YAML_B64="${cloudsb64}" clusterctl generate cluster "${DEMO}" --config "${CLUSTERCTL_CONFIG}" \
      --kubeconfig "${KUBECONFIG_FILE}" --infrastructure "gcore:${PROVIDERS_VERSION}" --target-namespace default \
      --kubernetes-version "${K8S_VERSION}" --worker-machine-count 1 >"${SANDBOX_DIR}/${DEMO}.yaml" \
      || die "clusterctl generate cluster ${DEMO} failed" "clusterctl generate cluster ${DEMO} --list-variables --config ${CLUSTERCTL_CONFIG} --infrastructure gcore"
    kctl apply -f "${SANDBOX_DIR}/${DEMO}.yaml" >/dev/null || die "applying ${SANDBOX_DIR}/${DEMO}.yaml failed" "kubectl apply -f ${SANDBOX_DIR}/${DEMO}.yaml"
  fi
  log "waiting up to ${wait}s for cluster ${DEMO} to be Available (control plane, then workers)"
  local deadline=$(( $(date +%s) + wait )) line
  while :; do
    line=$(kctl get machines -n default -l "cluster.x-k8s.io/cluster-name=${DEMO}" -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}' 2>/dev/null || true)
    if kctl wait --for=condition=Available "cluster/${DEMO}" -n default --timeout=10s >/dev/null 2>&1 \
      && [[ -n $line && $line != *=Pending* && $line != *=Provisioning* && $line != *=Provisioned* && $line != *=Failed* ]]; then
      break
    fi
    if (( $(date +%s) > deadline )); then
      kctl get clusters,gcorecontrolplanes,machinedeployments,machines -A >&2 || true
      die "cluster ${DEMO} is not Ready after ${wait}s" "clusterctl describe cluster ${DEMO} --config ${CLUSTERCTL_CONFIG}; kubectl -n capgc-system logs deploy/capgc-controller-manager"
    fi
    log "  ${DEMO}: $(kctl get gcorecontrolplane -n default -l "cluster.x-k8s.io/cluster-name=${DEMO}" -o jsonpath='{.items[0].status.conditions[?(@.type=="Ready")].message}' 2>/dev/null | cut -c1-80) machines: ${line:-none yet}"
    sleep 10
  done
  clusterctl get kubeconfig "${DEMO}" -n default --kubeconfig "${KUBECONFIG_FILE}" >"${SANDBOX_DIR}/${DEMO}.kubeconfig"
  log "cluster ${DEMO} is Available; kubeconfig: ${SANDBOX_DIR}/${DEMO}.kubeconfig"
}

status() {
  cluster_exists || die "no sandbox cluster" "run: make sandbox"
  echo
  kctl get providers -A
  echo
  kctl get clusters,gcorecontrolplanes,machinedeployments,machines -A 2>/dev/null || true
  echo
  cat <<EOF
Service cluster: kind cluster ${NAME} (Kubernetes ${K8S_VERSION}), docker network ${NETWORK}.
  export KUBECONFIG=${KUBECONFIG_FILE}
  kubectl get pods -A
  clusterctl --config ${CLUSTERCTL_CONFIG} describe cluster ${DEMO}
Cluster API ${CAPI_VERSION}, cert-manager ${CM_VERSION} and the gcore providers ${PROVIDERS_VERSION}
come from the local clusterctl repository in ${CACHE}/clusterctl/repository.
The cloud: fakecloud at $("${ROOT}/hack/sandbox-cloud.sh" url "${NETWORK}" 2>/dev/null || echo "(not running)")
  export OS_CLIENT_CONFIG_FILE=${CACHE}/sandbox/fakecloud/clouds.yaml
  openstack --os-cloud fakecloud-demo server list; openstack --os-cloud fakecloud-demo loadbalancer list
EOF
  if [[ -s ${SANDBOX_DIR}/${DEMO}.kubeconfig ]]; then
    cat <<EOF
The demo cluster ${DEMO}:
  kubectl --kubeconfig ${SANDBOX_DIR}/${DEMO}.kubeconfig get nodes -o wide
  (or: clusterctl get kubeconfig ${DEMO} --kubeconfig ${KUBECONFIG_FILE} > ${DEMO}.kubeconfig)
EOF
  fi
  echo "Tear down with: make sandbox-down"
}

down() {
  # The kind nodes first: they are attached to fakecloud's public network.
  if cluster_exists; then
    log "deleting kind cluster ${NAME}"
    kind delete cluster --name "${NAME}" >/dev/null 2>&1 || die "kind delete cluster --name ${NAME} failed" "docker ps -a --filter label=io.x-k8s.kind.cluster=${NAME}"
  fi
  "${ROOT}/hack/sandbox-cloud.sh" down
  # fakecloud's servers, routers, load balancers, bare-metal hosts and networks, of every instance.
  if [[ -n "$(docker ps -aq --filter label=kaas.fakecloud/instance)$(docker network ls -q --filter label=kaas.fakecloud/instance)" ]]; then
    log "removing fakecloud's containers and networks"
    (cd "${ROOT}" && go build -o bin/fakecloud ./cmd/fakecloud) || die "cannot build fakecloud" "go build ./cmd/fakecloud"
    "${ROOT}/bin/fakecloud" down --all >/dev/null || die "fakecloud down --all failed" "docker ps -a --filter label=kaas.fakecloud/instance"
  fi
  local left
  left=$(docker ps -aq --filter "label=io.x-k8s.kind.cluster=${NAME}" 2>/dev/null || true)
  if [[ -n $left ]]; then
    log "removing leftover containers of ${NAME}"
    docker rm -f $left >/dev/null || die "cannot remove containers $left" "docker rm -f $left"
  fi
  if docker network inspect "${NETWORK}" >/dev/null 2>&1; then
    if [[ -n "$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "${NETWORK}")" ]]; then
      log "docker network ${NETWORK} still has containers attached (not ours): leaving it"
    else
      log "removing docker network ${NETWORK}"
      docker network rm "${NETWORK}" >/dev/null || die "docker network rm ${NETWORK} failed" "docker network inspect ${NETWORK}"
    fi
  fi
  rm -rf "${SANDBOX_DIR}"
  log "sandbox removed (images are kept as the build cache)"
}

case "${1:-}" in
  up) up ;;
  down) docker info >/dev/null 2>&1 || { log "no Docker daemon runs: nothing to remove"; exit 0; }; command -v kind >/dev/null || die "kind is not built" "run: make tools"; down ;;
  status) status ;;
  *) die "usage: hack/sandbox.sh up|down|status" "make sandbox / make sandbox-down" ;;
esac
