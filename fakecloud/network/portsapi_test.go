package network

import (
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func TestPortsContract(t *testing.T) {
	h := newHarness(t)
	netID, snID := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	attach := func(req services.PortRequest) (services.PortInfo, error) {
		var info services.PortInfo
		err := h.DB.Update(func(tx *store.Tx) error {
			var err error
			info, err = h.svc.AttachPort(tx, req)
			return err
		})
		return info, err
	}
	info, err := attach(services.PortRequest{Project: "demo", NetworkID: netID, DeviceID: "srv-1", DeviceOwner: "compute:nova", Name: "nic0"})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created || info.NetworkName != "n-10.0.0.0/24" || len(info.FixedIPs) != 1 || info.FixedIPs[0].SubnetID != snID {
		t.Fatalf("info: %+v", info)
	}
	p := h.must(t, 200, "demo", "GET", "/v2.0/ports/"+info.ID, nil, "port")
	if p["device_id"] != "srv-1" || p["status"] != "ACTIVE" || len(p["security_groups"].([]any)) != 1 {
		t.Fatalf("attached port: %v", p)
	}
	// A fixed address, and the same one again.
	if _, err := attach(services.PortRequest{Project: "demo", NetworkID: netID, SubnetID: snID, FixedIP: "10.0.0.77", DeviceID: "srv-2", DeviceOwner: "Octavia"}); err != nil {
		t.Fatal(err)
	}
	if _, err := attach(services.PortRequest{Project: "demo", NetworkID: netID, FixedIP: "10.0.0.77", DeviceID: "srv-3"}); httpapi.AsError(err).Status != 409 {
		t.Fatalf("taken address: %v", err)
	}
	// Another project's private network, an unknown one.
	if _, err := attach(services.PortRequest{Project: "other", NetworkID: netID, DeviceID: "x"}); httpapi.AsError(err).Status != 400 {
		t.Fatalf("other's network: %v", err)
	}
	// Bind a user's port, which is only unbound on detach.
	user := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	bound, err := attach(services.PortRequest{Project: "demo", PortID: user["id"].(string), DeviceID: "srv-1", DeviceOwner: "compute:nova"})
	if err != nil || bound.Created {
		t.Fatalf("bind: %+v %v", bound, err)
	}
	if _, err := attach(services.PortRequest{Project: "demo", PortID: user["id"].(string), DeviceID: "srv-9"}); httpapi.AsError(err).Status != 409 {
		t.Fatalf("bind a bound port: %v", err)
	}
	if _, err := attach(services.PortRequest{Project: "other", PortID: user["id"].(string), DeviceID: "srv-9"}); httpapi.AsError(err).Status != 400 {
		t.Fatalf("bind another's port: %v", err)
	}
	if got := h.must(t, 200, "demo", "GET", "/v2.0/ports?device_id=srv-1", nil, "")["ports"].([]any); len(got) != 2 {
		t.Fatalf("ports of srv-1: %v", got)
	}
	if err := h.DB.Update(func(tx *store.Tx) error { return h.svc.DetachPorts(tx, "srv-1") }); err != nil {
		t.Fatal(err)
	}
	if got := h.must(t, 200, "demo", "GET", "/v2.0/ports?device_id=srv-1", nil, "")["ports"].([]any); len(got) != 0 {
		t.Fatalf("ports of srv-1 after detach: %v", got)
	}
	if _, ok := h.svc.Port(info.ID); ok {
		t.Fatal("created port survived detach")
	}
	kept, ok := h.svc.Port(user["id"].(string))
	if !ok || len(kept.FixedIPs) != 1 {
		t.Fatalf("user port: %+v %v", kept, ok)
	}
	if p := h.must(t, 200, "demo", "GET", "/v2.0/ports/"+kept.ID, nil, "port"); p["device_id"] != "" || p["status"] != "DOWN" {
		t.Fatalf("unbound port: %v", p)
	}
	// The freed address is available again.
	if _, err := attach(services.PortRequest{Project: "demo", NetworkID: netID, FixedIP: info.FixedIPs[0].IPAddress, DeviceID: "srv-4"}); err != nil {
		t.Fatal(err)
	}
	sub, ok := h.svc.Subnet(snID)
	if !ok || sub.CIDR != "10.0.0.0/24" || sub.GatewayIP != "10.0.0.1" || sub.Project != "demo" {
		t.Fatalf("subnet: %+v", sub)
	}
	if ext, ok := h.svc.ExternalNetwork(); !ok || ext != h.publicNet() || ext == "" {
		t.Fatalf("external: %s %v", ext, ok)
	}
	// Rolled back with the caller's update: nothing stays allocated.
	before := h.svc.ipam.count(snID)
	_ = h.DB.Update(func(tx *store.Tx) error {
		if _, err := h.svc.AttachPort(tx, services.PortRequest{Project: "demo", NetworkID: netID, DeviceID: "srv-5"}); err != nil {
			return err
		}
		return httpapi.Conflict("the caller failed later")
	})
	if after := h.svc.ipam.count(snID); after != before {
		t.Fatalf("rolled-back attach left %d addresses (was %d)", after, before)
	}
	if got := h.must(t, 200, "demo", "GET", "/v2.0/ports?device_id=srv-5", nil, "")["ports"].([]any); len(got) != 0 {
		t.Fatalf("rolled-back port listed: %v", got)
	}
	if id, ok := h.svc.AutoNetwork("demo"); !ok || id != netID {
		t.Fatalf("auto network: %s %v", id, ok)
	}
	if _, ok := h.svc.AutoNetwork("other"); ok {
		t.Fatal("auto network for a project without one")
	}
	if len(h.svc.Resources()) == 0 {
		t.Fatal("no resources")
	}
}

// FuzzRequests throws arbitrary bodies at every create and update decoder: the answer must
// be a 2xx or a 4xx with a Neutron error body, never a 500.
func FuzzRequests(f *testing.F) {
	for _, s := range []string{
		`{"network": {"name": "x", "mtu": 1400}}`,
		`{"subnet": {"network_id": "NET", "cidr": "10.9.0.0/24", "gateway_ip": null, "allocation_pools": [{"start": "10.9.0.5", "end": "10.9.0.9"}]}}`,
		`{"port": {"network_id": "NET", "fixed_ips": [{"ip_address": "10.0.0.9"}], "allowed_address_pairs": [{"ip_address": "1.2.3.4/32"}]}}`,
		`{"router": {"external_gateway_info": {"network_id": "PUB", "enable_snat": false}}}`,
		`{"floatingip": {"floating_network_id": "PUB", "port_id": null}}`,
		`{"security_group_rule": {"security_group_id": "SG", "direction": "ingress", "protocol": 6, "port_range_min": 1}}`,
		`{"quota": {"port": -1}}`, `{"tags": ["a"]}`, `{"subnet_id": "SN"}`, `[]`, `null`, `{"port": []}`,
	} {
		f.Add(s, uint8(0))
	}
	h := newHarness(f)
	netID := h.must(f, 201, "admin", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "fuzz"}}, "network")["id"].(string)
	h.must(f, 201, "admin", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "10.0.0.0/24"}}, "subnet")
	rt := h.must(f, 201, "admin", "POST", "/v2.0/routers", map[string]any{"router": map[string]any{}}, "router")["id"].(string)
	sg := h.must(f, 201, "admin", "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": "f"}}, "security_group")["id"].(string)
	targets := []struct{ method, path string }{
		{"POST", "/v2.0/networks"}, {"POST", "/v2.0/subnets"}, {"POST", "/v2.0/ports"}, {"POST", "/v2.0/routers"},
		{"POST", "/v2.0/floatingips"}, {"POST", "/v2.0/security-group-rules"}, {"POST", "/v2.0/security-groups"},
		{"PUT", "/v2.0/networks/" + netID}, {"PUT", "/v2.0/routers/" + rt}, {"PUT", "/v2.0/routers/" + rt + "/add_router_interface"},
		{"PUT", "/v2.0/quotas/demo"}, {"PUT", "/v2.0/networks/" + netID + "/tags"}, {"PUT", "/v2.0/security-groups/" + sg},
	}
	pub := h.publicNet()
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		tgt := targets[int(which)%len(targets)]
		r := strings.NewReplacer("NET", netID, "PUB", pub, "SG", sg)
		st, out := h.call(t, "admin", tgt.method, tgt.path, r.Replace(body))
		if st >= 500 {
			t.Fatalf("%s %s %q: %d %v", tgt.method, tgt.path, body, st, out)
		}
		if st >= 400 && errType(out) == "" {
			t.Fatalf("%s %s %q: %d without a Neutron error: %v", tgt.method, tgt.path, body, st, out)
		}
	})
}
