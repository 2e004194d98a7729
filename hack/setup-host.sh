#!/usr/bin/env bash
# setup-host.sh makes this machine ready for the sandbox, idempotently:
#   - installs the Docker engine (and jq, debootstrap) from Debian when missing;
#   - registers the "kaas-runc" runtime, which drops capabilities this host cannot grant
#     (CAP_SYS_RESOURCE) before calling runc, so `docker run --privileged` and kind work;
#   - starts dockerd when no daemon answers.
# It never stops or reconfigures a daemon it did not start: if a dockerd is already running
# without the runtime, it says so and leaves it alone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v jq >/dev/null || need_pkgs+=(jq)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v iptables >/dev/null || need_pkgs+=(iptables)
if ((${#need_pkgs[@]})); then
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed" "check that Debian's mirror is reachable"
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed" "run it by hand to see apt's message"
fi

# The runtime wrapper: removes CAP_SYS_RESOURCE from the OCI spec of a container (create/run,
# via --bundle DIR/config.json) and of an exec'd process (--process FILE), then calls runc.
wrapper=/usr/local/bin/kaas-runc
want=$(cat <<'WRAP'
#!/bin/bash
# kaas-runc: drops capabilities this host cannot grant, then runs runc (installed by KaaS Sandbox).
drop='walk(if type == "object" then with_entries(if (.key|test("^(bounding|effective|inheritable|permitted|ambient)$")) and (.value|type) == "array" then .value |= map(select(. != "CAP_SYS_RESOURCE")) else . end) else . end)'
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --bundle|-b) f="${args[i+1]}/config.json" ;;
    --bundle=*) f="${args[i]#--bundle=}/config.json" ;;
    --process|-p) f="${args[i+1]}" ;;
    --process=*) f="${args[i]#--process=}" ;;
    *) continue ;;
  esac
  if [[ -f $f ]]; then jq -c "$drop" "$f" > "$f.kaas" && mv "$f.kaas" "$f"; fi
done
exec runc "$@"
WRAP
)
if [[ ! -x $wrapper ]] || [[ "$(cat "$wrapper")" != "$want" ]]; then
  log "installing runtime wrapper $wrapper"
  printf '%s\n' "$want" > "$wrapper"; chmod 0755 "$wrapper"
fi

daemon_json=/etc/docker/daemon.json
mkdir -p /etc/docker
if ! jq -e '.runtimes["kaas-runc"] and .["default-runtime"] == "kaas-runc"' "$daemon_json" >/dev/null 2>&1; then
  log "registering kaas-runc as docker's default runtime in $daemon_json"
  cur='{}'; [[ -s $daemon_json ]] && cur=$(cat "$daemon_json")
  jq --arg p "$wrapper" '.runtimes["kaas-runc"] = {"path": $p} | .["default-runtime"] = "kaas-runc"' <<<"$cur" > "$daemon_json.tmp"
  mv "$daemon_json.tmp" "$daemon_json"
fi

if docker info >/dev/null 2>&1; then
  if ! docker info --format '{{.DefaultRuntime}}' | grep -q kaas-runc; then
    log "WARNING: a Docker daemon is running without the kaas-runc runtime; privileged containers may fail. Restart it yourself to pick up $daemon_json."
  fi
else
  log "starting dockerd (log: /var/log/kaas-dockerd.log)"
  nohup setsid dockerd >/var/log/kaas-dockerd.log 2>&1 </dev/null &
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
    [[ $i == 60 ]] && die "dockerd did not answer within 60 s" "read /var/log/kaas-dockerd.log"
  done
  log "dockerd is up"
fi
