package haproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// haproxyBinary finds Debian's haproxy (on PATH, or in /usr/sbin, which a user's PATH may
// lack). It skips the test when there is none, unless KAAS_REQUIRE_HAPROXY is set (make test
// sets it): then a missing haproxy is a failure.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	if os.Getenv("KAAS_REQUIRE_HAPROXY") != "" {
		t.Fatal("haproxy is not installed (KAAS_REQUIRE_HAPROXY is set); run: hack/test-deps.sh")
	}
	t.Skip("haproxy is not installed; run hack/test-deps.sh")
	return ""
}

// TestHAProxyAcceptsConfigs runs `haproxy -c -dW` (check only, warnings are errors) on the
// configurations of several specs. -c binds nothing, so the VIP need not be local.
func TestHAProxyAcceptsConfigs(t *testing.T) {
	bin := haproxyBinary(t)
	ipv6 := baseSpec()
	ipv6.VIP.Address = "2001:db8::10"
	ipv6.Pools[0].Members[0].Address = "2001:db8::1:1"
	disabled := kitchenSink()
	disabled.AdminStateUp = false
	empty := loadbalancer.Spec{ID: "lb-empty", AdminStateUp: true}
	noPool := baseSpec()
	noPool.Listeners[0].DefaultPoolID = ""
	unused := baseSpec()
	unused.Listeners = nil
	tests := []struct {
		name string
		spec loadbalancer.Spec
		opts func(dir string) Options
	}{
		{"base", baseSpec(), nil},
		{"kitchen sink", kitchenSink(), nil},
		{"kitchen sink with options", kitchenSink(), func(dir string) Options {
			// A missing state file is a warning; the caller writes it before each reload.
			state := filepath.Join(dir, "state")
			if err := os.WriteFile(state, []byte("1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return Options{StatsSocket: filepath.Join(dir, "admin.sock"), MaxConn: 100, BindAddress: "::", ServerStateFile: state, Log: true}
		}},
		{"ipv6", ipv6, nil},
		{"disabled load balancer", disabled, nil},
		{"no listeners, no pools", empty, nil},
		{"listener without pool", noPool, nil},
		{"pool without listener", unused, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var opts Options
			if tt.opts != nil {
				opts = tt.opts(dir)
			}
			cfg, err := Render(tt.spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "haproxy.cfg")
			if err := os.WriteFile(path, cfg, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "-c", "-dW", "-f", path).CombinedOutput()
			if err != nil {
				t.Fatalf("haproxy -c rejects the configuration: %v\n%s\n---- haproxy.cfg\n%s", err, out, cfg)
			}
		})
	}
}
