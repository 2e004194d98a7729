#!/usr/bin/env bash
# envtest.sh builds the binaries controller-runtime's envtest needs (kube-apiserver and etcd)
# from their Go modules, because setup-envtest's download bucket cannot be reached.
#
#   hack/envtest.sh [KUBERNETES_VERSION]
#
# The version defaults to the newest one in versions/versions.json; etcd's version is the one
# pinned beside it; kubectl is copied from ./bin when hack/tools.sh built that version.
# Binaries land in .cache/envtest/<version>/ and are reused when present.
# The last line on stdout is that directory, ready for KUBEBUILDER_ASSETS; progress goes to
# stderr. Heavy builds take /tmp/kaas-heavy.lock so they never run beside another one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v jq >/dev/null || die "jq is not installed" "apt-get install -y jq (or run make setup)"
command -v go >/dev/null || die "go is not installed" "install Go 1.26 and put it on PATH"

versions="${ROOT}/versions/versions.json"
k8s="${1:-$(jq -r '.kubernetes[-1].version' "$versions")}"
etcd_tag=$(jq -r --arg v "$k8s" '.kubernetes[] | select(.version == $v) | .etcd' "$versions")
[[ -n $etcd_tag ]] || die "Kubernetes $k8s is not in $versions" "pick one of: $(jq -r '[.kubernetes[].version] | join(" ")' "$versions")"
etcd="v${etcd_tag%-*}" # "3.6.8-0" -> "v3.6.8"
minor=$(cut -d. -f2 <<<"$k8s")

out="${CACHE}/envtest/${k8s}"
stamp="${out}/.built"
want_stamp="kubernetes=${k8s} etcd=${etcd} script=$(hash_of "${BASH_SOURCE[0]}")"
if [[ -x ${out}/kube-apiserver && -x ${out}/etcd && -f $stamp && "$(cat "$stamp")" == "$want_stamp" ]]; then
  log "envtest binaries for ${k8s} (etcd ${etcd}) are cached in ${out}"
  echo "$out"
  exit 0
fi

heavy() { flock /tmp/kaas-heavy.lock "$@"; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
mkdir -p "$out"
rm -f "$stamp"

# --- Kubernetes: a throw-away wrapper module that requires k8s.io/kubernetes and points every
# staging module it replaces with a local path at the published k8s.io/<name> v0.Y.Z instead.
kdir="${CACHE}/build/envtest-kubernetes-${k8s}"
mkdir -p "$kdir"
log "resolving k8s.io/kubernetes@${k8s} (downloads on a cold module cache)"
kmod=$(cd "$kdir" && go mod download -json "k8s.io/kubernetes@${k8s}" | jq -r '.GoMod // empty') \
  || die "go mod download k8s.io/kubernetes@${k8s} failed" "check that the Go module proxy is reachable: go env GOPROXY"
[[ -f $kmod ]] || die "no go.mod found for k8s.io/kubernetes@${k8s}" "run: go mod download -json k8s.io/kubernetes@${k8s}"
goline=$(grep -m1 '^go ' "$kmod")
{
  echo "// Throw-away wrapper module written by hack/envtest.sh; safe to delete."
  echo "module kaas.local/envtest-kubernetes"
  echo
  echo "$goline"
  echo
  echo "require k8s.io/kubernetes ${k8s}"
  echo
  echo "tool k8s.io/kubernetes/cmd/kube-apiserver"
  echo
  echo "replace ("
  grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$kmod" | awk -v v="v0.${minor}.${k8s##*.}" '{printf "\t%s => %s %s\n", $1, $1, v}'
  echo ")"
} > "$kdir/go.mod.new"
if ! cmp -s "$kdir/go.mod.new" "$kdir/go.mod.src" 2>/dev/null; then
  log "preparing the wrapper module in ${kdir}"
  cp "$kdir/go.mod.new" "$kdir/go.mod"
  rm -f "$kdir/go.sum"
  (cd "$kdir" && go mod tidy) >"$kdir/tidy.log" 2>&1 \
    || die "go mod tidy failed in ${kdir}" "read ${kdir}/tidy.log"
  cp "$kdir/go.mod.new" "$kdir/go.mod.src"
fi
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${p}.gitVersion=${k8s} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor}"
  ldflags+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=1970-01-01T00:00:00Z"
done
if "${out}/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes ${k8s}"; then
  log "kube-apiserver ${k8s} is already built"
else
  log "building kube-apiserver ${k8s} (3-5 min on a cold build cache on 2 idle cores; waits for /tmp/kaas-heavy.lock)"
  (cd "$kdir" && heavy go build -trimpath -ldflags "$ldflags" -o "${out}/kube-apiserver.tmp" "k8s.io/kubernetes/cmd/kube-apiserver") \
    >"$kdir/build-kube-apiserver.log" 2>&1 || die "building kube-apiserver ${k8s} failed" "read ${kdir}/build-kube-apiserver.log"
  mv "${out}/kube-apiserver.tmp" "${out}/kube-apiserver"
fi
# kubectl is optional for envtest: take the one hack/tools.sh built when it is this version.
if [[ ! -x ${out}/kubectl ]] && "${BIN}/kubectl" version --client 2>/dev/null | grep -q "Client Version: ${k8s}$"; then
  cp "${BIN}/kubectl" "${out}/kubectl"
fi

# --- etcd: a five-line main around etcdmain.Main, in its own wrapper module.
edir="${CACHE}/build/envtest-etcd-${etcd}"
mkdir -p "$edir"
if [[ ! -f $edir/go.sum ]] || ! grep -q "go.etcd.io/etcd/server/v3 ${etcd}" "$edir/go.mod" 2>/dev/null; then
  log "preparing the etcd ${etcd} wrapper module in ${edir}"
  cat > "$edir/main.go" <<'EOF'
// Command etcd is etcd's server, built by hack/envtest.sh from go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  rm -f "$edir/go.mod" "$edir/go.sum"
  (cd "$edir" && go mod init kaas.local/envtest-etcd && go get "go.etcd.io/etcd/server/v3@${etcd}" && go mod tidy) \
    >"$edir/tidy.log" 2>&1 || die "preparing the etcd ${etcd} module failed" "read ${edir}/tidy.log"
fi
if "${out}/etcd" --version 2>/dev/null | grep -q "etcd Version: ${etcd#v}$"; then
  log "etcd ${etcd} is already built"
else
  log "building etcd ${etcd} (about 1 min cold; waits for /tmp/kaas-heavy.lock)"
  (cd "$edir" && heavy go build -trimpath -ldflags "-s -w" -o "${out}/etcd.tmp" .) >"$edir/build.log" 2>&1 \
    || die "building etcd ${etcd} failed" "read ${edir}/build.log"
  mv "${out}/etcd.tmp" "${out}/etcd"
fi

"${out}/kube-apiserver" --version | grep -qx "Kubernetes ${k8s}" \
  || die "${out}/kube-apiserver does not report ${k8s}" "delete ${out} and run hack/envtest.sh again"
"${out}/etcd" --version | grep -q "etcd Version: ${etcd#v}" \
  || die "${out}/etcd does not report ${etcd}" "delete ${out} and run hack/envtest.sh again"
echo "$want_stamp" > "$stamp"
log "envtest binaries ready in ${out}: $(du -sh "$out" | cut -f1)"
echo "$out"
