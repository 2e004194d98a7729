#!/usr/bin/env bash
# bench-tunnel.sh measures the reverse tunnel (OpenVPN, providers/vpn) of an existing customer
# cluster in the running sandbox (make sandbox), by default the demo cluster:
#   1. control plane Ready -> VPNReady True, and the server pod Ready -> VPNReady True, from the
#      objects' own timestamps (each condition's lastTransitionTime);
#   2. the server pod deleted -> `kubectl logs` of a test pod works again (BENCH_TUNNEL_REPEAT
#      times; a kubectl logs begun every BENCH_TUNNEL_POLL s, given up after BENCH_TUNNEL_GIVEUP
#      s), and for each new server pod, its Ready -> VPNReady True;
#   3. every client container beside kube-apiserver restarted (`kill 1` in it) -> `kubectl logs`
#      works again (BENCH_TUNNEL_REPEAT times); then the first kubectl logs of a pod on each node;
#   4. the working set of the server container and of each client container, read from the
#      containers' memory cgroups inside the node containers (the customer's node running the
#      server is a fakecloud docker container, the apiserver's the kind node);
#   5. the round trip of `kubectl exec POD -- true` through the tunnel (BENCH_TUNNEL_EXECS
#      times; `kubectl get pod`, which needs no tunnel, beside it);
#   6. port-forward throughput: a 64 MiB blob fetched with curl through `kubectl port-forward`.
# The test pod (kaas.local/busybox serving the blob with httpd) is made and deleted here. Prints
# a table and writes it, with the disruptions as a Mermaid gantt chart, to
# .cache/bench/tunnel-<cluster>/results.md (and a copy per run, results-<time>.md).
#
#   hack/bench-tunnel.sh [--cluster NAME] [--namespace NS] [--node NODE]   (make bench-tunnel)
#
# Env: BENCH_TUNNEL_CLUSTER (demo), BENCH_TUNNEL_NAMESPACE (default), BENCH_TUNNEL_NODE (the
# worker for the test pod; the scheduler's pick), BENCH_TUNNEL_REPEAT (3), BENCH_TUNNEL_EXECS (20),
# BENCH_TUNNEL_POLL (0.2 s), BENCH_TUNNEL_GIVEUP (120 s), BENCH_TUNNEL_FETCHES (3).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER=${BENCH_TUNNEL_CLUSTER:-demo}
NS=${BENCH_TUNNEL_NAMESPACE:-default}
NODE=${BENCH_TUNNEL_NODE:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --cluster) CLUSTER=${2:?--cluster NAME}; shift 2 ;;
    --namespace | -n) NS=${2:?--namespace NS}; shift 2 ;;
    --node) NODE=${2:?--node NODE}; shift 2 ;;
    *) die "unknown argument $1" "hack/bench-tunnel.sh [--cluster NAME] [--namespace NS] [--node NODE]" ;;
  esac
done
REPEAT=${BENCH_TUNNEL_REPEAT:-3} EXECS=${BENCH_TUNNEL_EXECS:-20} FETCHES=${BENCH_TUNNEL_FETCHES:-3}
POLL=${BENCH_TUNNEL_POLL:-0.2} GIVEUP=${BENCH_TUNNEL_GIVEUP:-120}
# A disruption whose `kubectl logs` never fails within this long is reported as such, not waited out.
NOFAIL=30
TEST_IMAGE=kaas.local/busybox:1.35.0
SERVER_NS=kube-system SERVER_LABEL=app.kubernetes.io/name=kaas-vpn-server SERVER_CTR=openvpn CLIENT_CTR=vpn-client
APISERVER_LABEL="cluster.x-k8s.io/cluster-name=${CLUSTER},app.kubernetes.io/component=apiserver"

KUBECONFIG_FILE="${CACHE}/sandbox/kubeconfig"
WORK="${CACHE}/bench/tunnel-${CLUSTER}"
mkdir -p "${WORK}"
[[ -s ${KUBECONFIG_FILE} ]] || die "no sandbox is running" "run: make sandbox"
kctl() { kubectl --kubeconfig "${KUBECONFIG_FILE}" "$@"; }
kctl get nodes >/dev/null 2>&1 || die "the sandbox's service cluster does not answer" "make sandbox-status"
CP=$(kctl get cluster -n "${NS}" "${CLUSTER}" -o jsonpath='{.spec.controlPlaneRef.name}' 2>/dev/null || true)
[[ -n ${CP} ]] || die "no Cluster ${NS}/${CLUSTER} with a control plane in the sandbox" "kubectl --kubeconfig ${KUBECONFIG_FILE} get clusters -A"
WKC=$(workload_kubeconfig "${NS}" "${CLUSTER}" "${WORK}/kubeconfig")
wctl() { kubectl --kubeconfig "${WKC}" --request-timeout=10s "$@"; }
# wk: no request timeout, for what streams or waits (port-forward, wait).
wk() { kubectl --kubeconfig "${WKC}" "$@"; }

now() { date +%s.%N; }
# sub A B prints B - A in seconds, one decimal.
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
epoch() { date -d "$1" +%s; }
# stats prints "median p90 max" of the numbers on stdin (nearest rank for p90).
stats() {
  sort -n | awk '{v[NR]=$1} END{if (NR == 0) {print "- - -"; exit}
    m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
    r = int(0.9 * NR); if (r < 0.9 * NR) r++
    printf "%.2f %.2f %.2f\n", m, v[r], v[NR]}'
}
# met VALUE TARGET: " (not met)" when VALUE (a number) is above TARGET, else "".
met() { awk -v v="$1" -v t="$2" 'BEGIN{if (v != "" && v != "-" && v + 0 > t + 0) print " (not met)"}'; }

cp_cond() { # cp_cond TYPE FIELD
  kctl get gcorecontrolplane -n "${NS}" "${CP}" -o jsonpath="{.status.conditions[?(@.type==\"$1\")].$2}"
}
# server_pod prints the server pod that is not being deleted (the newest), with its node.
server_pod() {
  wctl get pods -n "${SERVER_NS}" -l "${SERVER_LABEL}" -o json \
    | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | sort_by(.metadata.creationTimestamp) | last // empty | "\(.metadata.name) \(.spec.nodeName // "")"'
}
server_ready_at() { # server_ready_at POD: the Ready condition's lastTransitionTime when True
  wctl get pod -n "${SERVER_NS}" "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastTransitionTime}' \
    | awk '$1 == "True" {print $2}'
}
apiserver_pods() { kctl get pods -n "${NS}" -l "${APISERVER_LABEL}" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.nodeName}{"\n"}{end}'; }

# wait_until SECONDS WHAT CMD...: polls CMD every second; false when SECONDS pass.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || { log "${what}: not after $1 s"; return 1; }
    sleep 1
  done
}
vpn_true() { [[ $(cp_cond VPNReady status) == True ]]; }
server_ready() { local p; read -r p _ < <(server_pod) && [[ -n $p && -n $(server_ready_at "$p") ]]; }
logs_work() { wctl logs -n default "${POD}" >/dev/null 2>&1; }
clients_running() {
  [[ -z $(kctl get pods -n "${NS}" -l "${APISERVER_LABEL}" -o json \
    | jq -r --arg c "${CLIENT_CTR}" '.items[] | .status.containerStatuses[]? | select(.name == $c and .state.running == null) | .name') ]]
}

# --- the node containers and the memory cgroups -------------------------------------------


# working_set CONTAINER ID prints the working set (bytes) of the container runtime's container ID
# inside the node container CONTAINER: memory usage less inactive file pages, as the kubelet
# (cAdvisor) and crictl stats count it; cgroup v1 or v2.
working_set() {
  docker exec "$1" sh -c '
    id=$1
    d=$(find /sys/fs/cgroup/memory -type d -name "*${id}*" 2>/dev/null | head -n1)
    if [ -n "$d" ]; then
      u=$(cat "$d/memory.usage_in_bytes"); i=$(awk "\$1 == \"total_inactive_file\" {print \$2}" "$d/memory.stat")
    else
      d=$(find /sys/fs/cgroup -type d -name "*${id}*" 2>/dev/null | head -n1)
      [ -n "$d" ] || exit 1
      u=$(cat "$d/memory.current"); i=$(awk "\$1 == \"inactive_file\" {print \$2}" "$d/memory.stat")
    fi
    echo $(( u > ${i:-0} ? u - ${i:-0} : 0 ))' sh "$2"
}
container_id() { # container_id KUBECTL_FN NAMESPACE POD CONTAINER
  "$1" get pod -n "$2" "$3" -o json | jq -r --arg c "$4" '.status.containerStatuses[] | select(.name == $c) | .containerID | sub("^[a-z]+://"; "")'
}
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b/1048576}'; }

# --- the test pod --------------------------------------------------------------------------

POD="bench-tunnel-$(date +%s)"
PF_PID=""
cleanup() {
  [[ -n ${PF_PID} ]] && kill "${PF_PID}" 2>/dev/null
  wctl delete pod -n default "${POD}" --ignore-not-found --wait=false >/dev/null 2>&1 || log "could not delete the test pod default/${POD}: delete it by hand"
}
trap cleanup EXIT

COMMIT=$(git -C "${ROOT}" rev-parse --short HEAD 2>/dev/null || echo unknown) STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
log "tunnel of ${NS}/${CLUSTER} (control plane ${CP}); commit ${COMMIT}; results in ${WORK}"
if ! vpn_true; then
  log "VPNReady is not True ($(cp_cond VPNReady reason): $(cp_cond VPNReady message)); waiting up to ${GIVEUP} s"
  wait_until "${GIVEUP}" "VPNReady True" vpn_true || die "VPNReady is not True: $(cp_cond VPNReady message)" "kubectl --kubeconfig ${KUBECONFIG_FILE} get gcorecontrolplanes -n ${NS}"
fi

# 1. From the objects' own timestamps, before anything here disturbs the tunnel.
read -r SPOD SNODE < <(server_pod) || die "no server pod in ${SERVER_NS} of ${CLUSTER}" "kubectl --kubeconfig ${WKC} get pods -n ${SERVER_NS} -l ${SERVER_LABEL}"
cp_ready_ts=$(cp_cond Ready lastTransitionTime) vpn_ts=$(cp_cond VPNReady lastTransitionTime) srv_ready_ts=$(server_ready_at "${SPOD}")
cp_to_vpn=$(( $(epoch "${vpn_ts}") - $(epoch "${cp_ready_ts}") ))
srv_to_vpn=-
[[ -n ${srv_ready_ts} ]] && srv_to_vpn=$(( $(epoch "${vpn_ts}") - $(epoch "${srv_ready_ts}") ))
log "control plane Ready ${cp_ready_ts}, server pod ${SPOD} Ready ${srv_ready_ts:-not yet}, VPNReady True ${vpn_ts}"
note_first=""
if [[ ${srv_to_vpn} != - ]] && (( srv_to_vpn < 0 )); then
  note_first=" (VPNReady has been True since before this server pod was Ready: the controller did not see its predecessor go)"
fi

# 4. Memory, idle, before the load below.
srv_node_ctr=$(customer_node_container "${SNODE}") || die "no docker container for customer node ${SNODE}" "docker ps --filter label=kaas.fakecloud/instance"
srv_ws=$(working_set "${srv_node_ctr}" "$(container_id wctl "${SERVER_NS}" "${SPOD}" "${SERVER_CTR}")") \
  || die "no memory cgroup for ${SERVER_NS}/${SPOD} ${SERVER_CTR} in ${srv_node_ctr}"
cli_ws=0 cli_list=() n_api=0
while read -r apod anode; do
  [[ -n ${apod} ]] || continue
  docker inspect "${anode}" >/dev/null 2>&1 || die "no docker container named after service-cluster node ${anode}" "kind get nodes --name kaas-sandbox"
  ws=$(working_set "${anode}" "$(container_id kctl "${NS}" "${apod}" "${CLIENT_CTR}")") || die "no memory cgroup for ${NS}/${apod} ${CLIENT_CTR} in ${anode}"
  cli_ws=$((cli_ws + ws)); cli_list+=("$(mib "${ws}")"); n_api=$((n_api + 1))
done < <(apiserver_pods)
(( n_api > 0 )) || die "no apiserver pod of ${CLUSTER} in ${NS}"
log "working set: server ${SERVER_CTR} $(mib "${srv_ws}") (node ${SNODE}, container ${srv_node_ctr}), ${n_api} client(s) $(mib "${cli_ws}")"

# The test pod.
log "test pod default/${POD} (${TEST_IMAGE}${NODE:+ on ${NODE}}): a 64 MiB blob behind httpd"
jq -n --arg name "${POD}" --arg image "${TEST_IMAGE}" --arg node "${NODE}" '{
  apiVersion: "v1", kind: "Pod", metadata: {name: $name, namespace: "default", labels: {app: "bench-tunnel"}},
  spec: ({terminationGracePeriodSeconds: 1, containers: [{name: "web", image: $image, imagePullPolicy: "IfNotPresent",
    command: ["sh", "-c", "mkdir -p /www && dd if=/dev/urandom of=/www/blob bs=1M count=64 2>/dev/null && echo bench-tunnel-ready && exec httpd -f -p 8080 -h /www"],
    ports: [{containerPort: 8080}], readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}}]}
    + (if $node == "" then {} else {nodeName: $node} end))}' | wctl apply -f - >/dev/null || die "cannot create the test pod"
wk wait -n default --for=condition=Ready "pod/${POD}" --timeout=120s >/dev/null || die "the test pod is not Ready" "kubectl --kubeconfig ${WKC} describe pod -n default ${POD}"
PNODE=$(wctl get pod -n default "${POD}" -o jsonpath='{.spec.nodeName}')
wait_until 60 "kubectl logs of the test pod" logs_work || die "kubectl logs of the test pod does not work through the tunnel"

# 5. exec round trips, and for comparison a request that stays in the service cluster.
: >"${WORK}/exec.txt"; : >"${WORK}/get.txt"
exec_fail=0
for _ in $(seq "${EXECS}"); do
  t=$(now); wctl exec -n default "${POD}" -- true >/dev/null 2>&1 || exec_fail=$((exec_fail + 1)); sub "$t" "$(now)" >>"${WORK}/exec.txt"; echo >>"${WORK}/exec.txt"
  t=$(now); wctl get pod -n default "${POD}" >/dev/null 2>&1; sub "$t" "$(now)" >>"${WORK}/get.txt"; echo >>"${WORK}/get.txt"
done
read -r exec_med exec_p90 exec_max < <(stats <"${WORK}/exec.txt")
read -r get_med get_p90 _ < <(stats <"${WORK}/get.txt")
log "kubectl exec -- true: median ${exec_med} s, p90 ${exec_p90} s, max ${exec_max} s (${exec_fail} failed); kubectl get pod: median ${get_med} s"

# 6. port-forward throughput.
wk port-forward -n default "pod/${POD}" :8080 >"${WORK}/port-forward.log" 2>&1 &
PF_PID=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "${WORK}/port-forward.log")
  [[ -n ${port} ]] && break
  sleep 0.2
done
[[ -n ${port} ]] || die "kubectl port-forward announced no port: $(cat "${WORK}/port-forward.log")"
: >"${WORK}/fetch.txt"
for i in $(seq "${FETCHES}"); do
  read -r size secs < <(curl -s -o /dev/null --max-time 300 -w '%{size_download} %{time_total}\n' "http://127.0.0.1:${port}/blob" || echo "0 0")
  if (( size != 64 * 1048576 )); then
    log "fetch ${i}: ${size} bytes in ${secs} s, not the 64 MiB blob: $(tail -n2 "${WORK}/port-forward.log")"
    continue
  fi
  awk -v b="$size" -v s="$secs" 'BEGIN{printf "%.1f\n", b/s/1e6}' >>"${WORK}/fetch.txt"
  log "fetch ${i}: 64 MiB in ${secs} s, $(tail -n1 "${WORK}/fetch.txt") MB/s"
done
kill "${PF_PID}" 2>/dev/null; wait "${PF_PID}" 2>/dev/null || true; PF_PID=""
read -r pf_med _ pf_max < <(stats <"${WORK}/fetch.txt")
pf_all=$(paste -sd, "${WORK}/fetch.txt" | sed 's/,/, /g')

# --- disruptions ---------------------------------------------------------------------------

# A disruption is seen through `kubectl logs` of the test pod, started every POLL s whether or
# not the ones before have answered (a request on a connection the tunnel lost may hang rather
# than fail), each given PROBE_TIMEOUT s, at most PROBE_MAX at once. A probe is bad when it fails
# or takes more than SLOW s (a quiet tunnel answers in a few tenths).
PROBE_TIMEOUT=30 PROBE_MAX=25 SLOW=2
# probe FILE START: one kubectl logs, begun at START; appends "E START END RC MESSAGE" to FILE.
probe() {
  local s=$2 e rc=0 out
  out=$(wctl logs -n default "${POD}" --request-timeout="${PROBE_TIMEOUT}s" 2>&1 >/dev/null) || rc=1
  e=$(now)
  printf 'E %s %s %s %s\n' "$s" "$e" "$rc" "$(tail -n1 <<<"${out}" | tr -s '[:space:]' ' ')" >>"$1"
}
# PROBES_AWK reads a probe file ("S START" at each launch, "E ..." at each end) at time now and
# prints, in seconds after t0: the first bad probe's start, the first end of a probe that worked
# after it (a probe begun later, or a slow one that got its answer), the longest probe, the
# number of failed probes, and the first bad probe's message; "none" when no probe was bad.
# shellcheck disable=SC2016 # awk's variables, not the shell's
PROBES_AWK='
  $1 == "S" { pending[$2] = 1 }
  $1 == "E" { delete pending[$2]; n++; s[n] = $2 + 0; e[n] = $3 + 0; rc[n] = $4 + 0; m = ""
              for (i = 5; i <= NF; i++) m = m (i > 5 ? " " : "") $i; msg[n] = m }
  END {
    bad = ""; longest = 0; failed = 0
    for (i = 1; i <= n; i++) {
      d = e[i] - s[i]; if (d > longest) longest = d; if (rc[i] != 0) failed++
      if ((rc[i] != 0 || d > slow) && (bad == "" || s[i] < bad + 0)) { bad = s[i]; bmsg = rc[i] != 0 ? msg[i] : sprintf("answered after %.1f s", d) }
    }
    for (x in pending) {
      if (now - x > longest) longest = now - x
      if (now - x > slow && (bad == "" || x + 0 < bad + 0)) { bad = x + 0; bmsg = sprintf("no answer after %.1f s", now - x) }
    }
    if (bad == "") { print "none"; exit }
    back = ""
    for (i = 1; i <= n; i++)
      if (rc[i] == 0 && e[i] > bad && (s[i] > bad || e[i] - s[i] > slow) && (back == "" || e[i] < back + 0)) back = e[i]
    printf "%.1f %s %.1f %d %s\n", bad - t0, (back == "" ? "-" : sprintf("%.1f", back - t0)), longest, failed, bmsg
  }'
# wait_back T0 NAME: probes until a bad probe has been followed by one that works, or GIVEUP s
# pass (NOFAIL s when no probe was bad), waits for the probes still out, and sets, in seconds
# after T0 ("" when not seen): FAIL_AT (the first bad probe's start), BACK_AT (kubectl logs
# works again), and LONGEST (the longest probe), FAILED (failed probes), FAIL_MSG. The probes
# are kept in WORK/probes-NAME.txt.
wait_back() {
  local t0=$1 f="${WORK}/probes-$2.txt" t el v pids=()
  : >"$f"
  while :; do
    t=$(now)
    if (( $(jobs -rp | wc -l) < PROBE_MAX )); then
      printf 'S %s\n' "$t" >>"$f"
      probe "$f" "$t" &
      pids+=($!)
    fi
    v=$(awk -v now="$t" -v t0="$t0" -v slow="${SLOW}" "${PROBES_AWK}" "$f")
    el=$(sub "$t0" "$t")
    [[ ${v} != none && $(cut -d' ' -f2 <<<"$v") != - ]] && break
    awk -v e="$el" -v g="${GIVEUP}" 'BEGIN{exit !(e > g)}' && break
    [[ ${v} == none ]] && awk -v e="$el" -v g="${NOFAIL}" 'BEGIN{exit !(e > g)}' && break
    sleep "${POLL}"
  done
  wait "${pids[@]}" 2>/dev/null || true
  v=$(awk -v now="$(now)" -v t0="$t0" -v slow="${SLOW}" "${PROBES_AWK}" "$f")
  FAIL_AT="" BACK_AT="" LONGEST="" FAILED=0 FAIL_MSG=""
  if [[ ${v} == none ]]; then
    LONGEST=$(awk '$1 == "E" {d = $3 - $2; if (d > m) m = d} END{printf "%.1f", m}' "$f")
    return 1
  fi
  read -r FAIL_AT BACK_AT LONGEST FAILED FAIL_MSG <<<"$v"
  [[ ${BACK_AT} == - ]] && { BACK_AT=""; return 1; }
  return 0
}

# judge_disruption ARRAY T0 TAG waits (wait_back) for kubectl logs to work again after the
# disruption issued at T0, logs what it saw, appends the seconds to work again (GIVEUP when it
# did not) to the array named ARRAY, and sets note when there is something to say.
judge_disruption() {
  local -n back=$1
  note=""
  if wait_back "$2" "$3"; then
    log "  kubectl logs bad from ${FAIL_AT} s (${FAIL_MSG}), works again after ${BACK_AT} s; ${FAILED} probe(s) failed, the longest took ${LONGEST} s"
    back+=("${BACK_AT}")
  elif [[ -z ${FAIL_AT} ]]; then
    note="kubectl logs never failed nor took over ${SLOW} s in ${NOFAIL} s (the longest ${LONGEST} s)"; log "  ${note}"
  else
    note="kubectl logs bad from ${FAIL_AT} s (${FAIL_MSG}) and not working again in ${GIVEUP} s"; log "  ${note}"
    back+=("${GIVEUP}")
  fi
}


# vpn_after T0: waits up to 30 s for VPNReady True with a lastTransitionTime after T0 and prints
# that time, or nothing (VPNReady stayed True through the disruption, or is not True again).
vpn_after() {
  local t0=$1 ts
  for _ in $(seq 30); do
    ts=$(cp_cond VPNReady lastTransitionTime)
    if [[ $(cp_cond VPNReady status) == True ]] && (( $(epoch "$ts") >= ${t0%.*} )); then echo "$ts"; return; fi
    sleep 1
  done
}

# rel T0 TIMESTAMP: seconds from T0 (epoch, fractional) to an RFC 3339 time (1 s resolution).
rel() { [[ -n $2 && $2 != - ]] && sub "$1" "$(epoch "$2")"; }

: >"${WORK}/disruptions.tsv"
# record KIND N T0 READY_TS VPN_TS NOTE: one line of disruptions.tsv (seconds after T0): kind,
# n, logs bad from, logs back, pod/container ready, VPNReady True, longest probe, failed probes,
# note.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${FAIL_AT:--}" "${BACK_AT:--}" "$(rel "$3" "$4" || echo -)" "$(rel "$3" "$5" || echo -)" \
    "${LONGEST:--}" "${FAILED:-0}" "$6" >>"${WORK}/disruptions.tsv"
}

# 2. The server pod deleted.
srv_back=() srv_vpn=() srv_vpn_s=() SRV_SINCE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for i in $(seq "${REPEAT}"); do
  if ! { wait_until 120 "server pod Ready" server_ready && wait_until 120 "VPNReady True" vpn_true && wait_until 60 "kubectl logs" logs_work; }; then
    die "the tunnel did not settle before server deletion ${i}"
  fi
  read -r old _ < <(server_pod)
  log "server deletion ${i}: deleting ${SERVER_NS}/${old}"
  t0=$(now)
  wctl delete pod -n "${SERVER_NS}" "${old}" --wait=false >/dev/null
  judge_disruption srv_back "$t0" "server-$i"
  wait_until 120 "new server pod Ready" server_ready || true
  read -r new _ < <(server_pod)
  rts=$(server_ready_at "${new}")
  vts=$(vpn_after "$t0")
  if [[ -n ${vts} && -n ${rts} ]]; then
    d=$(( $(epoch "$vts") - $(epoch "$rts") )); srv_vpn+=("${d} s"); srv_vpn_s+=("$d")
    log "  new server pod ${new} Ready ${rts}, VPNReady True ${vts} (${d} s later)"
  elif [[ -n ${vts} ]]; then
    srv_vpn+=("no Ready server pod"); note="${note:+${note}; }VPNReady True ${vts} but server pod ${new:-none} not Ready"
    log "  ${note}"
  else
    srv_vpn+=("stayed True"); note="${note:+${note}; }VPNReady stayed $(cp_cond VPNReady status) ($(cp_cond VPNReady lastTransitionTime))"
    log "  new server pod ${new} Ready ${rts:-not yet}; VPNReady did not change (True since $(cp_cond VPNReady lastTransitionTime))"
  fi
  record server "$i" "$t0" "${rts}" "${vts}" "${note}"
done

# What the clients said through the server deletions (their logs are lost when they restart).
while read -r apod _; do
  kctl logs -n "${NS}" "${apod}" -c "${CLIENT_CTR}" --since-time="${SRV_SINCE}" >"${WORK}/vpn-client-${apod}.log" 2>&1 || true
done < <(apiserver_pods)

# 3. The client containers restarted.
cli_back=() kill_out=""
# `kill` is a shell builtin: the signal goes through sh when the image has no kill executable
# (tried with signal 0, which does nothing).
KILL=(kill 1)
read -r p0 _ < <(apiserver_pods)
if ! out=$(kctl exec -n "${NS}" "${p0}" -c "${CLIENT_CTR}" -- kill -0 1 2>&1) && grep -q 'executable file not found' <<<"${out}"; then
  kill_out="\`kubectl exec -c ${CLIENT_CTR} POD -- kill 1\` fails: $(tail -n1 <<<"${out}"); the signal went with \`sh -c 'kill 1'\`"
  log "${kill_out}"
  KILL=(sh -c 'kill 1')
fi
for i in $(seq "${REPEAT}"); do
  if ! { wait_until 120 "client containers running" clients_running && wait_until 120 "VPNReady True" vpn_true && wait_until 60 "kubectl logs" logs_work; }; then
    die "the tunnel did not settle before client restart ${i}"
  fi
  mapfile -t apods < <(apiserver_pods | awk '{print $1}')
  log "client restart ${i}: kill 1 in ${CLIENT_CTR} of ${apods[*]}"
  t0=$(now)
  for p in "${apods[@]}"; do
    # The exec may end with the container it runs in.
    kctl exec -n "${NS}" "$p" -c "${CLIENT_CTR}" -- "${KILL[@]}" >"${WORK}/kill.log" 2>&1 || log "  (kill in $p: $(tail -n1 "${WORK}/kill.log"))"
  done
  judge_disruption cli_back "$t0" "client-$i"
  # The restarted containers' start (the latest of them) and restart counts.
  read -r started restarts < <(kctl get pods -n "${NS}" -l "${APISERVER_LABEL}" -o json | jq -r --arg c "${CLIENT_CTR}" \
    '[.items[].status.containerStatuses[]? | select(.name == $c)] | "\(map(.state.running.startedAt // "") | max | if . == "" or . == null then "-" else . end) \(map(.restartCount | tostring) | join(","))"')
  log "  ${CLIENT_CTR} started ${started:-not yet}, restarts ${restarts}, last ended: $(kctl get pods -n "${NS}" -l "${APISERVER_LABEL}" -o json \
    | jq -r --arg c "${CLIENT_CTR}" '[.items[].status.containerStatuses[]? | select(.name == $c) | .lastState.terminated | "exit \(.exitCode) \(.reason) \(.finishedAt)"] | join(", ")')"
  record client "$i" "$t0" "${started}" "" "${note}"
done

# After the disruptions, the first kubectl logs of a pod on each node (the apiserver's pooled
# connections to a kubelet may have outlived the tunnel they went through).
first_logs=()
while read -r node pns pname; do
  t=$(now)
  if kubectl --kubeconfig "${WKC}" --request-timeout=60s logs -n "${pns}" "${pname}" --tail=1 >/dev/null 2>"${WORK}/first-logs.err"; then r=""; else r=" (failed: $(tail -n1 "${WORK}/first-logs.err"))"; fi
  first_logs+=("${node} $(sub "$t" "$(now)") s${r}")
  log "first kubectl logs of ${pns}/${pname} on ${node} after the disruptions: ${first_logs[-1]#* }"
done < <(wctl get pods -A -o json | jq -r --arg test "${POD}" '[.items[] | select(.status.phase == "Running" and .spec.nodeName != null)]
  | sort_by(.metadata.name == $test) | group_by(.spec.nodeName)[] | .[0] | "\(.spec.nodeName) \(.metadata.namespace) \(.metadata.name)"')

# --- the results -----------------------------------------------------------------------------

sec_stats() { # "median M s, max X s (a, b, c)" of the arguments
  local m x
  [[ $# -gt 0 ]] || { echo "-"; return; }
  read -r m _ x < <(printf '%s\n' "$@" | stats)
  printf 'median %s s, max %s s (%s)' "$m" "$x" "$(printf '%s s, ' "$@" | sed 's/, $//')"
}
# maxof prints the largest argument, or - when there is none.
maxof() { if [[ $# -eq 0 ]]; then echo -; else printf '%s\n' "$@" | stats | awk '{print $3}'; fi; }
srv_max=$(maxof "${srv_back[@]}") cli_max=$(maxof "${cli_back[@]}")
srv_missed=$(( REPEAT - ${#srv_back[@]} )) cli_missed=$(( REPEAT - ${#cli_back[@]} ))
vpn_max=$(maxof "${srv_vpn_s[@]}")
mem_sum=$(( srv_ws + cli_ws ))
srv_vpn_list=$(IFS=,; echo "${srv_vpn[*]}"); srv_vpn_list=${srv_vpn_list//,/, }
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
# GANTT_JQ renders disruptions.tsv as a Mermaid gantt chart: a section per disruption, times in
# milliseconds after it was issued (dateFormat x), the outage as a bar, the rest as milestones.
# shellcheck disable=SC2016 # jq's variables, not the shell's
GANTT_JQ='
  def ms: . * 1000 | floor;
  def at($name; $t): if $t == "-" then empty else "    \($name) :milestone, \($t | tonumber | ms), \($t | tonumber | ms)" end;
  "```mermaid", "gantt",
  "    title The disruptions, seconds after each was issued",
  "    dateFormat x", "    axisFormat %M:%S", "    todayMarker off",
  (split("\n")[] | select(. != "") | split("\t") as [$kind, $n, $fail, $back, $ready, $vpn]
    | (if $kind == "server" then "server pod deleted \($n)" else "client containers restarted \($n)" end) as $title
    | "    section \($title)",
      (if $fail != "-" and $back != "-" then "    kubectl logs bad :\($fail | tonumber | ms), \($back | tonumber | ms)" else empty end),
      at(if $kind == "server" then "new server pod Ready" else "clients started" end; $ready),
      at("kubectl logs works"; $back),
      at("VPNReady True"; $vpn)),
  "```"'

{
  cat <<EOF
Tunnel of ${NS}/${CLUSTER}, ${STARTED}, commit ${COMMIT}; server on ${SNODE}, test pod on ${PNODE}, ${n_api} apiserver pod(s).

| figure | value | target |
| --- | --- | --- |
| control plane Ready -> VPNReady True (lastTransitionTimes) | ${cp_to_vpn} s | |
| server pod Ready -> VPNReady True (lastTransitionTimes) | ${srv_to_vpn} s${note_first}$(met "${srv_to_vpn}" 10) | 10 s |
| after each server deletion: new server pod Ready -> VPNReady True | ${srv_vpn_list}$( [[ -n ${vpn_max} && ${vpn_max} != - ]] && met "${vpn_max}" 10) | 10 s |
| server pod deleted -> kubectl logs works again, ${REPEAT} times | $(sec_stats "${srv_back[@]}")$( (( srv_missed > 0 )) && echo "; ${srv_missed} never failed nor slowed")$(met "${srv_max}" 20) | 20 s |
| client containers restarted (kill 1) -> kubectl logs works again, ${REPEAT} times | $(sec_stats "${cli_back[@]}")$( (( cli_missed > 0 )) && echo "; ${cli_missed} never failed nor slowed")$(met "${cli_max}" 10) | 10 s |
| working set, server container (${SERVER_CTR}) | $(mib "${srv_ws}") | |
| working set, client container(s) (${CLIENT_CTR}, ${n_api}) | $(mib "${cli_ws}")$( (( n_api > 1 )) && echo " ($(IFS=,; echo "${cli_list[*]}"))") | |
| working set, server + client(s) | $(mib "${mem_sum}")$(met "${mem_sum}" $((32 * 1048576))) | 32 MiB |
| after the disruptions, the first kubectl logs of a pod on each node | $(printf '%s; ' "${first_logs[@]}" | sed 's/; $//') | |
| kubectl exec POD -- true, ${EXECS} times | median ${exec_med} s, p90 ${exec_p90} s$( (( exec_fail > 0 )) && echo ", ${exec_fail} failed") | |
| kubectl get pod (no tunnel), ${EXECS} times, for comparison | median ${get_med} s, p90 ${get_p90} s | |
| kubectl port-forward, 64 MiB with curl | ${pf_med} MB/s median, max ${pf_max} (${pf_all:-none}) | |
EOF
  [[ -n ${kill_out} ]] && printf '\nNote: %s.\n' "${kill_out}"
  awk -F'\t' '$9 != "" {printf "\nNote: %s %s: %s.\n", ($1 == "server" ? "server deletion" : "client restart"), $2, $9}' "${WORK}/disruptions.tsv"
  cat <<EOF

Disruptions, seconds after each was issued: a \`kubectl logs\` of the test pod begun every ${POLL} s (each
given ${PROBE_TIMEOUT} s; bad: failed or over ${SLOW} s); pod and condition times have 1 s resolution.

| disruption | kubectl logs bad from | kubectl logs works | new pod Ready / clients started | VPNReady True | longest kubectl logs | failed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  awk -F'\t' '{printf "| %s %s | %s | %s | %s | %s | %s | %s |\n", ($1 == "server" ? "server pod deleted" : "clients restarted"), $2, $3, $4, $5, $6, $7, $8}' "${WORK}/disruptions.tsv"
  echo
  jq -rRs "${GANTT_JQ}" <"${WORK}/disruptions.tsv"
} >"${WORK}/results.md"
cp "${WORK}/results.md" "${WORK}/results-${STAMP}.md"
echo
cat "${WORK}/results.md"
