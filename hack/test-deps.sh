#!/usr/bin/env bash
# test-deps.sh installs what `make test` needs beyond Go: the Debian openstack CLI with the
# Octavia and Ironic plugins, which the fakecloud CLI-compatibility test scripts, and haproxy,
# whose `haproxy -c` checks the configurations fakecloud/docker/haproxy renders. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pkgs=()
command -v openstack >/dev/null || pkgs+=(python3-openstackclient)
/usr/bin/python3 -c 'import octaviaclient' 2>/dev/null || pkgs+=(python3-octaviaclient)
/usr/bin/python3 -c 'import ironicclient' 2>/dev/null || pkgs+=(python3-ironicclient)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || pkgs+=(haproxy)
if ((${#pkgs[@]})); then
  log "installing Debian packages for tests: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed" "check that Debian's mirror is reachable"
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
    || die "apt-get install ${pkgs[*]} failed" "run it by hand to see apt's message"
fi
