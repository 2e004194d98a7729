package loadbalancer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

func TestLoadBalancerLifecycle(t *testing.T) {
	h := newHarness(t)
	release := h.backend.hold()
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{
		"vip_subnet_id": subnetDemo, "name": "web", "description": "d", "tags": []string{"a", "b"},
	}})
	lb := out["loadbalancer"].(map[string]any)
	id := lb["id"].(string)
	if lb["provisioning_status"] != StatusPendingCreate || lb["operating_status"] != OpOffline {
		t.Fatalf("new load balancer: %v", lb)
	}
	if lb["vip_address"] == "" || lb["vip_port_id"] == "" || lb["vip_network_id"] != netDemo || lb["vip_subnet_id"] != subnetDemo || lb["provider"] != "amphora" {
		t.Fatalf("vip not allocated: %v", lb)
	}
	port, ok := h.ports.ports.Get(lb["vip_port_id"].(string))
	if !ok || port.Device != "lb-"+id {
		t.Fatalf("vip port %v not bound to lb-%s", port, id)
	}
	// Immutable while PENDING_CREATE.
	_, e := h.do("PUT", "/v2.0/lbaas/loadbalancers/"+id, "demo", map[string]any{"loadbalancer": map[string]any{"name": "x"}})
	if e["faultstring"] != fmt.Sprintf("Invalid state PENDING_CREATE of loadbalancer resource %s", id) {
		t.Fatalf("update while pending: %v", e)
	}
	release()
	h.wait(id, StatusActive)
	got := h.must(200, "GET", "/v2/lbaas/loadbalancers/"+id, "demo", nil)
	if field(got, "loadbalancer", "operating_status") != OpOnline {
		t.Fatalf("active load balancer: %v", got)
	}
	spec, ok := h.backend.Spec(id)
	if !ok || spec.VIP.Address != lb["vip_address"] || spec.VIP.External {
		t.Fatalf("backend spec %+v", spec)
	}

	// Lists with filters, on every alias.
	h.activeLB("demo")
	for _, p := range []string{"/v2.0/lbaas", "/v2/lbaas", "/v2.0", "/v2"} {
		l := h.must(200, "GET", p+"/loadbalancers?name=web", "demo", nil)
		if n := len(l["loadbalancers"].([]any)); n != 1 {
			t.Fatalf("%s list name=web: %d results", p, n)
		}
	}
	l := h.must(200, "GET", "/v2.0/lbaas/loadbalancers?tags=a", "demo", nil)
	if n := len(l["loadbalancers"].([]any)); n != 1 {
		t.Fatalf("tags=a: %d", n)
	}
	l = h.must(200, "GET", "/v2.0/lbaas/loadbalancers?limit=1", "demo", nil)
	if len(l["loadbalancers"].([]any)) != 1 || len(l["loadbalancers_links"].([]any)) != 1 {
		t.Fatalf("limit=1: %v", l)
	}
	h.must(400, "GET", "/v2.0/lbaas/loadbalancers?bogus=1", "demo", nil)
	h.must(400, "GET", "/v2.0/lbaas/loadbalancers?sort_key=bogus", "demo", nil)
	h.must(400, "GET", "/v2.0/lbaas/loadbalancers?marker=nope", "demo", nil)

	// Update.
	release = h.backend.hold()
	up := h.must(200, "PUT", "/v2.0/lbaas/loadbalancers/"+id, "demo", map[string]any{"loadbalancer": map[string]any{"name": "web2", "admin_state_up": false}})
	if field(up, "loadbalancer", "provisioning_status") != StatusPendingUpdate || field(up, "loadbalancer", "name") != "web2" {
		t.Fatalf("update: %v", up)
	}
	_, e = h.do("DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	if e["faultstring"] != fmt.Sprintf("Invalid state PENDING_UPDATE of loadbalancer resource %s", id) {
		t.Fatalf("delete while pending: %v", e)
	}
	release()
	got2 := h.wait(id, StatusActive)
	for name, want := range map[string]int{"web": 0, "WEB2": 1, "web2": 1} {
		if l := h.must(200, "GET", "/v2.0/lbaas/loadbalancers?name="+name, "demo", nil); len(l["loadbalancers"].([]any)) != want {
			t.Fatalf("name=%s after rename: %v", name, l)
		}
	}
	if got2.OperatingStatus != OpOffline {
		t.Fatalf("disabled load balancer operating status %s", got2.OperatingStatus)
	}

	// Status tree, stats, failover.
	st := h.must(200, "GET", "/v2.0/lbaas/loadbalancers/"+id+"/status", "demo", nil)
	if st["statuses"].(map[string]any)["loadbalancer"].(map[string]any)["id"] != id {
		t.Fatalf("status: %v", st)
	}
	h.must(200, "GET", "/v2.0/lbaas/loadbalancers/"+id+"/stats", "demo", nil)
	release = h.backend.hold()
	h.must(202, "PUT", "/v2.0/lbaas/loadbalancers/"+id+"/failover", "demo", nil)
	h.must(409, "PUT", "/v2.0/lbaas/loadbalancers/"+id+"/failover", "demo", nil)
	release()
	h.wait(id, StatusActive)

	// Delete.
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	h.wait(id, "")
	h.must(404, "GET", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	if l := h.must(200, "GET", "/v2.0/lbaas/loadbalancers?name=web2", "demo", nil); len(l["loadbalancers"].([]any)) != 0 {
		t.Fatalf("name index kept a deleted load balancer: %v", l)
	}
	if _, ok := h.ports.ports.Get(lb["vip_port_id"].(string)); ok {
		t.Fatal("vip port survived the load balancer")
	}
	if _, ok := h.backend.Spec(id); ok {
		t.Fatal("backend still has the load balancer")
	}
}

func TestVIPChoices(t *testing.T) {
	h := newHarness(t)
	// Network only.
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_network_id": netDemo}})
	if field(out, "loadbalancer", "vip_subnet_id") != subnetDemo {
		t.Fatalf("network vip: %v", out)
	}
	// Address.
	out = h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo, "vip_address": "10.0.5.5"}})
	if field(out, "loadbalancer", "vip_address") != "10.0.5.5" {
		t.Fatalf("address vip: %v", out)
	}
	// The same address again is a conflict from Neutron.
	h.must(409, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo, "vip_address": "10.0.5.5"}})
	// Address outside the subnet.
	h.must(400, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo, "vip_address": "192.168.0.1"}})
	// A user's port is bound, and kept after delete.
	pid := h.ports.userPort(t, h.DB, "demo", "10.0.9.9")
	out = h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_port_id": pid}})
	id := field(out, "loadbalancer", "id").(string)
	if field(out, "loadbalancer", "vip_address") != "10.0.9.9" || field(out, "loadbalancer", "vip_port_id") != pid {
		t.Fatalf("port vip: %v", out)
	}
	// A port already in use.
	h.must(409, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_port_id": pid}})
	h.wait(id, StatusActive)
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	h.wait(id, "")
	if p, ok := h.ports.ports.Get(pid); !ok || p.Device != "" {
		t.Fatalf("user port after delete: %v %v", p, ok)
	}
	// External network: the VIP is public.
	out = h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "admin", map[string]any{"loadbalancer": map[string]any{"vip_network_id": netExt}})
	id = field(out, "loadbalancer", "id").(string)
	h.wait(id, StatusActive)
	if spec, _ := h.backend.Spec(id); !spec.VIP.External {
		t.Fatalf("external vip not flagged: %+v", spec.VIP)
	}
	// Unknown subnet, port, network; nothing at all.
	_, e := h.do("POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": "99999999-2222-4222-8222-222222222222"}})
	if e["faultstring"] != "Subnet 99999999-2222-4222-8222-222222222222 not found." {
		t.Fatalf("unknown subnet: %v", e)
	}
	h.must(400, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_port_id": "99999999-2222-4222-8222-222222222222"}})
	h.must(400, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_network_id": "99999999-2222-4222-8222-222222222222"}})
	_, e = h.do("POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"name": "x"}})
	if e["faultstring"] != "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id." {
		t.Fatalf("no vip: %v", e)
	}
}

func TestLoadBalancerBadInput(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		body any
		want int
	}{
		{`{"loadbalancer": `, 400},
		{`[]`, 400},
		{`{}`, 400},
		{`{"loadbalancer": null}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": 5}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "not-a-uuid"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "vip_address": "1.2.3"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "admin_state_up": "yes"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "name": "` + strings.Repeat("n", 256) + `"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "provider": "f5"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "flavor_id": "` + subnetDemo + `"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "tags": "a"}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "listeners": [{"protocol": "TCP"}]}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "project_id": "other"}}`, 403},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `"}} trailing`, 400},
	}
	for _, c := range cases {
		if got, out := h.do("POST", "/v2.0/lbaas/loadbalancers", "demo", c.body); got != c.want {
			t.Errorf("%v: %d %v, want %d", c.body, got, out, c.want)
		} else if out["faultstring"] == nil || out["faultcode"] != "Client" {
			t.Errorf("%v: error body %v", c.body, out)
		}
	}
	h.must(413, "POST", "/v2.0/lbaas/loadbalancers", "demo", `{"loadbalancer": {"name": "`+strings.Repeat("x", 2<<20)+`"}}`)
	h.must(404, "GET", "/v2.0/lbaas/loadbalancers/not-a-uuid", "demo", nil)
	h.must(401, "GET", "/v2.0/lbaas/loadbalancers", "", nil)
	h.must(403, "POST", "/v2.0/lbaas/loadbalancers", "reader", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo}})
	h.must(404, "PUT", "/v2.0/lbaas/loadbalancers/"+subnetDemo, "demo", map[string]any{"loadbalancer": map[string]any{}})
	h.must(404, "DELETE", "/v2.0/lbaas/loadbalancers/"+subnetDemo, "demo", nil)
	// Admin may create for another project.
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "admin", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo, "project_id": "demo"}})
	if field(out, "loadbalancer", "project_id") != "demo" {
		t.Fatalf("admin create for demo: %v", out)
	}
}

func TestProjectIsolation(t *testing.T) {
	h := newHarness(t)
	id := h.activeLB("demo")
	h.activeLB("other")
	_, e := h.do("GET", "/v2.0/lbaas/loadbalancers/"+id, "other", nil)
	if e["faultstring"] != "Policy does not allow this request to be performed." {
		t.Fatalf("foreign get: %v", e)
	}
	h.must(403, "PUT", "/v2.0/lbaas/loadbalancers/"+id, "other", map[string]any{"loadbalancer": map[string]any{"name": "x"}})
	h.must(403, "DELETE", "/v2.0/lbaas/loadbalancers/"+id, "other", nil)
	h.must(403, "POST", "/v2.0/lbaas/listeners", "other", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	l := h.must(200, "GET", "/v2.0/lbaas/loadbalancers", "other", nil)
	if n := len(l["loadbalancers"].([]any)); n != 1 {
		t.Fatalf("other sees %d load balancers", n)
	}
	h.must(403, "GET", "/v2.0/lbaas/loadbalancers?project_id=demo", "other", nil)
	l = h.must(200, "GET", "/v2.0/lbaas/loadbalancers", "admin", nil)
	if n := len(l["loadbalancers"].([]any)); n != 2 {
		t.Fatalf("admin sees %d load balancers", n)
	}
	l = h.must(200, "GET", "/v2.0/lbaas/loadbalancers?project_id=demo", "admin", nil)
	if n := len(l["loadbalancers"].([]any)); n != 1 {
		t.Fatalf("admin project_id=demo sees %d", n)
	}
	h.must(200, "GET", "/v2.0/lbaas/loadbalancers/"+id, "admin", nil)
	h.must(200, "GET", "/v2.0/lbaas/loadbalancers/"+id, "reader", nil)
}

func TestQuotas(t *testing.T) {
	h := newHarness(t)
	h.quotas.set("demo", "loadbalancer", 1)
	h.activeLB("demo")
	_, e := h.do("POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo}})
	if e["faultstring"] != "Quota has been met for resources: Load Balancer" {
		t.Fatalf("over quota: %v", e)
	}
	// API quotas.
	q := h.must(200, "GET", "/v2.0/lbaas/quotas/other", "other", nil)
	if field(q, "quota", "load_balancer") != float64(-1) || field(q, "quota", "loadbalancer") != float64(-1) {
		t.Fatalf("default quota: %v", q)
	}
	h.must(403, "GET", "/v2.0/lbaas/quotas/demo", "other", nil)
	h.must(403, "PUT", "/v2.0/lbaas/quotas/other", "other", map[string]any{"quota": map[string]any{"listener": 1}})
	h.must(400, "PUT", "/v2.0/lbaas/quotas/other", "admin", map[string]any{"quota": map[string]any{"listener": -2}})
	q = h.must(202, "PUT", "/v2.0/quotas/other", "admin", map[string]any{"quota": map[string]any{"listener": 1, "loadbalancer": 5}})
	if field(q, "quota", "listener") != float64(1) || field(q, "quota", "load_balancer") != float64(5) {
		t.Fatalf("updated quota: %v", q)
	}
	l := h.must(200, "GET", "/v2.0/lbaas/quotas", "admin", nil)
	if n := len(l["quotas"].([]any)); n != 1 {
		t.Fatalf("quota list: %v", l)
	}
	h.must(200, "GET", "/v2.0/lbaas/quotas/other/default", "other", nil)
	id := h.activeLB("other")
	h.must(201, "POST", "/v2.0/lbaas/listeners", "other", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	h.wait(id, StatusActive)
	_, e = h.do("POST", "/v2.0/lbaas/listeners", "other", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 81}})
	if e["faultstring"] != "Quota has been met for resources: Listener" {
		t.Fatalf("listener quota: %v", e)
	}
	h.must(202, "DELETE", "/v2.0/lbaas/quotas/other", "admin", nil)
	h.must(201, "POST", "/v2.0/lbaas/listeners", "other", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 81}})
}

func TestBackendFailureAndRetry(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{maxTry: 3})
	h.backend.setFail(services.Permanent(errBoom))
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo}})
	id := field(out, "loadbalancer", "id").(string)
	lb := h.wait(id, StatusError)
	if lb.Fault != "boom" {
		t.Fatalf("fault %q", lb.Fault)
	}
	// Children cannot be created on an ERROR load balancer.
	h.must(409, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	// Failover retries the configuration.
	h.backend.setFail(nil)
	h.must(202, "PUT", "/v2.0/lbaas/loadbalancers/"+id+"/failover", "demo", nil)
	h.wait(id, StatusActive)

	// A transient error is retried until it gives up.
	h.backend.setFail(errBoom)
	h.must(200, "PUT", "/v2.0/lbaas/loadbalancers/"+id, "demo", map[string]any{"loadbalancer": map[string]any{"name": "x"}})
	h.wait(id, StatusError)
	// An update of an ERROR load balancer retries too.
	h.backend.setFail(nil)
	h.must(200, "PUT", "/v2.0/lbaas/loadbalancers/"+id, "demo", map[string]any{"loadbalancer": map[string]any{"name": "y"}})
	h.wait(id, StatusActive)
	// ERROR load balancers can be deleted.
	h.backend.setFail(services.Permanent(errBoom))
	h.must(200, "PUT", "/v2.0/lbaas/loadbalancers/"+id, "demo", map[string]any{"loadbalancer": map[string]any{"name": "z"}})
	h.wait(id, StatusError)
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	h.wait(id, "")
}

// stuck is a Staller that holds every load balancer creation.
type stuck struct{ d time.Duration }

func (s stuck) Stall(kind, project string) (time.Duration, bool) {
	return s.d, kind == TaskCreate
}

func TestStuckCreateGoesToError(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{staller: stuck{400 * time.Millisecond}})
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo}})
	id := field(out, "loadbalancer", "id").(string)
	time.Sleep(50 * time.Millisecond)
	if lb, _ := h.svc.lbs.Get(id); lb.ProvisioningStatus != StatusPendingCreate {
		t.Fatalf("stuck load balancer is %s", lb.ProvisioningStatus)
	}
	lb := h.wait(id, StatusError)
	if !strings.Contains(lb.Fault, "stuck") {
		t.Fatalf("fault %q", lb.Fault)
	}
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	h.wait(id, "")
}

func TestVersionsAndProviders(t *testing.T) {
	h := newHarness(t)
	h.must(200, "GET", "", "", nil)
	v := h.must(200, "GET", "/", "", nil)
	vs := v["versions"].([]any)
	last := vs[len(vs)-1].(map[string]any)
	if last["status"] != "CURRENT" || !strings.HasSuffix(last["links"].([]any)[0].(map[string]any)["href"].(string), "/load-balancer/v2") {
		t.Fatalf("versions: %v", last)
	}
	p := h.must(200, "GET", "/v2.0/lbaas/providers", "demo", nil)
	if p["providers"].([]any)[0].(map[string]any)["name"] != "amphora" {
		t.Fatalf("providers: %v", p)
	}
	if f := h.must(200, "GET", "/v2.0/lbaas/flavors", "demo", nil); len(f["flavors"].([]any)) != 0 {
		t.Fatalf("flavors: %v", f)
	}
	h.must(404, "GET", "/v2.0/lbaas/l7policies/"+subnetDemo, "demo", nil)
	h.must(403, "GET", "/v2/octavia/amphorae", "demo", nil)
	h.must(200, "GET", "/v2/octavia/amphorae", "admin", nil)
}

func TestRestartResumesPendingWork(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{build: time.Hour})
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo}})
	id := field(out, "loadbalancer", "id").(string)
	if !h.Tasks.Has(TaskCreate, id) {
		t.Fatal("no create task pending")
	}
	// The task itself is idempotent: running it twice leaves one ACTIVE load balancer.
	task := h.Tasks.Pending()[0]
	hd := &taskHandler{s: h.svc}
	for i := 0; i < 2; i++ {
		if err := hd.Run(t.Context(), task); err != nil {
			t.Fatal(err)
		}
	}
	if lb, _ := h.svc.lbs.Get(id); lb.ProvisioningStatus != StatusActive {
		t.Fatalf("after run: %s", lb.ProvisioningStatus)
	}
}

func TestRestartFinishesPendingWork(t *testing.T) {
	dir := t.TempDir()
	h := newHarnessWith(t, harnessOpts{dir: dir})
	id := h.activeLB("demo")
	h.backend.hold() // the task starts and hangs in the backend when the process "dies"
	h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	h.Stop()

	h2 := newHarnessWith(t, harnessOpts{dir: dir, build: time.Millisecond})
	// The listener was PENDING_CREATE when the first process stopped; only the task reloaded
	// by the second can have made it ACTIVE.
	h2.wait(id, StatusActive)
	if l := h2.svc.listeners.List(nil); len(l) != 1 || l[0].ProvisioningStatus != StatusActive {
		t.Fatalf("listener after restart: %+v", l)
	}
}
