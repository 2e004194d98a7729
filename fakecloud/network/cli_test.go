package network_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// cli runs the Debian openstack CLI against a whole fakecloud.
type cli struct {
	t     *testing.T
	env   []string
	cloud string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("KAAS_REQUIRE_OPENSTACK_CLI") != "" {
			t.Fatal("the openstack CLI is not installed")
		}
		t.Skip("the openstack CLI is not installed")
	}
	if os.Getenv("KAAS_REQUIRE_OPENSTACK_CLI") == "" && os.Getenv("FAKECLOUD_CLI_TESTS") == "" {
		t.Skip("the openstack CLI takes minutes; set FAKECLOUD_CLI_TESTS=1 to run it")
	}
	h := cloudtest.Start(t)
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(h.CloudsYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, cloud: cloudtest.Demo,
		env: []string{"OS_CLIENT_CONFIG_FILE=" + path, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}}
}

func (c *cli) as(cloud string) *cli { d := *c; d.cloud = cloud; return &d }

func (c *cli) try(args ...string) (string, error) {
	cmd := exec.Command("openstack", append([]string{"--os-cloud", c.cloud}, args...)...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cli) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cli) obj(args ...string) map[string]any {
	c.t.Helper()
	out := c.run(append(args, "-f", "json")...)
	var m map[string]any
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &m) != nil {
		c.t.Fatalf("openstack %s: not a JSON object:\n%s", strings.Join(args, " "), out)
	}
	return m
}

func (c *cli) list(args ...string) []map[string]any {
	c.t.Helper()
	out := c.run(append(args, "-f", "json")...)
	var l []map[string]any
	if i := strings.Index(out, "["); i < 0 || json.Unmarshal([]byte(out[i:]), &l) != nil {
		c.t.Fatalf("openstack %s: not a JSON list:\n%s", strings.Join(args, " "), out)
	}
	return l
}

// TestOpenStackCLINetwork scripts every network command the providers' operators use.
func TestOpenStackCLINetwork(t *testing.T) {
	c := newCLI(t)
	net := c.obj("network", "create", "--mtu", "1400", "--tag", "k8s", "osc-net")
	if net["mtu"].(float64) != 1400 || net["status"] != "ACTIVE" {
		t.Fatalf("network: %v", net)
	}
	c.run("network", "set", "--name", "osc-net2", "--description", "d", "osc-net")
	if got := c.list("network", "list", "--name", "osc-net2"); len(got) != 1 {
		t.Fatalf("network list: %v", got)
	}
	if got := c.list("network", "list", "--tags", "k8s"); len(got) != 1 {
		t.Fatalf("network list --tags: %v", got)
	}
	if got := c.list("network", "list", "--external"); len(got) != 1 || got[0]["Name"] != "public" {
		t.Fatalf("external networks: %v", got)
	}
	sub := c.obj("subnet", "create", "--network", "osc-net2", "--subnet-range", "10.30.0.0/24",
		"--allocation-pool", "start=10.30.0.10,end=10.30.0.100", "--dns-nameserver", "9.9.9.9", "--gateway", "10.30.0.1", "osc-sub")
	if sub["gateway_ip"] != "10.30.0.1" || sub["cidr"] != "10.30.0.0/24" {
		t.Fatalf("subnet: %v", sub)
	}
	c.obj("subnet", "create", "--network", "osc-net2", "--subnet-range", "10.31.0.0/24", "--gateway", "none", "--no-dhcp", "osc-sub-nogw")
	if _, err := c.try("subnet", "create", "--network", "osc-net2", "--subnet-range", "10.30.0.0/25", "osc-bad"); err == nil {
		t.Fatal("overlapping subnet accepted")
	}
	c.run("subnet", "set", "--name", "osc-sub1", "osc-sub")
	c.obj("subnet", "show", "osc-sub1")
	c.obj("security", "group", "create", "--description", "web", "osc-sg")
	c.obj("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "443", "--remote-ip", "10.0.0.0/8", "--ingress", "osc-sg")
	c.obj("security", "group", "rule", "create", "--protocol", "icmp", "osc-sg")
	if got := c.list("security", "group", "rule", "list", "osc-sg"); len(got) != 4 {
		t.Fatalf("rules: %v", got)
	}
	if got := c.list("security", "group", "list"); len(got) != 2 {
		t.Fatalf("groups: %v", got)
	}
	port := c.obj("port", "create", "--network", "osc-net2", "--fixed-ip", "subnet=osc-sub1,ip-address=10.30.0.50",
		"--security-group", "osc-sg", "--allowed-address", "ip-address=10.30.0.200", "osc-port")
	if !strings.Contains(jsonString(port["fixed_ips"]), "10.30.0.50") {
		t.Fatalf("port: %v", port)
	}
	c.run("port", "set", "--name", "osc-port2", "--no-security-group", "--security-group", "default", "osc-port")
	if got := c.list("port", "list", "--network", "osc-net2"); len(got) != 1 {
		t.Fatalf("ports: %v", got)
	}
	if got := c.list("port", "list", "--fixed-ip", "ip-address=10.30.0.50"); len(got) != 1 {
		t.Fatalf("ports by address: %v", got)
	}
	c.obj("router", "create", "osc-router")
	c.run("router", "set", "--external-gateway", "public", "osc-router")
	c.run("router", "add", "subnet", "osc-router", "osc-sub1")
	r := c.obj("router", "show", "osc-router")
	if r["external_gateway_info"] == nil || !strings.Contains(jsonString(r["interfaces_info"]), "10.30.0.1") {
		t.Fatalf("router: %v", r)
	}
	if _, err := c.try("router", "delete", "osc-router"); err == nil {
		t.Fatal("router with an interface deleted")
	}
	fip := c.obj("floating", "ip", "create", "--description", "f", "public")
	addr := fip["floating_ip_address"].(string)
	c.run("floating", "ip", "set", "--port", "osc-port2", addr)
	if f := c.obj("floating", "ip", "show", addr); f["port_id"] != port["id"] || f["status"] != "ACTIVE" {
		t.Fatalf("floating ip: %v", f)
	}
	if got := c.list("floating", "ip", "list", "--port", "osc-port2"); len(got) != 1 {
		t.Fatalf("floating ip list: %v", got)
	}
	c.run("floating", "ip", "unset", "--port", addr)
	c.run("floating", "ip", "delete", addr)
	c.run("router", "remove", "subnet", "osc-router", "osc-sub1")
	c.run("router", "unset", "--external-gateway", "osc-router")
	c.run("router", "delete", "osc-router")
	c.run("port", "delete", "osc-port2")
	c.run("security", "group", "delete", "osc-sg")
	admin := c.as(cloudtest.Admin)
	admin.run("quota", "set", "--ports", "600", "--floating-ips", "20", "demo")
	if got := admin.list("quota", "list", "--network"); len(got) == 0 {
		t.Fatal("no network quotas listed")
	}
	c.run("subnet", "delete", "osc-sub1", "osc-sub-nogw")
	c.run("network", "delete", "osc-net2")
	if got := c.list("network", "list", "--name", "osc-net2"); len(got) != 0 {
		t.Fatalf("networks left: %v", got)
	}
	c.list("extension", "list", "--network")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
