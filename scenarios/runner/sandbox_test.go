package runner

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type recordedCommand struct {
	env  []string
	name string
	args []string
}

type fakeCommander struct {
	calls []recordedCommand
	out   string
}

func (f *fakeCommander) Run(_ context.Context, env []string, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, recordedCommand{env: env, name: name, args: args})
	return []byte(f.out), nil
}

func TestClusterctlGenerate(t *testing.T) {
	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(clouds, []byte("clouds: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := &fakeCommander{out: "kind: Cluster\n"}
	c := &Clusterctl{Binary: "bin/clusterctl", Config: "cc.yaml", Kubeconfig: "kc", CloudsYAML: clouds, Exec: fc}
	out, err := c.Generate(context.Background(), "mine-abcde", "mine-abcde", map[string]string{
		"KUBERNETES_VERSION": "v1.37.2", "CONTROL_PLANE_MACHINE_COUNT": "2", "WORKER_MACHINE_COUNT": "1", VarNodeCIDR: "10.6.3.0/24",
	})
	if err != nil || string(out) != "kind: Cluster\n" || len(fc.calls) != 1 {
		t.Fatalf("%q %v %+v", out, err, fc.calls)
	}
	call := fc.calls[0]
	args := strings.Join(call.args, " ")
	if call.name != "bin/clusterctl" || args != "generate cluster mine-abcde --config cc.yaml --kubeconfig kc --infrastructure gcore --target-namespace mine-abcde --kubernetes-version v1.37.2 --control-plane-machine-count 2 --worker-machine-count 1" {
		t.Errorf("%s %s", call.name, args)
	}
	for _, want := range []string{"GCORE_NODE_CIDR=10.6.3.0/24", "GCORE_CLOUDS_YAML_B64=" + base64.StdEncoding.EncodeToString([]byte("clouds: {}\n"))} {
		if !slices.Contains(call.env, want) {
			t.Errorf("env lacks %s: %v", want, call.env)
		}
	}
}

func TestPublicURL(t *testing.T) {
	argv := []string{"/r/bin/fakecloud", "serve", "--listen", "172.18.0.1:8786", "--public-url", "http://172.18.0.1:8786/"}
	if got := publicURL(argv); got != "http://172.18.0.1:8786" {
		t.Errorf("%q", got)
	}
	if got := publicURL([]string{"fakecloud", "serve", "--listen=127.0.0.1:1"}); got != "http://127.0.0.1:1" {
		t.Errorf("%q", got)
	}
}
