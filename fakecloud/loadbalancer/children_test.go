package loadbalancer

import (
	"fmt"
	"testing"
)

func TestListeners(t *testing.T) {
	h := newHarness(t)
	id := h.activeLB("demo")
	release := h.backend.hold()
	out := h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{
		"loadbalancer_id": id, "protocol": "HTTP", "protocol_port": 80, "name": "web", "connection_limit": 100,
		"timeout_client_data": 1000, "insert_headers": map[string]string{"X-Forwarded-For": "true"},
	}})
	lid := field(out, "listener", "id").(string)
	if field(out, "listener", "provisioning_status") != StatusPendingCreate || field(out, "listener", "timeout_member_connect") != float64(defaultTimeoutMemberConnect) {
		t.Fatalf("new listener: %v", out)
	}
	if lb, _ := h.svc.lbs.Get(id); lb.ProvisioningStatus != StatusPendingUpdate {
		t.Fatalf("load balancer during listener create: %s", lb.ProvisioningStatus)
	}
	_, e := h.do("POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 81}})
	if e["faultstring"] != fmt.Sprintf("Load Balancer %s is immutable and cannot be updated.", id) {
		t.Fatalf("create while pending: %v", e)
	}
	release()
	h.wait(id, StatusActive)
	got := h.must(200, "GET", "/v2.0/lbaas/listeners/"+lid, "demo", nil)
	if field(got, "listener", "provisioning_status") != StatusActive || field(got, "listener", "operating_status") != OpOnline {
		t.Fatalf("listener after apply: %v", got)
	}
	// Same L4 protocol and port.
	_, e = h.do("POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	if e["faultstring"] != "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80" {
		t.Fatalf("duplicate port: %v", e)
	}
	// UDP on the same port is fine.
	h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "UDP", "protocol_port": 80}})
	h.wait(id, StatusActive)
	for _, bad := range []map[string]any{
		{"loadbalancer_id": id, "protocol": "FTP", "protocol_port": 21},
		{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 0},
		{"loadbalancer_id": id, "protocol": "TCP"},
		{"protocol": "TCP", "protocol_port": 22},
		{"loadbalancer_id": id, "protocol": "TERMINATED_HTTPS", "protocol_port": 443},
		{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 22, "connection_limit": -5},
		{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 22, "insert_headers": map[string]string{"X-Forwarded-For": "true"}},
		{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 22, "default_pool_id": subnetDemo},
	} {
		if code, e := h.do("POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": bad}); code/100 != 4 {
			t.Errorf("%v: %d %v", bad, code, e)
		}
	}
	h.must(404, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": subnetDemo, "protocol": "TCP", "protocol_port": 22}})
	h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_tls_container_ref": "http://barbican/containers/x"}})
	h.wait(id, StatusActive)

	// List filters.
	l := h.must(200, "GET", "/v2.0/lbaas/listeners?loadbalancer_id="+id+"&protocol=UDP", "demo", nil)
	if n := len(l["listeners"].([]any)); n != 1 {
		t.Fatalf("filtered listeners: %d", n)
	}
	l = h.must(200, "GET", "/v2.0/lbaas/listeners", "other", nil)
	if n := len(l["listeners"].([]any)); n != 0 {
		t.Fatalf("other sees %d listeners", n)
	}
	h.must(403, "GET", "/v2.0/lbaas/listeners/"+lid, "other", nil)

	// Update: null resets to the default.
	release = h.backend.hold()
	up := h.must(200, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"connection_limit": nil, "timeout_client_data": nil, "name": "web2"}})
	if field(up, "listener", "connection_limit") != float64(-1) || field(up, "listener", "timeout_client_data") != float64(defaultTimeoutClientData) || field(up, "listener", "provisioning_status") != StatusPendingUpdate {
		t.Fatalf("listener update: %v", up)
	}
	h.must(409, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"name": "x"}})
	release()
	h.wait(id, StatusActive)
	h.must(400, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"protocol_port": 90}})
	h.must(200, "GET", "/v2.0/lbaas/listeners/"+lid+"/stats", "demo", nil)

	// Delete.
	release = h.backend.hold()
	h.must(204, "DELETE", "/v2.0/lbaas/listeners/"+lid, "demo", nil)
	if l, _ := h.svc.listeners.Get(lid); l.ProvisioningStatus != StatusPendingDelete {
		t.Fatalf("deleting listener: %s", l.ProvisioningStatus)
	}
	release()
	h.wait(id, StatusActive)
	h.must(404, "GET", "/v2.0/lbaas/listeners/"+lid, "demo", nil)
	if lb, _ := h.svc.lbs.Get(id); len(lb.ListenerIDs) != 2 {
		t.Fatalf("listener ids after delete: %v", lb.ListenerIDs)
	}
}

func TestPoolsMembersMonitors(t *testing.T) {
	h := newHarness(t)
	id := h.activeLB("demo")
	lis := h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "HTTP", "protocol_port": 80}})
	lid := field(lis, "listener", "id").(string)
	h.wait(id, StatusActive)

	// Pool on the listener: protocol must fit.
	_, e := h.do("POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": lid, "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN"}})
	if e["faultstring"] != "Validation failure: The pool protocol 'UDP' is invalid while the listener protocol is 'HTTP'." {
		t.Fatalf("protocol mismatch: %v", e)
	}
	h.must(400, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}})
	h.must(400, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": lid, "protocol": "HTTP", "lb_algorithm": "RANDOM"}})
	h.must(400, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": lid, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": map[string]any{"type": "APP_COOKIE"}}})
	po := h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{
		"listener_id": lid, "protocol": "HTTP", "lb_algorithm": "LEAST_CONNECTIONS", "name": "p",
		"session_persistence": map[string]any{"type": "HTTP_COOKIE"},
	}})
	pid := field(po, "pool", "id").(string)
	if l, _ := h.svc.listeners.Get(lid); l.DefaultPoolID != pid || l.ProvisioningStatus == StatusPendingCreate {
		t.Fatalf("listener after pool create: %+v", l)
	}
	h.wait(id, StatusActive)
	_, e = h.do("POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": lid, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}})
	if e["faultstring"] != "This listener already has a default pool" {
		t.Fatalf("second default pool: %v", e)
	}
	// A pool on the load balancer only.
	po2 := h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}})
	pid2 := field(po2, "pool", "id").(string)
	h.wait(id, StatusActive)

	// Members.
	mem := h.must(201, "POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.1.10", "protocol_port": 8080, "subnet_id": subnetDemo, "weight": 5}})
	mid := field(mem, "member", "id").(string)
	if field(mem, "member", "operating_status") != OpNoMonitor || field(mem, "member", "provisioning_status") != StatusPendingCreate {
		t.Fatalf("new member: %v", mem)
	}
	h.wait(id, StatusActive)
	_, e = h.do("POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.1.10", "protocol_port": 8080}})
	if e["faultstring"] != "Another member on this pool is already using ip 10.0.1.10 on protocol_port 8080" {
		t.Fatalf("duplicate member: %v", e)
	}
	h.must(400, "POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.1.11", "protocol_port": 8080, "weight": 300}})
	h.must(400, "POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "ten", "protocol_port": 8080}})
	h.must(404, "POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.1.11", "protocol_port": 8080, "subnet_id": netDemo}})
	h.must(404, "GET", "/v2.0/lbaas/pools/"+pid2+"/members/"+mid, "demo", nil)
	h.must(404, "GET", "/v2.0/lbaas/pools/"+subnetDemo+"/members", "demo", nil)
	h.must(403, "GET", "/v2.0/lbaas/pools/"+pid+"/members", "other", nil)
	up := h.must(200, "PUT", "/v2.0/lbaas/pools/"+pid+"/members/"+mid, "demo", map[string]any{"member": map[string]any{"weight": nil, "backup": true}})
	if field(up, "member", "weight") != float64(1) || field(up, "member", "backup") != true {
		t.Fatalf("member update: %v", up)
	}
	h.wait(id, StatusActive)

	// Health monitor.
	h.must(400, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3, "url_path": "/x"}})
	h.must(400, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "UDP-CONNECT", "delay": 5, "timeout": 3, "max_retries": 3}})
	h.must(400, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 11}})
	h.must(400, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "HTTP", "delay": 5, "timeout": 3}})
	hm := h.must(201, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}})
	hid := field(hm, "healthmonitor", "id").(string)
	if field(hm, "healthmonitor", "http_method") != "GET" || field(hm, "healthmonitor", "url_path") != "/" || field(hm, "healthmonitor", "expected_codes") != "200" || field(hm, "healthmonitor", "max_retries_down") != float64(3) {
		t.Fatalf("http monitor defaults: %v", hm)
	}
	h.wait(id, StatusActive)
	_, e = h.do("POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}})
	if e["faultstring"] != "This pool already has a health monitor" {
		t.Fatalf("second monitor: %v", e)
	}
	got := h.must(200, "GET", "/v2.0/lbaas/pools/"+pid+"/members/"+mid, "demo", nil)
	if field(got, "member", "operating_status") != OpOnline {
		t.Fatalf("monitored member: %v", got)
	}
	pool := h.must(200, "GET", "/v2.0/lbaas/pools/"+pid, "demo", nil)
	if field(pool, "pool", "healthmonitor_id") != hid || len(field(pool, "pool", "members").([]any)) != 1 || field(pool, "pool", "operating_status") != OpOnline {
		t.Fatalf("pool: %v", pool)
	}
	h.must(400, "PUT", "/v2.0/lbaas/healthmonitors/"+hid, "demo", map[string]any{"healthmonitor": map[string]any{"delay": nil}})
	h.must(200, "PUT", "/v2.0/lbaas/healthmonitors/"+hid, "demo", map[string]any{"healthmonitor": map[string]any{"url_path": "/healthz", "expected_codes": "200-299"}})
	h.wait(id, StatusActive)

	// Lists: each under its key, with its links, scoped to the caller's project, filtered.
	for _, c := range []struct {
		path, key string
		demo      int
	}{
		{"/v2.0/lbaas/pools", "pools", 2},
		{"/v2.0/lbaas/pools?protocol=TCP", "pools", 1},
		{"/v2.0/lbaas/healthmonitors", "healthmonitors", 1},
		{"/v2.0/lbaas/healthmonitors?type=TCP", "healthmonitors", 0},
	} {
		for token, want := range map[string]int{"demo": c.demo, "other": 0} {
			l := h.must(200, "GET", c.path, token, nil)
			if n := len(l[c.key].([]any)); n != want {
				t.Errorf("GET %s as %s: %d %s, want %d", c.path, token, n, c.key, want)
			}
			if _, ok := l[c.key+"_links"]; !ok {
				t.Errorf("GET %s: no %s_links in %v", c.path, c.key, l)
			}
		}
	}

	// Health reported by the backend.
	h.backend.mu.Lock()
	h.backend.health = map[string]string{mid: OpError}
	h.backend.mu.Unlock()
	h.svc.RefreshHealth(t.Context())
	if m, _ := h.svc.members.Get(mid); m.OperatingStatus != OpError {
		t.Fatalf("member health: %s", m.OperatingStatus)
	}
	if p, _ := h.svc.pools.Get(pid); p.OperatingStatus != OpError {
		t.Fatalf("pool health: %s", p.OperatingStatus)
	}
	if lb, _ := h.svc.lbs.Get(id); lb.OperatingStatus != OpDegraded {
		t.Fatalf("load balancer health: %s", lb.OperatingStatus)
	}
	st := h.must(200, "GET", "/v2.0/lbaas/loadbalancers/"+id+"/status", "demo", nil)
	tree := st["statuses"].(map[string]any)["loadbalancer"].(map[string]any)
	pools := tree["listeners"].([]any)[0].(map[string]any)["pools"].([]any)
	if pools[0].(map[string]any)["health_monitor"].(map[string]any)["id"] != hid {
		t.Fatalf("status tree: %v", tree)
	}

	// Batch update: one kept, one new; the old one goes.
	h.must(202, "PUT", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"members": []map[string]any{
		{"address": "10.0.1.20", "protocol_port": 8080}, {"address": "10.0.1.21", "protocol_port": 8080},
	}})
	h.wait(id, StatusActive)
	l := h.must(200, "GET", "/v2.0/lbaas/pools/"+pid+"/members", "demo", nil)
	if n := len(l["members"].([]any)); n != 2 {
		t.Fatalf("members after batch: %v", l)
	}
	h.must(202, "PUT", "/v2.0/lbaas/pools/"+pid+"/members?additive_only=true", "demo", map[string]any{"members": []map[string]any{{"address": "10.0.1.22", "protocol_port": 8080}}})
	h.wait(id, StatusActive)
	l = h.must(200, "GET", "/v2.0/lbaas/pools/"+pid+"/members?address=10.0.1.22", "demo", nil)
	if n := len(l["members"].([]any)); n != 1 {
		t.Fatalf("member filter: %v", l)
	}
	h.must(400, "PUT", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"members": []map[string]any{{"address": "10.0.1.22"}}})
	h.must(400, "PUT", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"members": []map[string]any{{"address": "10.0.1.22", "protocol_port": 1}, {"address": "10.0.1.22", "protocol_port": 1}}})

	// The backend saw the whole tree.
	spec, _ := h.backend.Spec(id)
	if len(spec.Listeners) != 1 || spec.Listeners[0].DefaultPoolID != pid || len(spec.Pools) != 2 || len(spec.Pools[0].Members)+len(spec.Pools[1].Members) != 3 {
		t.Fatalf("spec: %+v", spec)
	}

	// Deleting a pool removes its members and monitor and unlinks the listener.
	h.must(204, "DELETE", "/v2.0/lbaas/healthmonitors/"+hid, "demo", nil)
	h.wait(id, StatusActive)
	h.must(404, "GET", "/v2.0/lbaas/healthmonitors/"+hid, "demo", nil)
	if m, _ := h.svc.pools.Get(pid); m.HealthMonitorID != "" {
		t.Fatal("monitor id kept on the pool")
	}
	h.must(204, "DELETE", "/v2.0/lbaas/pools/"+pid, "demo", nil)
	h.wait(id, StatusActive)
	h.must(404, "GET", "/v2.0/lbaas/pools/"+pid, "demo", nil)
	if n := h.svc.members.Len(); n != 0 {
		t.Fatalf("%d members survived their pool", n)
	}
	if l, _ := h.svc.listeners.Get(lid); l.DefaultPoolID != "" {
		t.Fatal("listener still points at the deleted pool")
	}

	// Cascade delete takes everything.
	_, e = h.do("DELETE", "/v2.0/lbaas/loadbalancers/"+id, "demo", nil)
	if e["faultstring"] != fmt.Sprintf("Validation failure: Cannot delete Load Balancer %s - it has children", id) {
		t.Fatalf("delete with children: %v", e)
	}
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id+"?cascade=true", "demo", nil)
	h.wait(id, "")
	if h.svc.listeners.Len()+h.svc.pools.Len()+h.svc.members.Len()+h.svc.monitors.Len() != 0 {
		t.Fatal("children survived a cascade delete")
	}
}

func TestCascadeDeleteFullTree(t *testing.T) {
	h := newHarness(t)
	id := h.activeLB("demo")
	lis := h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 6443}})
	h.wait(id, StatusActive)
	po := h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": field(lis, "listener", "id"), "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}})
	pid := field(po, "pool", "id").(string)
	h.wait(id, StatusActive)
	h.must(201, "POST", "/v2.0/lbaas/pools/"+pid+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.1.10", "protocol_port": 6443}})
	h.wait(id, StatusActive)
	h.must(201, "POST", "/v2.0/lbaas/healthmonitors", "demo", map[string]any{"healthmonitor": map[string]any{"pool_id": pid, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}})
	h.wait(id, StatusActive)
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id+"?cascade=true", "demo", nil)
	if m := h.svc.members.List(nil); len(m) == 1 && m[0].ProvisioningStatus != StatusPendingDelete {
		t.Fatalf("member during cascade: %s", m[0].ProvisioningStatus)
	}
	h.wait(id, "")
	if h.svc.listeners.Len()+h.svc.pools.Len()+h.svc.members.Len()+h.svc.monitors.Len() != 0 {
		t.Fatal("children survived a cascade delete")
	}
}

func TestFullyPopulatedCreate(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"loadbalancer": map[string]any{
		"vip_subnet_id": subnetDemo, "name": "graph",
		"listeners": []map[string]any{
			{"protocol": "HTTP", "protocol_port": 80, "default_pool": map[string]any{
				"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
				"members":       []map[string]any{{"address": "10.0.2.1", "protocol_port": 8080}, {"address": "10.0.2.2", "protocol_port": 8080}},
				"healthmonitor": map[string]any{"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 2},
			}},
			{"protocol": "TCP", "protocol_port": 443, "default_pool": map[string]any{"name": "tls"}},
		},
		"pools": []map[string]any{{"name": "tls", "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}},
	}}
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", "demo", body)
	lb := out["loadbalancer"].(map[string]any)
	id := lb["id"].(string)
	if n := len(lb["listeners"].([]any)); n != 2 {
		t.Fatalf("listeners in response: %v", lb["listeners"])
	}
	pools := lb["pools"].([]any)
	if len(pools) != 2 {
		t.Fatalf("pools in response: %v", pools)
	}
	h.wait(id, StatusActive)
	if h.svc.listeners.Len() != 2 || h.svc.pools.Len() != 2 || h.svc.members.Len() != 2 || h.svc.monitors.Len() != 1 {
		t.Fatalf("stored: %d listeners %d pools %d members %d monitors", h.svc.listeners.Len(), h.svc.pools.Len(), h.svc.members.Len(), h.svc.monitors.Len())
	}
	for _, m := range h.svc.members.List(nil) {
		if m.ProvisioningStatus != StatusActive || m.OperatingStatus != OpOnline {
			t.Fatalf("member %+v", m)
		}
	}
	spec, _ := h.backend.Spec(id)
	if len(spec.Listeners) != 2 || spec.Listeners[0].DefaultPoolID == "" || spec.Listeners[1].DefaultPoolID == "" {
		t.Fatalf("spec listeners %+v", spec.Listeners)
	}
	// Pool with members and monitor in one call.
	po := h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{
		"loadbalancer_id": id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
		"members":       []map[string]any{{"address": "10.0.3.1", "protocol_port": 22}},
		"healthmonitor": map[string]any{"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 2},
	}})
	if len(field(po, "pool", "members").([]any)) != 1 || field(po, "pool", "healthmonitor_id") == nil {
		t.Fatalf("pool graph: %v", po)
	}
	h.wait(id, StatusActive)

	bad := []map[string]any{
		{"vip_subnet_id": subnetDemo, "pools": []map[string]any{{"protocol": "TCP", "lb_algorithm": "SOURCE_IP"}}},
		{"vip_subnet_id": subnetDemo, "pools": []map[string]any{{"name": "a", "lb_algorithm": "SOURCE_IP"}}},
		{"vip_subnet_id": subnetDemo, "pools": []map[string]any{{"name": "a", "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, {"name": "a", "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}}},
		{"vip_subnet_id": subnetDemo, "listeners": []map[string]any{{"protocol": "TCP", "protocol_port": 1, "default_pool": map[string]any{"name": "missing"}}}},
		{"vip_subnet_id": subnetDemo, "listeners": []map[string]any{{"protocol": "TCP", "protocol_port": 1}, {"protocol": "HTTP", "protocol_port": 1}}},
		{"vip_subnet_id": subnetDemo, "listeners": []map[string]any{{"protocol": "HTTP", "protocol_port": 1, "default_pool": map[string]any{"name": "u", "protocol": "UDP", "lb_algorithm": "SOURCE_IP"}}}},
	}
	for _, b := range bad {
		if code, e := h.do("POST", "/v2.0/lbaas/loadbalancers", "demo", map[string]any{"loadbalancer": b}); code/100 != 4 {
			t.Errorf("%v: %d %v", b, code, e)
		}
	}
	if n := h.svc.lbs.Len(); n != 1 {
		t.Fatalf("refused graphs left %d load balancers", n)
	}
	h.must(204, "DELETE", "/v2.0/lbaas/loadbalancers/"+id+"?cascade=true", "demo", nil)
	h.wait(id, "")
	if h.svc.listeners.Len()+h.svc.pools.Len()+h.svc.members.Len()+h.svc.monitors.Len() != 0 {
		t.Fatal("children survived a cascade delete")
	}
}

func TestDefaultPoolSwitchAndPoolUpdate(t *testing.T) {
	h := newHarness(t)
	id := h.activeLB("demo")
	lis := h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}})
	lid := field(lis, "listener", "id").(string)
	h.wait(id, StatusActive)
	a := field(h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": lid, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": map[string]any{"type": "SOURCE_IP"}}}), "pool", "id").(string)
	h.wait(id, StatusActive)
	b := field(h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"loadbalancer_id": id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}), "pool", "id").(string)
	h.wait(id, StatusActive)

	// Switch the listener's default pool from a to b.
	h.must(200, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"default_pool_id": b}})
	h.wait(id, StatusActive)
	pa, _ := h.svc.pools.Get(a)
	pb, _ := h.svc.pools.Get(b)
	if len(pa.ListenerIDs) != 0 || len(pb.ListenerIDs) != 1 {
		t.Fatalf("after switch: a %v, b %v", pa.ListenerIDs, pb.ListenerIDs)
	}
	// Unset it.
	h.must(200, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"default_pool_id": nil}})
	h.wait(id, StatusActive)
	if l, _ := h.svc.listeners.Get(lid); l.DefaultPoolID != "" {
		t.Fatalf("default pool after unset: %s", l.DefaultPoolID)
	}
	// A pool of another load balancer is not found.
	other := h.activeLB("demo")
	c := field(h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"loadbalancer_id": other, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}), "pool", "id").(string)
	h.wait(other, StatusActive)
	h.must(404, "PUT", "/v2.0/lbaas/listeners/"+lid, "demo", map[string]any{"listener": map[string]any{"default_pool_id": c}})

	// Pool update: session persistence removed with null; lb_algorithm validated.
	release := h.backend.hold()
	up := h.must(200, "PUT", "/v2.0/lbaas/pools/"+a, "demo", map[string]any{"pool": map[string]any{"session_persistence": nil, "lb_algorithm": "SOURCE_IP"}})
	if field(up, "pool", "session_persistence") != nil || field(up, "pool", "lb_algorithm") != "SOURCE_IP" {
		t.Fatalf("pool update: %v", up)
	}
	h.must(409, "PUT", "/v2.0/lbaas/pools/"+a, "demo", map[string]any{"pool": map[string]any{"name": "x"}})
	h.must(409, "POST", "/v2.0/lbaas/pools/"+a+"/members", "demo", map[string]any{"member": map[string]any{"address": "10.0.0.9", "protocol_port": 1}})
	release()
	h.wait(id, StatusActive)
	h.must(400, "PUT", "/v2.0/lbaas/pools/"+a, "demo", map[string]any{"pool": map[string]any{"lb_algorithm": "RANDOM"}})
	h.must(400, "PUT", "/v2.0/lbaas/pools/"+a, "demo", map[string]any{"pool": map[string]any{"protocol": "UDP"}})
	h.must(403, "PUT", "/v2.0/lbaas/pools/"+a, "other", map[string]any{"pool": map[string]any{"name": "x"}})
	l := h.must(200, "GET", "/v2.0/lbaas/pools?loadbalancer_id="+id, "demo", nil)
	if n := len(l["pools"].([]any)); n != 2 {
		t.Fatalf("pools of the load balancer: %d", n)
	}
}
