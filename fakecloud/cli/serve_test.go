package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
)

// TestMain lets the test binary act as `fakecloud` itself when FAKECLOUD_TEST_ARGS is set, so
// the durability test can kill -9 a real fakecloud process without building one first.
func TestMain(m *testing.M) {
	if args := os.Getenv("FAKECLOUD_TEST_ARGS"); args != "" {
		cmd := NewCommand()
		cmd.SetArgs(strings.Split(args, "\x1f"))
		if err := cmd.Execute(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a fakecloud process started by a test.
type proc struct {
	cmd        *exec.Cmd
	url        string
	cloudsYAML string
	log        string
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `fakecloud serve` on dataDir in a child process and waits until it answers.
func startServe(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	addr := freePort(t)
	p := &proc{url: "http://" + addr, cloudsYAML: filepath.Join(dataDir, "clouds.yaml"), log: filepath.Join(dataDir, fmt.Sprintf("serve-%d.log", time.Now().UnixNano()))}
	args := append([]string{"serve", "--listen", addr, "--data", dataDir, "--clouds-yaml", p.cloudsYAML, "--log-level", "warn"}, extra...)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "FAKECLOUD_TEST_ARGS="+strings.Join(args, "\x1f"))
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill(); logf.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(p.log)
			t.Fatalf("fakecloud did not answer on %s within 20 s: %v\n%s", addr, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL, as a crash would, and waits for the process to go.
func (p *proc) kill() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func (p *proc) admin(t *testing.T) *adminclient.Client {
	t.Helper()
	c, err := adminclient.FromCloudsYAML(context.Background(), p.cloudsYAML, "fakecloud-admin")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServeWritesCloudsYAMLAndKeepsPasswordsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	first, err := os.ReadFile(p.cloudsYAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fakecloud-admin:", "fakecloud-demo:", "fakecloud-demo-reader:", "auth_url: " + p.url + "/identity/v3"} {
		if !strings.Contains(string(first), want) {
			t.Errorf("clouds.yaml lacks %q:\n%s", want, first)
		}
	}
	if _, err := p.admin(t).AddFault(context.Background(), adminclient.FaultSpec{Type: "quota", Resource: "instances", Limit: 1}); err != nil {
		t.Fatal(err)
	}
	p.kill()
	p2 := startServe(t, dir)
	second, _ := os.ReadFile(p2.cloudsYAML)
	pw := func(b []byte) string {
		i := strings.Index(string(b), "password:")
		return strings.SplitN(string(b[i:]), "\n", 2)[0]
	}
	if pw(first) != pw(second) {
		t.Error("passwords changed across a restart")
	}
	rules, err := p2.admin(t).Faults(context.Background())
	if err != nil || len(rules) != 1 {
		t.Fatalf("faults after kill -9 and restart: %+v, %v", rules, err)
	}
}
