#!/usr/bin/env bash
# haproxy.sh builds the image fakecloud's docker backend runs each Octavia load balancer in:
#   kaas/haproxy:<hash>  kaas/slim plus Debian bookworm's haproxy (2.6) and socat; its command
#                        is `haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg` (master-worker
#                        in the foreground: `docker kill -s USR2` reloads seamlessly), and
#                        /run/haproxy exists for the admin socket fakecloud/docker/haproxy
#                        configures (`echo "show stat" | socat stdio /run/haproxy/admin.sock`).
# <hash> is a content hash of this script and the kaas/slim tag it stands on: a rerun with
# nothing changed does nothing. Also tagged :latest. Prints nothing on stdout unless
# --print-tags. Env: DEBIAN_MIRROR (default http://deb.debian.org/debian).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HERE="${ROOT}/hack/images"
CONFIG=/usr/local/etc/haproxy/haproxy.cfg

# slim_tag prints the content-addressed tag of kaas/slim.
slim_tag() { "${HERE}/base.sh" --print-tags | grep '^kaas/slim:' || die "base.sh printed no kaas/slim tag" "run: hack/images/base.sh --print-tags"; }

# haproxy_tag SLIM prints the content-addressed tag of kaas/haproxy on kaas/slim tag SLIM.
haproxy_tag() { echo "kaas/haproxy:$(hash_of "${HERE}/haproxy.sh" "$1")"; }

build() {
  local slim=$1 tag=$2 log="${CACHE}/haproxy-image.log" dockerfile
  dockerfile=$(cat <<DOCKERFILE
FROM ${slim}
ARG MIRROR
RUN echo "deb \${MIRROR} bookworm main" > /etc/apt/sources.list \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy socat >/dev/null \\
 && apt-get clean \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /var/log/*.log \\
 && mkdir -p /run/haproxy $(dirname "${CONFIG}") \\
 && haproxy -v | head -n 1
CMD ["haproxy", "-W", "-db", "-f", "${CONFIG}"]
DOCKERFILE
)
  log "docker build ${tag} on ${slim} (apt-get install haproxy socat from ${MIRROR}); takes about a minute"
  # The lock is taken around the build, not by heavy, so that its waiting line reaches the
  # terminal rather than the build log. No build context: everything comes from the mirror.
  heavy_begin
  docker build --label "kaas.hash=${tag#*:}" --build-arg "MIRROR=${MIRROR}" -t "${tag}" - <<<"${dockerfile}" > "${log}" 2>&1 \
    || { tail -n 15 "${log}" >&2
         die "docker build ${tag} failed (log: ${log})" "check that ${MIRROR} answers from a container: docker run --rm ${slim} apt-get update"; }
  heavy_end
  docker tag "${tag}" kaas/haproxy:latest
  log "built ${tag} ($(docker image inspect -f '{{.Size}}' "${tag}" | numfmt --to=iec), $(docker run --rm "${tag}" haproxy -v | grep -m1 -o 'HAProxy version [^ ]*'))"
}

main() {
  need_docker
  local slim tag
  slim=$(slim_tag)
  tag=$(haproxy_tag "${slim}")
  if [[ ${1:-} == --print-tags ]]; then echo "${tag}"; return; fi
  image_exists "${slim}" || "${HERE}/base.sh"
  if image_exists "${tag}"; then
    docker tag "${tag}" kaas/haproxy:latest
    log "${tag} is up to date"; return
  fi
  build "${slim}" "${tag}"
}
main "$@"
