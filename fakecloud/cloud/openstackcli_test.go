package cloud_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// osc runs the Debian openstack CLI against a fakecloud harness.
type osc struct {
	t     *testing.T
	env   []string
	cloud string
}

func newOSC(t *testing.T, h *cloudtest.Harness) *osc {
	t.Helper()
	bin, err := exec.LookPath("openstack")
	if err != nil {
		if os.Getenv("KAAS_REQUIRE_OPENSTACK_CLI") != "" {
			t.Fatalf("the openstack CLI is not installed: run hack/test-deps.sh (make test does)")
		}
		t.Skip("the openstack CLI is not installed; `make test` installs it and runs this test")
	}
	_ = bin
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(h.CloudsYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"OS_CLIENT_CONFIG_FILE=" + path, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	return &osc{t: t, env: env, cloud: cloudtest.Demo}
}

func (o *osc) as(cloud string) *osc { c := *o; c.cloud = cloud; return &c }

// run runs one command and returns its stdout; a non-zero exit fails the test.
func (o *osc) run(args ...string) string {
	o.t.Helper()
	out, err := o.try(args...)
	if err != nil {
		o.t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (o *osc) try(args ...string) (string, error) {
	cmd := exec.Command("openstack", append([]string{"--os-cloud", o.cloud}, args...)...)
	cmd.Env = o.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// json runs a command with -f json and decodes its output.
func (o *osc) json(args ...string) map[string]any {
	o.t.Helper()
	out := o.run(append(args, "-f", "json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &m); err != nil {
		o.t.Fatalf("openstack %s: output is not a JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

func (o *osc) list(args ...string) []map[string]any {
	o.t.Helper()
	out := o.run(append(args, "-f", "json")...)
	var l []map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &l); err != nil {
		o.t.Fatalf("openstack %s: output is not a JSON list: %v\n%s", strings.Join(args, " "), err, out)
	}
	return l
}

func names(l []map[string]any) string {
	var n []string
	for _, m := range l {
		n = append(n, m["Name"].(string))
	}
	return strings.Join(n, ",")
}

func (o *osc) waitFor(what string, timeout time.Duration, cond func() bool) {
	o.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			o.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestOpenStackCLI scripts the Debian openstack CLI (with the Octavia and Ironic plugins)
// against fakecloud: create, list, show and delete of every resource the providers use.
func TestOpenStackCLI(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)

	net := o.json("network", "create", "cli-net")
	if net["name"] != "cli-net" || net["status"] != "ACTIVE" {
		t.Errorf("network create: %v", net)
	}
	sub := o.json("subnet", "create", "--network", "cli-net", "--subnet-range", "10.20.0.0/24", "cli-subnet")
	if sub["cidr"] != "10.20.0.0/24" || sub["gateway_ip"] != "10.20.0.1" {
		t.Errorf("subnet create: %v", sub)
	}
	o.json("router", "create", "cli-router")
	o.run("router", "set", "--external-gateway", "public", "cli-router")
	o.run("router", "add", "subnet", "cli-router", "cli-subnet")
	if r := o.json("router", "show", "cli-router"); r["external_gateway_info"] == nil {
		t.Errorf("router has no gateway: %v", r)
	}
	o.json("security", "group", "create", "cli-sg")
	o.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "6443", "--ingress", "cli-sg")
	port := o.json("port", "create", "--network", "cli-net", "--security-group", "cli-sg", "cli-port")
	if port["mac_address"] == "" {
		t.Errorf("port create: %v", port)
	}
	if got := names(o.list("network", "list", "--name", "cli-net")); got != "cli-net" {
		t.Errorf("network list --name: %q", got)
	}

	srv := o.json("server", "create", "--flavor", "g1.small", "--image", "kaas-node-v1.36.3", "--network", "cli-net", "--wait", "cli-vm")
	if srv["status"] != "ACTIVE" {
		t.Errorf("server create --wait: %v", srv["status"])
	}
	if l := o.list("server", "list", "--name", "cli-vm"); len(l) != 1 || l[0]["Status"] != "ACTIVE" {
		t.Errorf("server list: %v", l)
	}
	fip := o.json("floating", "ip", "create", "public")
	fipAddr, _ := fip["floating_ip_address"].(string)
	if !strings.HasPrefix(fipAddr, "172.24.4.") {
		t.Errorf("floating ip create: %v", fip)
	}
	o.run("floating", "ip", "set", "--port", "cli-port", fipAddr)
	if f := o.json("floating", "ip", "show", fipAddr); f["port_id"] != port["id"] {
		t.Errorf("floating ip not associated: %v", f)
	}

	lb := o.json("loadbalancer", "create", "--name", "cli-lb", "--vip-subnet-id", "cli-subnet", "--wait")
	if lb["provisioning_status"] != "ACTIVE" {
		t.Errorf("loadbalancer create --wait: %v", lb)
	}
	o.json("loadbalancer", "listener", "create", "--name", "cli-listener", "--protocol", "TCP", "--protocol-port", "6443", "--wait", "cli-lb")
	o.json("loadbalancer", "pool", "create", "--name", "cli-pool", "--lb-algorithm", "ROUND_ROBIN", "--listener", "cli-listener", "--protocol", "TCP", "--wait")
	o.json("loadbalancer", "member", "create", "--address", "10.20.0.10", "--protocol-port", "6443", "--wait", "cli-pool")
	if l := o.list("loadbalancer", "list"); len(l) != 1 {
		t.Errorf("loadbalancer list: %v", l)
	}

	admin := o.as(cloudtest.Admin)
	nodes := admin.list("baremetal", "node", "list")
	if len(nodes) == 0 {
		t.Fatal("no bare-metal nodes enrolled")
	}
	node := admin.json("baremetal", "node", "create", "--driver", "fake-hardware", "--name", "cli-node", "--resource-class", "baremetal.medium")
	if node["provision_state"] != "enroll" {
		t.Errorf("baremetal node create: %v", node["provision_state"])
	}
	admin.run("baremetal", "node", "manage", "cli-node", "--wait", "30")
	admin.run("baremetal", "node", "provide", "cli-node", "--wait", "30")
	if n := admin.json("baremetal", "node", "show", "cli-node"); n["provision_state"] != "available" {
		t.Errorf("after manage and provide: %v", n["provision_state"])
	}
	admin.run("baremetal", "node", "delete", "cli-node")
	// As Ironic's project-scoped policy: a member sees only nodes its project owns (none).
	if l := o.list("baremetal", "node", "list"); len(l) != 0 {
		t.Errorf("a member sees %d bare-metal nodes its project does not own", len(l))
	}

	// Delete everything, in dependency order.
	o.run("loadbalancer", "delete", "--cascade", "--wait", "cli-lb")
	o.run("floating", "ip", "delete", fipAddr)
	o.run("server", "delete", "--wait", "cli-vm")
	o.run("port", "delete", "cli-port")
	o.run("router", "remove", "subnet", "cli-router", "cli-subnet")
	o.run("router", "delete", "cli-router")
	o.run("security", "group", "delete", "cli-sg")
	o.run("subnet", "delete", "cli-subnet")
	o.run("network", "delete", "cli-net")
	if l := o.list("server", "list"); len(l) != 0 {
		t.Errorf("servers left: %v", l)
	}
	if l := o.list("network", "list", "--name", "cli-net"); len(l) != 0 {
		t.Errorf("networks left: %v", l)
	}
	if out, err := o.try("server", "show", "cli-vm"); err == nil || !strings.Contains(out, "No server with a name or ID") {
		t.Errorf("show of a deleted server: %v\n%s", err, out)
	}
}
