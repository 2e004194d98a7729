package cloud_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// The Debian openstack CLI against behaviours fakecloud matches to the real services: floating
// IP status, key pairs kept verbatim, Neutron QoS policies (with ports' qos_policy_id and
// Octavia's vip_qos_policy_id), a router gateway's chosen external_fixed_ips, Ironic interfaces
// per hardware type and the service-shaped 404 of a path no route takes. Each test has its own
// fakecloud and runs in parallel with the others. Bulk create has no CLI command (the CLI makes
// one resource per request).

// stdout runs one command and returns its standard output alone; a non-zero exit fails the test.
func (o *osc) stdout(args ...string) []byte {
	o.t.Helper()
	cmd := exec.Command("openstack", append([]string{"--os-cloud", o.cloud}, args...)...)
	cmd.Env = o.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		o.t.Fatalf("openstack %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// fails runs a command that must exit with status 1 (the CLI's status for a refused request)
// and returns what it printed.
func (o *osc) fails(args ...string) string {
	o.t.Helper()
	out, err := o.try(args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		o.t.Fatalf("openstack %s: want exit status 1, got %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// wants fails the test unless out contains every one of parts.
func wants(t *testing.T, what, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("%s: output lacks %q:\n%s", what, p, out)
		}
	}
}

// cliNetwork makes a member's network and subnet (10.40.0.0/24), and with router a router
// with the public gateway and the subnet attached.
func cliNetwork(o *osc, router bool) {
	o.t.Helper()
	o.run("network", "create", "cli-net")
	o.run("subnet", "create", "--network", "cli-net", "--subnet-range", "10.40.0.0/24", "cli-subnet")
	if router {
		o.run("router", "create", "cli-router")
		o.run("router", "set", "--external-gateway", "public", "cli-router")
		o.run("router", "add", "subnet", "cli-router", "cli-subnet")
	}
}

// TestOpenStackCLIFloatingIPStatus: a floating IP is DOWN while it has no port, ACTIVE while
// it has one, as Neutron.
func TestOpenStackCLIFloatingIPStatus(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)
	cliNetwork(o, true)
	port := o.json("port", "create", "--network", "cli-net", "cli-port")

	fip := o.json("floating", "ip", "create", "public")
	addr, _ := fip["floating_ip_address"].(string)
	if fip["status"] != "DOWN" || fip["port_id"] != nil {
		t.Errorf("floating ip create public: status %v, port %v; want DOWN and none", fip["status"], fip["port_id"])
	}
	if f := o.json("floating", "ip", "show", addr); f["status"] != "DOWN" {
		t.Errorf("floating ip show of an unassociated one: status %v, want DOWN", f["status"])
	}
	o.run("floating", "ip", "set", "--port", "cli-port", addr)
	if f := o.json("floating", "ip", "show", addr); f["status"] != "ACTIVE" || f["port_id"] != port["id"] || f["fixed_ip_address"] == nil {
		t.Errorf("after floating ip set --port: status %v, port %v, fixed IP %v; want ACTIVE on %v", f["status"], f["port_id"], f["fixed_ip_address"], port["id"])
	}
	o.run("floating", "ip", "unset", "--port", addr)
	if f := o.json("floating", "ip", "show", addr); f["status"] != "DOWN" || f["port_id"] != nil || f["fixed_ip_address"] != nil {
		t.Errorf("after floating ip unset --port: status %v, port %v, fixed IP %v; want DOWN and none", f["status"], f["port_id"], f["fixed_ip_address"])
	}
	// Created with a port it is associated at once.
	withPort := o.json("floating", "ip", "create", "--port", "cli-port", "public")
	if withPort["status"] != "ACTIVE" || withPort["port_id"] != port["id"] {
		t.Errorf("floating ip create --port: status %v, port %v", withPort["status"], withPort["port_id"])
	}
}

// TestOpenStackCLIKeypairVerbatim: an imported public key comes back byte for byte, its
// trailing newline included, as Nova keeps it.
func TestOpenStackCLIKeypairVerbatim(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMsTLs+b60OLcL0VyZDN1PatvmGrpspsu9+W2UP0VXx cli@fakecloud\n"
	dir := t.TempDir()
	for name, text := range map[string]string{"with-newline": key, "without-newline": strings.TrimSuffix(key, "\n")} {
		file := filepath.Join(dir, name+".pub")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		kp := o.json("keypair", "create", "--public-key", file, name)
		if kp["name"] != name || kp["fingerprint"] == "" {
			t.Errorf("keypair create --public-key: %v", kp)
		}
		// -f value prints the key as the server returned it and nothing after it.
		if got := o.stdout("keypair", "show", "--public-key", name, "-f", "value"); string(got) != text {
			t.Errorf("keypair show --public-key %s printed %q, want %q", name, got, text)
		}
	}
}

// TestOpenStackCLIQoSPolicy: QoS policies are the admin's to make (a member is refused by
// policy), for a project or shared; a port takes one with --qos-policy and a load balancer's
// VIP with --vip-qos-policy-id.
func TestOpenStackCLIQoSPolicy(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)
	admin := o.as(cloudtest.Admin)
	demo := admin.json("project", "show", "demo")["id"]

	out := o.fails("network", "qos", "policy", "create", "member-qos")
	wants(t, "a member's network qos policy create", out, "403", "rule:create_policy is disallowed by policy")

	pol := admin.json("network", "qos", "policy", "create", "--project", "demo", "--description", "made for demo", "cli-qos")
	if pol["name"] != "cli-qos" || pol["description"] != "made for demo" || pol["project_id"] != demo || pol["shared"] != false {
		t.Errorf("network qos policy create --project demo: %v", pol)
	}
	admin.run("network", "qos", "policy", "create", "admin-qos")
	if got := names(admin.list("network", "qos", "policy", "list")); got != "cli-qos,admin-qos" && got != "admin-qos,cli-qos" {
		t.Errorf("the admin's network qos policy list: %q", got)
	}
	// The member sees its project's policy, not the admin's private one.
	if got := names(o.list("network", "qos", "policy", "list")); got != "cli-qos" {
		t.Errorf("the member's network qos policy list: %q", got)
	}

	admin.run("network", "qos", "policy", "set", "--name", "cli-qos-2", "--description", "renamed", "--share", "cli-qos")
	if p := o.json("network", "qos", "policy", "show", "cli-qos-2"); p["id"] != pol["id"] || p["description"] != "renamed" || p["shared"] != true {
		t.Errorf("network qos policy show after set: %v", p)
	}
	out = o.fails("network", "qos", "policy", "delete", "cli-qos-2")
	wants(t, "a member's network qos policy delete", out, "403", "rule:delete_policy is disallowed by policy")

	cliNetwork(o, false)
	port := o.json("port", "create", "--network", "cli-net", "--qos-policy", "cli-qos-2", "cli-port")
	if port["qos_policy_id"] != pol["id"] {
		t.Errorf("port create --qos-policy: qos_policy_id %v, want %v", port["qos_policy_id"], pol["id"])
	}
	if p := o.json("port", "show", "cli-port"); p["qos_policy_id"] != pol["id"] {
		t.Errorf("port show: qos_policy_id %v, want %v", p["qos_policy_id"], pol["id"])
	}
	lb := o.json("loadbalancer", "create", "--name", "cli-lb", "--vip-subnet-id", "cli-subnet", "--vip-qos-policy-id", "cli-qos-2", "--wait")
	if lb["vip_qos_policy_id"] != pol["id"] || lb["provisioning_status"] != "ACTIVE" {
		t.Errorf("loadbalancer create --vip-qos-policy-id: %v", lb)
	}
	if l := o.json("loadbalancer", "show", "cli-lb"); l["vip_qos_policy_id"] != pol["id"] {
		t.Errorf("loadbalancer show: vip_qos_policy_id %v, want %v", l["vip_qos_policy_id"], pol["id"])
	}
	// Octavia applies the policy to the VIP port.
	vipPort, _ := lb["vip_port_id"].(string)
	if p := o.json("port", "show", vipPort); p["qos_policy_id"] != pol["id"] {
		t.Errorf("the VIP port's qos_policy_id %v, want %v", p["qos_policy_id"], pol["id"])
	}
	// The CLI looks the policy up in Neutron (GET qos/policies?id=, then ?name=) before it asks
	// Octavia, so a policy the member cannot see is refused there and never reaches Octavia's
	// own 400; were the filters ignored, the CLI would take the one policy listed instead.
	const unknown = "6b1c3a4e-0000-4000-8000-000000000000"
	out = o.fails("loadbalancer", "create", "--name", "cli-lb-2", "--vip-subnet-id", "cli-subnet", "--vip-qos-policy-id", unknown)
	wants(t, "loadbalancer create with an unknown QoS policy", out, "Unable to locate "+unknown+" in policies")
	out = o.fails("loadbalancer", "create", "--name", "cli-lb-2", "--vip-subnet-id", "cli-subnet", "--vip-qos-policy-id", "admin-qos")
	wants(t, "loadbalancer create with the admin's private QoS policy", out, "Unable to locate admin-qos in policies")
	if l := o.list("loadbalancer", "list"); len(l) != 1 {
		t.Errorf("loadbalancer list after the refused creates: %v", l)
	}

	// A policy a port or a load balancer's VIP uses cannot be deleted (409); once neither
	// uses it, it can.
	out = admin.fails("network", "qos", "policy", "delete", "cli-qos-2")
	wants(t, "network qos policy delete of a policy ports use", out, "409", "is used by port")
	o.run("port", "delete", "cli-port")
	out = admin.fails("network", "qos", "policy", "delete", "cli-qos-2")
	wants(t, "network qos policy delete of a load balancer's policy", out, "409", "is used by port "+vipPort)
	o.run("loadbalancer", "unset", "--vip-qos-policy-id", "--wait", "cli-lb")
	if l := o.json("loadbalancer", "show", "cli-lb"); l["vip_qos_policy_id"] != nil {
		t.Errorf("loadbalancer unset --vip-qos-policy-id: vip_qos_policy_id %v", l["vip_qos_policy_id"])
	}
	if p := o.json("port", "show", vipPort); p["qos_policy_id"] != nil {
		t.Errorf("the VIP port's qos_policy_id after loadbalancer unset: %v", p["qos_policy_id"])
	}
	admin.run("network", "qos", "policy", "delete", "cli-qos-2")
	if got := names(admin.list("network", "qos", "policy", "list")); got != "admin-qos" {
		t.Errorf("network qos policy list after delete: %q", got)
	}
}

// TestOpenStackCLIRouterGatewayFixedIP: the admin chooses a router gateway's address on the
// external network; a member may not, a taken address is 409 and a subnet of another network
// 400, and neither changes the gateway.
func TestOpenStackCLIRouterGatewayFixedIP(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)
	admin := o.as(cloudtest.Admin)
	cliNetwork(o, true)

	gatewayIPs := func() string {
		t.Helper()
		r := o.json("router", "show", "cli-router")
		info, _ := r["external_gateway_info"].(map[string]any)
		fixed, _ := info["external_fixed_ips"].([]any)
		var ips []string
		for _, f := range fixed {
			ip, _ := f.(map[string]any)["ip_address"].(string)
			ips = append(ips, ip)
		}
		return strings.Join(ips, ",")
	}
	before := gatewayIPs()
	if !strings.HasPrefix(before, "172.24.4.") {
		t.Fatalf("the router's gateway has addresses %q", before)
	}

	out := o.fails("router", "set", "--external-gateway", "public", "--fixed-ip", "subnet=public-subnet,ip-address=172.24.4.200", "cli-router")
	wants(t, "a member's router set --fixed-ip", out, "403", "external_fixed_ips", "is disallowed by policy")
	if got := gatewayIPs(); got != before {
		t.Errorf("after the member's refused router set: gateway %q, want %q", got, before)
	}

	admin.run("router", "set", "--external-gateway", "public", "--fixed-ip", "subnet=public-subnet,ip-address=172.24.4.200", "cli-router")
	if got := gatewayIPs(); got != "172.24.4.200" {
		t.Errorf("router show after router set --fixed-ip ip-address=172.24.4.200: gateway %q", got)
	}

	taken, _ := o.json("floating", "ip", "create", "public")["floating_ip_address"].(string)
	out = admin.fails("router", "set", "--external-gateway", "public", "--fixed-ip", "subnet=public-subnet,ip-address="+taken, "cli-router")
	wants(t, "router set --fixed-ip with a floating IP's address", out, "409", "IP address "+taken+" already allocated")
	out = admin.fails("router", "set", "--external-gateway", "public", "--fixed-ip", "subnet=cli-subnet,ip-address=10.40.0.99", "cli-router")
	wants(t, "router set --fixed-ip on a subnet of another network", out, "400", "invalid subnet")
	if got := gatewayIPs(); got != "172.24.4.200" {
		t.Errorf("after the refused router sets: gateway %q, want 172.24.4.200", got)
	}
}

// TestOpenStackCLIBareMetalInterfaces: a node takes the interface implementations its hardware
// type supports (ipmi: agent RAID) and is refused others, with the valid ones named.
func TestOpenStackCLIBareMetalInterfaces(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	admin := newOSC(t, h).as(cloudtest.Admin)
	bm := []string{"--os-baremetal-api-version", "1.38", "baremetal"}
	cmd := func(args ...string) []string { return append(append([]string{}, bm...), args...) }

	if d := admin.json(cmd("driver", "show", "ipmi")...); !strings.Contains(d["enabled_raid_interfaces"].(string), "agent") {
		t.Errorf("baremetal driver show ipmi: enabled_raid_interfaces %v", d["enabled_raid_interfaces"])
	}
	node := admin.json(cmd("node", "create", "--driver", "ipmi", "--raid-interface", "agent", "--name", "cli-ipmi")...)
	if node["driver"] != "ipmi" || node["raid_interface"] != "agent" || node["provision_state"] != "enroll" {
		t.Errorf("baremetal node create --driver ipmi --raid-interface agent: %v", node)
	}
	if n := admin.json(cmd("node", "show", "cli-ipmi")...); n["raid_interface"] != "agent" || n["management_interface"] != "ipmitool" {
		t.Errorf("baremetal node show: raid %v, management %v", n["raid_interface"], n["management_interface"])
	}

	out := admin.fails(cmd("node", "create", "--driver", "ipmi", "--raid-interface", "fake", "--name", "cli-bad")...)
	wants(t, "baremetal node create --driver ipmi --raid-interface fake", out,
		"HTTP 400", "'fake' is not supported by hardware type ipmi", "Valid raid interfaces for ipmi are no-raid, agent")
	if out, err := admin.try(cmd("node", "show", "cli-bad")...); err == nil {
		t.Errorf("the refused node exists:\n%s", out)
	}
	out = admin.fails(cmd("node", "set", "--raid-interface", "fake", "cli-ipmi")...)
	wants(t, "baremetal node set --raid-interface fake", out, "HTTP 400", "Valid raid interfaces for ipmi are no-raid, agent")
	if n := admin.json(cmd("node", "show", "cli-ipmi")...); n["raid_interface"] != "agent" {
		t.Errorf("after the refused node set: raid_interface %v", n["raid_interface"])
	}
	// fake-hardware takes any enabled implementation.
	if n := admin.json(cmd("node", "create", "--driver", "fake-hardware", "--raid-interface", "fake", "--name", "cli-fake")...); n["raid_interface"] != "fake" {
		t.Errorf("baremetal node create --driver fake-hardware --raid-interface fake: %v", n["raid_interface"])
	}
}

// TestOpenStackCLIUnknownPath: commands of API extensions fakecloud does not have reach paths
// no route takes; the service's JSON 404 lets the CLI print the service's message.
func TestOpenStackCLIUnknownPath(t *testing.T) {
	t.Parallel()
	h := cloudtest.Start(t)
	o := newOSC(t, h)
	admin := o.as(cloudtest.Admin)

	out := o.fails("network", "trunk", "list")
	wants(t, "network trunk list (python-neutronclient)", out, "The resource could not be found: GET /network/v2.0/trunks.")
	out = o.fails("network", "meter", "list")
	wants(t, "network meter list (openstacksdk)", out, "ResourceNotFound: 404", "The resource could not be found: GET /network/v2.0/metering/metering-labels.")
	out = admin.fails("baremetal", "conductor", "list")
	wants(t, "baremetal conductor list (ironicclient)", out, "The resource could not be found: GET /baremetal/v1/conductors. (HTTP 404)")
}
