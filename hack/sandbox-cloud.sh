#!/usr/bin/env bash
# sandbox-cloud.sh runs the sandbox's cloud: fakecloud with its docker backend, serving on the
# service cluster's docker network so that the host and the pods of the kind cluster reach it
# at the same address, and it puts the service cluster's nodes on the cloud's external network
# (docker network "public"), as a provider's service cluster sits on its public network: the
# apiserver load balancers reach the nodes there, and the nodes reach the load balancers' VIPs.
#
#   hack/sandbox-cloud.sh up NETWORK          start fakecloud (or reuse the running one)
#   hack/sandbox-cloud.sh attach NODE...      connect kind node containers to "public", each on
#                                             a Neutron port of its own; print "NODE ADDRESS"
#   hack/sandbox-cloud.sh down                stop the fakecloud this script started and remove
#                                             every container and network it made
#   hack/sandbox-cloud.sh url NETWORK         print the Keystone URL
#
# Files: .cache/sandbox/fakecloud/ (state, clouds.yaml, log, pid). Env: FAKECLOUD_PORT (8786),
# FAKECLOUD_BAREMETAL_HOSTS (bare-metal host containers enrolled on first start, 2).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCE=sandbox
DIR="${CACHE}/sandbox/fakecloud"
PIDFILE="${DIR}/fakecloud.pid"
LOGFILE="${DIR}/fakecloud.log"
CLOUDS="${DIR}/clouds.yaml"
PORT="${FAKECLOUD_PORT:-8786}"

gateway() {
  local gw
  gw=$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' "$1" 2>/dev/null | tr ' ' '\n' | grep -m1 '^[0-9.]*$' || true)
  [[ -n $gw ]] || die "docker network $1 has no IPv4 gateway" "docker network inspect $1 (is the kind cluster up? make sandbox)"
  echo "$gw"
}

url() { echo "http://$(gateway "$1"):${PORT}"; }

# ours prints the pid of the fakecloud this script started, if it still runs.
ours() {
  local pid
  pid=$(cat "${PIDFILE}" 2>/dev/null || true)
  [[ -n $pid ]] && { tr '\0' ' ' <"/proc/${pid}/cmdline"; } 2>/dev/null | grep -q "fakecloud serve .*--instance ${INSTANCE}" && echo "$pid"
}

answers() { curl -fs -o /dev/null --max-time 2 "$1/identity/v3"; }

up() {
  local network=$1 base
  base=$(url "$network")
  mkdir -p "${DIR}"
  (cd "${ROOT}" && go build -o "${BIN}/fakecloud" ./cmd/fakecloud) || die "building fakecloud failed" "go build ./cmd/fakecloud"
  if [[ -n "$(ours)" ]] && answers "$base"; then
    log "fakecloud is running at ${base} (pid $(ours))"
  else
    [[ -n "$(ours)" ]] && kill "$(ours)" 2>/dev/null || true
    log "starting fakecloud (docker backend) at ${base}; log: ${LOGFILE}"
    setsid "${BIN}/fakecloud" serve --backend docker --instance "${INSTANCE}" \
      --listen "${base#http://}" --public-url "${base}" --data "${DIR}/data" --clouds-yaml "${CLOUDS}" \
      --baremetal-hosts "${FAKECLOUD_BAREMETAL_HOSTS:-2}" >>"${LOGFILE}" 2>&1 </dev/null &
    echo $! >"${PIDFILE}"
    local i
    for i in $(seq 1 60); do
      answers "$base" && break
      [[ -n "$(ours)" ]] || { tail -n 20 "${LOGFILE}" >&2; die "fakecloud exited at start" "read ${LOGFILE}"; }
      sleep 1
    done
    answers "$base" || die "fakecloud does not answer at ${base} after 60 s" "read ${LOGFILE}"
  fi
  "${ROOT}/hack/test-deps.sh" >/dev/null || die "installing the openstack CLI failed" "run hack/test-deps.sh"
  # A customer project big enough for a few clusters: Nova's default quota (10 instances,
  # 20 cores) would not hold one with bare metal.
  openstack --os-cloud fakecloud-admin quota set --instances 100 --cores 2000 --ram 8192000 demo >/dev/null \
    || die "raising the demo project's quota failed" "OS_CLIENT_CONFIG_FILE=${CLOUDS} openstack --os-cloud fakecloud-admin quota show demo"
  log "fakecloud ready: clouds.yaml ${CLOUDS} (fakecloud-admin, fakecloud-demo)"
}

attach() {
  local node addr public
  public=$(openstack --os-cloud fakecloud-admin network show public -f value -c id) \
    || die "fakecloud has no network named public" "OS_CLIENT_CONFIG_FILE=${CLOUDS} openstack --os-cloud fakecloud-admin network list"
  for node in "$@"; do
    addr=$(docker inspect -f '{{with index .NetworkSettings.Networks "public"}}{{.IPAddress}}{{end}}' "$node" 2>/dev/null || true)
    if [[ -z $addr ]]; then
      addr=$(openstack --os-cloud fakecloud-admin port show "service-cluster-${node}" -f json -c fixed_ips 2>/dev/null | jq -r '.fixed_ips[0].ip_address // empty' || true)
      if [[ -z $addr ]]; then
        addr=$(openstack --os-cloud fakecloud-admin port create --network "$public" --device-owner kaas:service-cluster \
          "service-cluster-${node}" -f json -c fixed_ips | jq -r '.fixed_ips[0].ip_address') \
          || die "creating a port on public for ${node} failed" "OS_CLIENT_CONFIG_FILE=${CLOUDS} openstack --os-cloud fakecloud-admin port list --network public"
      fi
      docker network connect --ip "$addr" public "$node" \
        || die "docker network connect --ip ${addr} public ${node} failed" "docker network inspect public"
      log "${node} is on the external network at ${addr}"
    fi
    echo "${node} ${addr}"
  done
}

down() {
  local pid
  pid=$(ours || true)
  if [[ -n $pid ]]; then
    log "stopping fakecloud (pid ${pid})"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  if [[ -x ${BIN}/fakecloud ]] && docker info >/dev/null 2>&1; then
    "${BIN}/fakecloud" down --instance "${INSTANCE}" --data "${DIR}/data" >/dev/null || die "fakecloud down failed" "docker ps -a --filter label=kaas.fakecloud/instance=${INSTANCE}"
  fi
  rm -f "${PIDFILE}"
}

export OS_CLIENT_CONFIG_FILE="${CLOUDS}"
case "${1:-}" in
  up) [[ $# -eq 2 ]] || die "usage: hack/sandbox-cloud.sh up NETWORK"; up "$2" ;;
  attach) shift; attach "$@" ;;
  down) down ;;
  url) [[ $# -eq 2 ]] || die "usage: hack/sandbox-cloud.sh url NETWORK"; url "$2" ;;
  *) die "usage: hack/sandbox-cloud.sh up NETWORK | attach NODE... | down | url NETWORK" "see the comment at the top of hack/sandbox-cloud.sh" ;;
esac
