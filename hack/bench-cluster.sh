#!/usr/bin/env bash
# bench-cluster.sh measures one customer cluster's life in the running sandbox (make sandbox):
# from `kubectl apply` of the template to the hosted control plane Ready, to every worker Node
# Ready (BENCH_VMS virtual machines + BENCH_BM bare-metal servers), the idle hosted control
# plane's memory and CPU (the kubelets' stats summary on the service cluster's nodes, after
# BENCH_IDLE seconds), and the deletion until fakecloud holds nothing of it. Prints a table, then
# where the time went as tables and a Mermaid gantt chart (kept in .cache/bench/<name>/timeline.md).
#
#   hack/bench-cluster.sh            (make bench-cluster)
#   hack/bench-cluster.sh --timeline NAMESPACE_JSON NODES_JSON   (the timeline of saved answers)
#
# Env: BENCH_VMS (2), BENCH_BM (1), BENCH_IDLE (60), BENCH_TIMEOUT (900 s per wait),
# BENCH_VERSION (the newest pinned version), BENCH_CIDR (10.6.200.0/24).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# TIMELINE_JQ turns the cluster namespace's objects (a kubectl List of the Cluster, its
# GcoreControlPlane, pods, Machines, GcoreMachines and GcoreConfigs) and the customer cluster's
# Nodes ($nodes) into where the time went, in seconds after the Cluster was created: data gives
# the figures once ({pods, conditions, workers}); markdown renders them as tables and gantt as a
# Mermaid gantt chart (one section per control-plane pod, one for the conditions, one per
# worker Machine), so the picture and the tables always show the same numbers. A time that is
# not known is "-" in the tables and leaves its bar out of the chart.
# shellcheck disable=SC2016 # jq's variables, not the shell's
TIMELINE_JQ='
  def cond($c; $type): [$c.status.conditions[]? | select(.type == $type and .status == "True")][0].lastTransitionTime;
  def data:
    (.items | map(select(.kind == "Cluster"))[0]) as $cl
    | ($cl.metadata.creationTimestamp | fromdateiso8601) as $t0
    | def s: if . == null then null else fromdateiso8601 - $t0 end;
    .items as $all
    | {
        cluster: $cl.metadata.name,
        pods: [$all[] | select(.kind == "Pod") | {
          name: .metadata.name, created: (.metadata.creationTimestamp | s), scheduled: (cond(.; "PodScheduled") | s),
          started: ([.status.containerStatuses[]?.state.running.startedAt] | min | s), ready: (cond(.; "Ready") | s)}],
        conditions: (
          [$all[] | select(.kind == "Cluster") | {name: "Cluster ControlPlaneInitialized", at: (cond(.; "ControlPlaneInitialized") | s)}]
          + [$all[] | select(.kind == "GcoreControlPlane") | .status.conditions[]? | select(.status == "True")
              | {name: "GcoreControlPlane \(.type)", at: (.lastTransitionTime | s)}] | sort_by(.at)),
        workers: [$all[] | select(.kind == "Machine") | . as $m
          | ([$all[] | select(.kind == "GcoreConfig" and .metadata.name == $m.spec.bootstrap.configRef.name)][0]) as $bc
          | ([$all[] | select(.kind == "GcoreMachine" and .metadata.name == $m.spec.infrastructureRef.name)][0]) as $gm
          | ([$nodes.items[] | select(.metadata.name == $m.status.nodeRef.name)][0]) as $n
          | {name: $m.metadata.name, created: ($m.metadata.creationTimestamp | s), bootstrap: (cond($bc; "DataSecretAvailable") | s),
             active: (cond($gm; "InstanceReady") | s), registered: ($n.metadata.creationTimestamp | s),
             ready: (if $n == null then null else cond($n; "Ready") end | s)}]
      };
  def t: if . == null then "-" else tostring end;
  def row: "| " + (map(t) | join(" | ")) + " |";
  def markdown:
    "| control-plane pod | created | scheduled | started | ready |",
    "| --- | ---: | ---: | ---: | ---: |",
    (.pods[] | [.name, .created, .scheduled, .started, .ready] | row),
    "",
    "| condition | True at |",
    "| --- | ---: |",
    (.conditions[] | [.name, .at] | row),
    "",
    "| worker Machine | created | bootstrap data | server ACTIVE | Node registered | Node Ready |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    (.workers[] | [.name, .created, .bootstrap, .active, .registered, .ready] | row);
  # Mermaid: no ":", ";" or "#" in a name; times are milliseconds after the Cluster was created,
  # read as Unix times (dateFormat x: Mermaid 11 reads a start in dateFormat X as milliseconds
  # too), so the axis (minutes:seconds) starts at 00:00.
  def safe: gsub("[:;#]"; " ");
  def short($cluster): ltrimstr($cluster + "-") | safe;
  def ms: . * 1000 | floor;
  def bar($name; $from; $to):
    if $from == null or $to == null or $to < $from then empty
    elif $to == $from then "    \($name) :milestone, \($from | ms), \($to | ms)"
    else "    \($name) :\($from | ms), \($to | ms)" end;
  # steps: one bar per event that is known, from the last known event before it.
  def steps($times; $labels):
    range(1; $times | length) as $i
    | ([$times[:$i][] | select(. != null)] | last) as $from
    | bar($labels[$i]; $from; $times[$i]);
  def gantt:
    .cluster as $cl
    | "```mermaid",
      "gantt",
      "    title Where the time went, seconds after the Cluster was created",
      "    dateFormat x",
      "    axisFormat %M:%S",
      "    todayMarker off",
      (.pods[] | "    section \(.name | short($cl))",
        steps([.created, .scheduled, .started, .ready]; ["created", "scheduled", "started", "ready"])),
      "    section conditions",
      (.conditions[] | select(.at != null) | bar(.name | safe; .at; .at)),
      (.workers[] | "    section \(.name | short($cl))",
        steps([0, .created, .bootstrap, .active, .registered, .ready];
          ["", "Machine created", "bootstrap data", "server ACTIVE", "Node registered", "Node Ready"])),
      "```";
'

# timeline_render NAMESPACE_JSON NODES_JSON prints the timeline (tables, then the gantt chart)
# from the two kubectl answers. hack/bench-cluster.sh --timeline FILE FILE runs it on saved
# answers, without a sandbox (hack/testdata/bench-timeline/ holds a sample).
timeline_render() {
  jq -r --argjson nodes "$2" "${TIMELINE_JQ}"' data | markdown, "", gantt' <<<"$1"
}

if [[ ${1:-} == --timeline ]]; then
  [[ $# -eq 3 ]] || die "usage: hack/bench-cluster.sh --timeline NAMESPACE_JSON_FILE NODES_JSON_FILE" \
    "hack/bench-cluster.sh --timeline hack/testdata/bench-timeline/namespace.json hack/testdata/bench-timeline/nodes.json"
  timeline_render "$(cat "$2")" "$(cat "$3")"
  exit
fi

KUBECONFIG_FILE="${CACHE}/sandbox/kubeconfig"
CLUSTERCTL_CONFIG="${CACHE}/clusterctl/clusterctl.yaml"
CLOUDS="${CACHE}/sandbox/fakecloud/clouds.yaml"
[[ -s ${KUBECONFIG_FILE} && -s ${CLOUDS} ]] || die "no sandbox is running" "run: make sandbox"
VMS=${BENCH_VMS:-2} BM=${BENCH_BM:-1} IDLE=${BENCH_IDLE:-60} TIMEOUT=${BENCH_TIMEOUT:-900}
VERSION=${BENCH_VERSION:-$(jq -r '.kubernetes[-1].version' "${ROOT}/versions/versions.json")}
PROVIDERS_VERSION=$(jq -er '.providers' "${ROOT}/versions/versions.json")
NAME="bench-$(date +%s)"
NS="${NAME}"
WORK="${CACHE}/bench/${NAME}"
mkdir -p "${WORK}"
kctl() { kubectl --kubeconfig "${KUBECONFIG_FILE}" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# wait_for WHAT CMD...: polls CMD every 2 s until it succeeds or TIMEOUT passes.
wait_for() {
  local what=$1; shift
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || die "${what}: not reached after ${TIMEOUT}s" "kubectl --kubeconfig ${KUBECONFIG_FILE} get clusters,gcorecontrolplanes,machines -n ${NS}; ${WORK} holds the cluster's YAML"
    sleep 2
  done
}

cp_ready() { [[ "$(kctl get gcorecontrolplane -n "${NS}" "${NAME}-control-plane" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }
nodes_ready() {
  kctl get secret -n "${NS}" "${NAME}-kubeconfig" -o jsonpath='{.data.value}' | base64 -d >"${WORK}/kubeconfig" || return 1
  local ready
  ready=$(kubectl --kubeconfig "${WORK}/kubeconfig" --request-timeout=5s get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)
  (( ready == VMS + BM ))
}
cloud_empty() {
  local left
  left=$(OS_CLIENT_CONFIG_FILE="${CLOUDS}" openstack --os-cloud fakecloud-demo server list -f value -c Name | grep -c "^${NAME}-" || true)
  local lbs; lbs=$(OS_CLIENT_CONFIG_FILE="${CLOUDS}" openstack --os-cloud fakecloud-demo loadbalancer list -f value -c name) || return 1
  (( left == 0 )) && ! grep -q -- "-${NAME}-apiserver" <<<"${lbs}"
}

# timeline prints where the time went, from the objects' own timestamps (seconds after the
# Cluster was created): each control-plane pod created, scheduled, started and ready; the
# control plane's conditions; for each worker Machine its creation, its bootstrap data, its
# server ACTIVE and its Node registered and Ready.
timeline() {
  local ns_json wl_json
  ns_json=$(kctl get cluster,gcorecontrolplanes,pods,machines,gcoremachines,gcoreconfigs -n "${NS}" -o json) || return 1
  wl_json=$(kubectl --kubeconfig "${WORK}/kubeconfig" --request-timeout=10s get nodes -o json) || return 1
  timeline_render "${ns_json}" "${wl_json}"
}

log "rendering ${NAME}: Kubernetes ${VERSION}, ${VMS} VM and ${BM} bare-metal workers"
kctl create namespace "${NS}" >/dev/null
GCORE_CLOUDS_YAML_B64=$(base64 -w0 "${CLOUDS}") GCORE_NODE_CIDR="${BENCH_CIDR:-10.6.200.0/24}" GCORE_BAREMETAL_MACHINE_COUNT="${BM}" \
  clusterctl generate cluster "${NAME}" --config "${CLUSTERCTL_CONFIG}" --kubeconfig "${KUBECONFIG_FILE}" \
  --infrastructure "gcore:${PROVIDERS_VERSION}" --target-namespace "${NS}" --kubernetes-version "${VERSION}" \
  --worker-machine-count "${VMS}" >"${WORK}/cluster.yaml" || die "clusterctl generate cluster failed" "clusterctl generate cluster --list-variables --infrastructure gcore --config ${CLUSTERCTL_CONFIG}"

t0=$(now)
kctl apply -f "${WORK}/cluster.yaml" >/dev/null || die "applying ${WORK}/cluster.yaml failed"
log "applied; waiting for the hosted control plane"
wait_for "control plane Ready" cp_ready
t_cp=$(since "$t0")
log "control plane Ready after ${t_cp} s; waiting for $((VMS + BM)) Nodes"
wait_for "all Nodes Ready" nodes_ready
t_nodes=$(since "$t0")
log "all Nodes Ready after ${t_nodes} s; idling ${IDLE} s before measuring the control plane"
sleep "${IDLE}"

# The kubelets' view (the stats summary API) on every service-cluster node: the control
# plane is the pods in the cluster's namespace.
mem=0 cpu=0
for node in $(kctl get nodes -o name); do
  read -r m c < <(kctl get --raw "/api/v1/nodes/${node#node/}/proxy/stats/summary" \
    | jq -r --arg ns "${NS}" '[.pods[] | select(.podRef.namespace == $ns)] | "\(map(.memory.workingSetBytes // 0) | add // 0) \(map(.cpu.usageNanoCores // 0) | add // 0)"')
  mem=$((mem + ${m:-0})); cpu=$((cpu + ${c:-0}))
done
pods=$(kctl get pods -n "${NS}" --no-headers | wc -l)
timeline >"${WORK}/timeline.md" || log "could not read the timeline (see above); the table below is still right"

t1=$(now)
log "deleting ${NAME}"
kctl delete cluster -n "${NS}" "${NAME}" --wait=false >/dev/null
wait_for "Cluster deleted" bash -c "! kubectl --kubeconfig ${KUBECONFIG_FILE} get cluster -n ${NS} ${NAME}"
wait_for "nothing left in fakecloud" cloud_empty
t_del=$(since "$t1")
kctl delete namespace "${NS}" --wait=false >/dev/null

cat <<EOF

| measure (${VERSION}, ${VMS} VM + ${BM} bare-metal workers) | value | target |
| --- | --- | --- |
| apply -> hosted control plane Ready | ${t_cp} s | 60 s |
| apply -> all $((VMS + BM)) Nodes Ready | ${t_nodes} s | 180 s |
| idle hosted control plane (${pods} pods), memory | $(numfmt --to=iec-i --suffix=B "${mem}") | |
| idle hosted control plane, CPU | $(awk -v c="$cpu" 'BEGIN{printf "%.1f %% of a core", c/1e7}') | |
| Cluster deleted -> nothing left in fakecloud | ${t_del} s | |

Where the time went (seconds after the Cluster was created; also in ${WORK}/timeline.md):

$(cat "${WORK}/timeline.md")
EOF
