#!/usr/bin/env bash
# conformance-tunnel.sh runs Kubernetes' own e2e specs for everything in which a hosted
# kube-apiserver dials into its customer cluster, so through the reverse tunnel, against an
# existing customer cluster of the running sandbox (make sandbox), by default the demo cluster:
# kubectl logs, Pods' exec and logs over websockets, Proxy version v1, kubectl port-forward,
# admission webhooks, CRD conversion webhooks and the Aggregator (a sample-apiserver).
#   1. builds e2e.test, agnhost and sample-apiserver from k8s.io/kubernetes at the newest pinned
#      version (hack/images/k8s-e2e.sh --conformance, cached);
#   2. imports the test images the customer's nodes lack into their containerd (kaas.local/e2e/...;
#      the registries the specs name are remapped there with --kube-test-repo-list);
#   3. runs the focused specs and writes a table of them (result, duration, failure) to
#      .cache/conformance/<cluster>/results.md, beside Ginkgo's JSON and JUnit reports.
#
#   hack/conformance-tunnel.sh [--cluster NAME] [--namespace NS]    (make conformance-tunnel)
#
# Env: CONFORMANCE_FOCUS, CONFORMANCE_SKIP (Ginkgo regular expressions replacing the defaults),
# CONFORMANCE_TIMEOUT (Ginkgo's suite timeout, 90m).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER=demo NS=default
while [[ $# -gt 0 ]]; do
  case $1 in
    --cluster) CLUSTER=${2:?--cluster NAME}; shift 2 ;;
    --namespace | -n) NS=${2:?--namespace NS}; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" "hack/conformance-tunnel.sh [--cluster NAME] [--namespace NS]" ;;
  esac
done
FOCUS=${CONFORMANCE_FOCUS:-'\[sig-cli\] Kubectl logs|\[sig-node\] Pods .*over websockets|\[sig-network\] Proxy version v1|\[sig-cli\] Kubectl Port forwarding|\[sig-api-machinery\] AdmissionWebhook|\[sig-api-machinery\] CustomResourceConversionWebhook|\[sig-api-machinery\] Aggregator'}
SKIP=${CONFORMANCE_SKIP:-'\[Disruptive\]|\[Flaky\]|\[Feature:'}
TIMEOUT=${CONFORMANCE_TIMEOUT:-90m}
E2E_REPO=kaas.local/e2e

[[ -s ${CACHE}/sandbox/kubeconfig ]] || die "no sandbox is running" "run: make sandbox"
kubectl --kubeconfig "${CACHE}/sandbox/kubeconfig" get cluster -n "${NS}" "${CLUSTER}" >/dev/null 2>&1 \
  || die "no Cluster ${NS}/${CLUSTER} in the sandbox" "kubectl --kubeconfig ${CACHE}/sandbox/kubeconfig get clusters -A"
WORK="${CACHE}/conformance/${CLUSTER}"
RUN="${WORK}/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "${RUN}"
WKC=$(workload_kubeconfig "${NS}" "${CLUSTER}" "${WORK}/kubeconfig")
wctl() { kubectl --kubeconfig "${WKC}" --request-timeout=20s "$@"; }
wctl get --raw /readyz >/dev/null || die "the apiserver of ${NS}/${CLUSTER} does not answer" "kubectl --kubeconfig ${WKC} get --raw /readyz"

log "building e2e.test and the test images (cached)"
E2E_TEST=$("${ROOT}/hack/images/k8s-e2e.sh" --conformance | tail -n 1)
[[ -x ${E2E_TEST} ]] || die "hack/images/k8s-e2e.sh printed no e2e.test" "run it by hand: hack/images/k8s-e2e.sh --conformance"
mapfile -t IMAGES < <(docker images --format '{{.Repository}}:{{.Tag}}' "${E2E_REPO}/*" | sort)
((${#IMAGES[@]})) || die "no ${E2E_REPO}/* images" "hack/images/k8s-e2e.sh --conformance"

# The nodes' containerd cannot pull: each image the specs run must already be there. They are
# imported every time (seconds each), so that a rebuilt image replaces the one under its tag.
mapfile -t NODES < <(wctl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
((${#NODES[@]})) || die "${NS}/${CLUSTER} has no nodes" "kubectl --kubeconfig ${WKC} get nodes"
for node in "${NODES[@]}"; do
  ctr=$(customer_node_container "${node}") || die "no docker container for node ${node}" "docker ps --filter label=kaas.fakecloud/instance"
  for img in "${IMAGES[@]}"; do
    log "importing ${img} into ${node} (${ctr})"
    docker save "${img}" | docker exec -i "${ctr}" ctr -n k8s.io images import --no-unpack --all-platforms --digests - >/dev/null \
      || die "importing ${img} into ${ctr} failed" "docker exec ${ctr} ctr -n k8s.io images ls"
  done
done

printf 'promoterE2eRegistry: %s\n' "${E2E_REPO}" > "${RUN}/repo-list.yaml"
n=$("${E2E_TEST}" --ginkgo.dry-run --ginkgo.focus="${FOCUS}" --ginkgo.skip="${SKIP}" --kubeconfig=/dev/null 2>/dev/null \
  | sed -n 's/.*Ran \([0-9]*\) of.*/\1/p' | tail -n 1)
log "running ${n:-?} specs of Kubernetes' e2e against ${NS}/${CLUSTER} (one at a time; 5-10 min), log: ${RUN}/e2e.log"
t0=$(date +%s)
set +e
(cd "${RUN}" && "${E2E_TEST}" --kubeconfig="${WKC}" --provider=skeleton --kubectl-path="$(command -v kubectl)" \
    --kube-test-repo-list="${RUN}/repo-list.yaml" --report-dir="${RUN}" --disable-log-dump \
    --ginkgo.focus="${FOCUS}" --ginkgo.skip="${SKIP}" --ginkgo.timeout="${TIMEOUT}" \
    --ginkgo.json-report=report.json --ginkgo.junit-report=junit.xml --ginkgo.no-color --ginkgo.v \
    >"${RUN}/e2e.log" 2>&1)
rc=$?
set -e
took=$(($(date +%s) - t0))
[[ -s ${RUN}/report.json ]] || die "e2e.test wrote no report (exit ${rc})" "read ${RUN}/e2e.log"

# The table: one line per spec that ran, failures first.
{
  echo "# Kubernetes e2e through the tunnel: ${NS}/${CLUSTER}"
  echo
  echo "$(date -u +%Y-%m-%d), $(git -C "${ROOT}" rev-parse --short HEAD 2>/dev/null || echo unknown), e2e.test $("${E2E_TEST}" --version 2>/dev/null | head -n1 || true), ${took} s in all."
  echo
  jq -r '[.[].SpecReports[] | select(.LeafNodeType == "It" and .State != "skipped")] as $s
    | "\($s | map(select(.State == "passed")) | length) passed, \($s | map(select(.State != "passed")) | length) failed of \($s | length).\n",
      "| result | spec | seconds | failure |", "|---|---|---:|---|",
      ($s | sort_by(.State == "passed", (.ContainerHierarchyTexts + [.LeafNodeText] | join(" "))) | .[]
        | "| \(.State) | \((.ContainerHierarchyTexts + [.LeafNodeText]) | join(" ") | gsub("\\|"; "/")) | \((.RunTime / 1e9 * 10 | round) / 10) | \(((.Failure.Message // "") + "\n") | split("\n")[0] | .[0:160] | gsub("\\|"; "/")) |")' \
    "${RUN}/report.json"
} > "${RUN}/results.md"
cp "${RUN}/results.md" "${WORK}/results.md"
cat "${RUN}/results.md"
log "reports: ${RUN} (results.md, report.json, junit.xml, e2e.log)"
((rc == 0)) || die "some specs failed (e2e.test exit ${rc})" "read ${RUN}/e2e.log; the failed specs are at the top of ${RUN}/results.md"
