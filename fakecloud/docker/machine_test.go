package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

func TestWriteSeed(t *testing.T) {
	for _, c := range []struct {
		name      string
		userData  []byte
		publicKey string
		meta      string
		user      string
	}{
		{
			name: "no key, no user-data",
			meta: "instance-id: 6f1c0e1a-0000-4000-8000-000000000001\nlocal-hostname: node-1\n",
			user: "#cloud-config\n{}\n",
		},
		{
			name:      "key and user-data",
			userData:  []byte("#!/bin/sh\necho hi\n"),
			publicKey: "ssh-ed25519 AAAAC3Nza me@host\n",
			meta: "instance-id: 6f1c0e1a-0000-4000-8000-000000000001\nlocal-hostname: node-1\n" +
				"public-keys:\n  - \"ssh-ed25519 AAAAC3Nza me@host\"\n",
			user: "#!/bin/sh\necho hi\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "seed", "node-1") // created by writeSeed
			m := machine{hostname: "node-1", instanceID: "6f1c0e1a-0000-4000-8000-000000000001",
				userData: c.userData, publicKey: c.publicKey, seedDir: dir}
			if err := m.writeSeed(); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"meta-data": c.meta, "user-data": c.user, "vendor-data": "#cloud-config\nlocale: false\n"} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 3 {
				t.Errorf("seed has %d files, want 3", len(entries))
			}
		})
	}
}

func TestWriteSeedOverwrites(t *testing.T) {
	dir := t.TempDir()
	m := machine{hostname: "h", instanceID: "i", publicKey: "ssh-rsa AAAA", seedDir: dir}
	if err := m.writeSeed(); err != nil {
		t.Fatal(err)
	}
	m.publicKey = ""
	if err := m.writeSeed(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "meta-data")); string(got) != "instance-id: i\nlocal-hostname: h\n" {
		t.Errorf("meta-data after the key went = %q", got)
	}
}

func TestLegArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		l    leg
		flag string
		want []string
	}{
		{"create with address", leg{network: "kaas-n1", ip: "10.0.0.5"}, "--network", []string{"--network", "kaas-n1", "--ip", "10.0.0.5"}},
		{"create, docker picks", leg{network: "kaas-n1"}, "--network", []string{"--network", "kaas-n1"}},
		{"connect with address", leg{network: "kaas-n2", ip: "10.1.0.7"}, "", []string{"--ip", "10.1.0.7", "kaas-n2"}},
		{"connect, docker picks", leg{network: "kaas-n2"}, "", []string{"kaas-n2"}},
	} {
		if got := legArgs(c.l, c.flag); !slices.Equal(got, c.want) {
			t.Errorf("%s: legArgs = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	dockerErr := func(stderr string) error {
		return fmt.Errorf("creating container x: %w", &dockercli.Error{
			Args: []string{"create", "--name", "x", "img"}, Stderr: stderr, Err: errors.New("exit status 125")})
	}
	for _, c := range []struct {
		stderr    string
		permanent bool
	}{
		{"Error response from daemon: Address already in use", true},
		{"Error response from daemon: no configured subnet or ip-range contain the IP address 10.9.0.5", true},
		{"Error response from daemon: Unable to find image 'kaas/node:x' locally\nNo such image: kaas/node:x", true},
		{"Error response from daemon: Minimum memory limit allowed is 6MB", true},
		{"Error response from daemon: Cannot connect to the Docker daemon: connection refused", false},
		{"context deadline exceeded", false},
	} {
		err := dockerErr(c.stderr)
		got := classify(err)
		if services.IsPermanent(got) != c.permanent {
			t.Errorf("classify(%q): permanent %v, want %v", c.stderr, services.IsPermanent(got), c.permanent)
		}
		// Either way the docker error stays inside, with its message.
		var de *dockercli.Error
		if !errors.As(got, &de) || de.Stderr != c.stderr || got.Error() != err.Error() {
			t.Errorf("classify(%q) = %v: lost the docker error", c.stderr, got)
		}
	}
}
