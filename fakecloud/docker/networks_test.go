package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// fakeDockerScript answers the docker commands EnsureNetwork runs when docker holds network
// "old" with subnet %SUBNET% and refuses new networks as overlapping until the file
// old-removed exists in %STATE%. Any other command fails, so an unexpected call shows.
const fakeDockerScript = `#!/bin/sh
state='%STATE%'
case "$*" in
version*) echo 27.5.1 ;;
"network inspect fakecloud-network-new") echo "Error: No such network: fakecloud-network-new" >&2; exit 1 ;;
"network create "*)
  if [ -e "$state/old-removed" ]; then echo 4f1d; exit 0; fi
  echo "Error response from daemon: invalid pool request: Pool overlaps with other one on this address space" >&2; exit 1 ;;
"network inspect fakecloud-network-old")
  echo '[{"Name":"fakecloud-network-old","IPAM":{"Config":[{"Subnet":"%SUBNET%"}]}}]' ;;
*) echo "fake docker: unexpected command: $*" >&2; exit 2 ;;
esac
`

// newFakeDockerBackend returns a backend on the fake docker of fakeDockerScript and the
// directory whose old-removed file ends the overlap.
func newFakeDockerBackend(t *testing.T, oldSubnet string) (*Backend, string) {
	t.Helper()
	dir := t.TempDir()
	script := strings.NewReplacer("%STATE%", dir, "%SUBNET%", oldSubnet).Replace(fakeDockerScript)
	bin := filepath.Join(dir, "docker")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := New(context.Background(), Config{DataDir: filepath.Join(dir, "data"), Docker: dockercli.CLI{Binary: bin}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, dir
}

// TestEnsureNetworkOverlap: an overlap with the docker network of a deleted Neutron network
// is retried until that network is gone; any other overlap is a permanent error.
func TestEnsureNetworkOverlap(t *testing.T) {
	ctx := context.Background()
	spec := network.NetworkSpec{ID: "new", Name: "n", Project: "p",
		Subnets: []network.SubnetSpec{{ID: "s", CIDR: "10.6.10.0/24", GatewayIP: "10.6.10.1"}}}

	for _, c := range []struct {
		name          string
		oldSubnet     string
		oldIsDeleting bool
		permanent     bool
	}{
		{"old network being deleted", "10.6.0.0/16", true, false},
		{"old network live", "10.6.10.0/24", false, true},
		{"deleted network elsewhere", "10.7.0.0/24", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, state := newFakeDockerBackend(t, c.oldSubnet)
			if c.oldIsDeleting {
				if err := b.markNetwork("old", markDeleting); err != nil {
					t.Fatal(err)
				}
			}
			err := b.EnsureNetwork(ctx, spec)
			if err == nil {
				t.Fatal("EnsureNetwork succeeded while docker refuses the subnet")
			}
			if got := services.IsPermanent(err); got != c.permanent {
				t.Fatalf("EnsureNetwork: permanent %v, want %v: %v", got, c.permanent, err)
			}
			if !c.permanent && !strings.Contains(err.Error(), "fakecloud-network-old") {
				t.Errorf("the error does not name the docker network in the way: %v", err)
			}
			if c.permanent {
				return
			}
			// The deleted network's docker network is removed: the retry wires the new one.
			if err := os.WriteFile(filepath.Join(state, "old-removed"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := b.EnsureNetwork(ctx, spec); err != nil {
				t.Fatalf("EnsureNetwork after the overlap went away: %v", err)
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	for _, c := range []struct {
		a, b []string
		want bool
	}{
		{[]string{"10.6.0.0/16"}, []string{"10.6.10.0/24"}, true},
		{[]string{"10.6.10.0/24"}, []string{"10.6.10.0/24"}, true},
		{[]string{"10.6.11.0/24"}, []string{"10.6.10.0/24"}, false},
		{[]string{"bogus"}, []string{"10.6.10.0/24"}, false},
		{nil, []string{"10.6.10.0/24"}, false},
	} {
		if got := overlaps(c.a, c.b); got != c.want {
			t.Errorf("overlaps(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
