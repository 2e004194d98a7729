package network

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNetworkLifecycle(t *testing.T) {
	h := newHarness(t)
	n := h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "net1"}}, "network")
	id := n["id"].(string)
	if n["status"] != "ACTIVE" || n["project_id"] != "demo" || n["tenant_id"] != "demo" || n["mtu"].(float64) != 1500 || n["router:external"] != false || n["shared"] != false {
		t.Fatalf("unexpected network: %v", n)
	}
	got := h.must(t, 200, "demo", "GET", "/v2.0/networks/"+id, nil, "network")
	if got["name"] != "net1" {
		t.Fatalf("get: %v", got)
	}
	// Isolation: another project sees a 404, and does not list it.
	if st, out := h.call(t, "other", "GET", "/v2.0/networks/"+id, nil); st != 404 || errType(out) != "NetworkNotFound" {
		t.Fatalf("other project: %d %v", st, out)
	}
	list := h.must(t, 200, "other", "GET", "/v2.0/networks", nil, "")
	for _, x := range list["networks"].([]any) {
		if x.(map[string]any)["id"] == id {
			t.Fatal("other project lists demo's network")
		}
	}
	// Filters; the public network is visible to everyone.
	list = h.must(t, 200, "demo", "GET", "/v2.0/networks?name=net1", nil, "")
	if len(list["networks"].([]any)) != 1 {
		t.Fatalf("filter by name: %v", list)
	}
	list = h.must(t, 200, "demo", "GET", "/v2.0/networks?router:external=true", nil, "")
	if nets := list["networks"].([]any); len(nets) != 1 || nets[0].(map[string]any)["name"] != "public" {
		t.Fatalf("filter router:external: %v", list)
	}
	list = h.must(t, 200, "demo", "GET", "/v2.0/networks?fields=id&fields=name", nil, "")
	if first := list["networks"].([]any)[0].(map[string]any); len(first) != 2 {
		t.Fatalf("fields selection: %v", first)
	}
	// Policy: shared and router:external are admin-only; reader cannot write.
	if st, _ := h.call(t, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"shared": true}}); st != 403 {
		t.Fatalf("non-admin shared: %d", st)
	}
	if st, _ := h.call(t, "reader", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}}); st != 403 {
		t.Fatalf("reader create: %d", st)
	}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"project_id": "other"}}); st != 403 {
		t.Fatalf("non-admin for another project: %d", st)
	}
	up := h.must(t, 200, "demo", "PUT", "/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "renamed", "mtu": 1400, "admin_state_up": false}}, "network")
	if up["name"] != "renamed" || up["mtu"].(float64) != 1400 || up["admin_state_up"] != false || up["revision_number"].(float64) != 2 {
		t.Fatalf("update: %v", up)
	}
	if st, _ := h.call(t, "other", "DELETE", "/v2.0/networks/"+id, nil); st != 404 {
		t.Fatalf("other delete: %d", st)
	}
	h.must(t, 204, "demo", "DELETE", "/v2.0/networks/"+id, nil, "")
	if st, _ := h.call(t, "demo", "GET", "/v2.0/networks/"+id, nil); st != 404 {
		t.Fatalf("after delete: %d", st)
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/v2.0/networks", `{"network": `, 400},
		{"POST", "/v2.0/networks", `{"network": {"name": 5}}`, 400},
		{"POST", "/v2.0/networks", `{}`, 400},
		{"POST", "/v2.0/networks", `[]`, 400},
		{"POST", "/v2.0/networks", `{"network": {"mtu": 10}}`, 400},
		{"POST", "/v2.0/networks", `{"network": {}}` + strings.Repeat(" ", 2<<20), 413},
		{"POST", "/v2.0/subnets", `{"subnet": {"network_id": "nope", "cidr": "10.0.0.0/24"}}`, 400},
		{"POST", "/v2.0/subnets", `{"subnet": {"cidr": "10.0.0.0/24"}}`, 400},
		{"POST", "/v2.0/ports", `{"port": {"network_id": "5b1a7bd0-7e9e-4f55-9c57-000000000000"}}`, 404},
		{"POST", "/v2.0/ports", `{"port": {}}`, 400},
		{"GET", "/v2.0/ports/not-a-uuid", nil, 404},
		{"GET", "/v2.0/networks?limit=x", nil, 400},
		{"GET", "/v2.0/networks?marker=5b1a7bd0-7e9e-4f55-9c57-000000000000", nil, 400},
		{"PUT", "/v2.0/routers/5b1a7bd0-7e9e-4f55-9c57-000000000000/add_router_interface", `{}`, 400},
		{"POST", "/v2.0/security-group-rules", `{"security_group_rule": {"direction": "sideways", "security_group_id": "5b1a7bd0-7e9e-4f55-9c57-000000000000"}}`, 400},
		{"POST", "/v2.0/floatingips", `{"floatingip": {}}`, 400},
		{"PUT", "/v2.0/quotas/demo", `{"quota": {"port": 5}}`, 403},
	}
	for _, c := range cases {
		st, out := h.call(t, "demo", c.method, c.path, c.body)
		if st != c.want {
			t.Errorf("%s %s: status %d, want %d: %v", c.method, c.path, st, c.want, out)
		}
		if st >= 400 && errType(out) == "" {
			t.Errorf("%s %s: no NeutronError body: %v", c.method, c.path, out)
		}
	}
	if st, _ := h.call(t, "", "GET", "/v2.0/networks", nil); st != 401 {
		t.Errorf("no token: %d", st)
	}
}

// mkNet creates a network with one subnet for token's project and returns their ids.
func mkNet(t *testing.T, h *harness, token, cidr string, extra map[string]any) (string, string) {
	t.Helper()
	n := h.must(t, 201, token, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "n-" + cidr}}, "network")
	body := map[string]any{"network_id": n["id"], "cidr": cidr, "ip_version": 4, "name": "s-" + cidr}
	for k, v := range extra {
		body[k] = v
	}
	sn := h.must(t, 201, token, "POST", "/v2.0/subnets", map[string]any{"subnet": body}, "subnet")
	return n["id"].(string), sn["id"].(string)
}

func TestSubnets(t *testing.T) {
	h := newHarness(t)
	netID, snID := mkNet(t, h, "demo", "10.0.0.0/24", map[string]any{"dns_nameservers": []string{"8.8.8.8"},
		"host_routes": []any{map[string]any{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}}})
	sn := h.must(t, 200, "demo", "GET", "/v2.0/subnets/"+snID, nil, "subnet")
	if sn["gateway_ip"] != "10.0.0.1" || sn["enable_dhcp"] != true || sn["ip_version"].(float64) != 4 {
		t.Fatalf("subnet: %v", sn)
	}
	pools := sn["allocation_pools"].([]any)
	if len(pools) != 1 || pools[0].(map[string]any)["start"] != "10.0.0.2" || pools[0].(map[string]any)["end"] != "10.0.0.254" {
		t.Fatalf("pools: %v", pools)
	}
	n := h.must(t, 200, "demo", "GET", "/v2.0/networks/"+netID, nil, "network")
	if subs := n["subnets"].([]any); len(subs) != 1 || subs[0] != snID {
		t.Fatalf("network subnets: %v", n)
	}
	post := func(body map[string]any) (int, map[string]any) {
		body["network_id"] = netID
		return h.call(t, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": body})
	}
	for _, c := range []struct {
		body map[string]any
		want int
		typ  string
	}{
		{map[string]any{"cidr": "10.0.0.128/25"}, 400, ""},                // overlaps
		{map[string]any{"cidr": "10.1.0.1/24"}, 400, ""},                  // host bits set
		{map[string]any{"cidr": "10.1.0.0/33"}, 400, ""},                  // bad prefix
		{map[string]any{"cidr": "garbage"}, 400, ""},                      // not a cidr
		{map[string]any{"cidr": "10.1.0.0/24", "ip_version": 6}, 400, ""}, // version mismatch
		{map[string]any{"cidr": "10.1.0.0/24", "ip_version": 5}, 400, ""},
		{map[string]any{"cidr": "10.1.0.0/24", "gateway_ip": "10.2.0.1"}, 400, ""},
		{map[string]any{"cidr": "10.1.0.0/24", "allocation_pools": []any{map[string]any{"start": "10.1.0.10", "end": "10.1.1.20"}}}, 400, ""},
		{map[string]any{"cidr": "10.1.0.0/24", "allocation_pools": []any{map[string]any{"start": "10.1.0.10", "end": "10.1.0.20"}, map[string]any{"start": "10.1.0.15", "end": "10.1.0.30"}}}, 400, ""},
		{map[string]any{"cidr": "10.1.0.0/24", "allocation_pools": []any{map[string]any{"start": "10.1.0.30", "end": "10.1.0.20"}}}, 400, ""},
		{map[string]any{"cidr": "10.1.0.0/24", "allocation_pools": []any{map[string]any{"start": "10.1.0.1", "end": "10.1.0.20"}}}, 409, "GatewayConflictWithAllocationPools"},
		{map[string]any{"cidr": "10.1.0.0/24", "dns_nameservers": []string{"nope"}}, 400, ""},
	} {
		st, out := post(c.body)
		if st != c.want || (c.typ != "" && errType(out) != c.typ) {
			t.Errorf("%v: %d %v, want %d %s", c.body, st, out, c.want, c.typ)
		}
	}
	// No gateway: the pool covers every host.
	st, out := post(map[string]any{"cidr": "10.2.0.0/24", "gateway_ip": nil})
	if st != 201 {
		t.Fatalf("null gateway: %d %v", st, out)
	}
	sn2 := out["subnet"].(map[string]any)
	if sn2["gateway_ip"] != nil || sn2["allocation_pools"].([]any)[0].(map[string]any)["start"] != "10.2.0.1" {
		t.Fatalf("null gateway subnet: %v", sn2)
	}
	// Custom gateway in the middle splits the default pool.
	st, out = post(map[string]any{"cidr": "10.3.0.0/24", "gateway_ip": "10.3.0.100"})
	if st != 201 || len(out["subnet"].(map[string]any)["allocation_pools"].([]any)) != 2 {
		t.Fatalf("mid gateway: %d %v", st, out)
	}
	// IPv6.
	st, out = post(map[string]any{"cidr": "fd00:1::/64", "ip_version": 6, "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
	if st != 201 || out["subnet"].(map[string]any)["gateway_ip"] != "fd00:1::1" {
		t.Fatalf("ipv6: %d %v", st, out)
	}
	// Update and in-use delete.
	up := h.must(t, 200, "demo", "PUT", "/v2.0/subnets/"+snID, map[string]any{"subnet": map[string]any{"name": "x", "enable_dhcp": false}}, "subnet")
	if up["name"] != "x" || up["enable_dhcp"] != false {
		t.Fatalf("update: %v", up)
	}
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/subnets/"+snID, map[string]any{"subnet": map[string]any{"cidr": "10.9.0.0/24"}}); st != 400 {
		t.Fatalf("update cidr: %d", st)
	}
	port := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/subnets/"+snID, nil); st != 409 || errType(out) != "SubnetInUse" {
		t.Fatalf("delete subnet in use: %d %v", st, out)
	}
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/networks/"+netID, nil); st != 409 || errType(out) != "NetworkInUse" {
		t.Fatalf("delete network in use: %d %v", st, out)
	}
	h.must(t, 204, "demo", "DELETE", "/v2.0/ports/"+port["id"].(string), nil, "")
	h.must(t, 204, "demo", "DELETE", "/v2.0/subnets/"+snID, nil, "")
	list := h.must(t, 200, "demo", "GET", "/v2.0/subnets?network_id="+netID, nil, "")
	if len(list["subnets"].([]any)) != 3 {
		t.Fatalf("subnets left: %v", list)
	}
	h.must(t, 204, "demo", "DELETE", "/v2.0/networks/"+netID, nil, "")
	list = h.must(t, 200, "demo", "GET", "/v2.0/subnets?network_id="+netID, nil, "")
	if len(list["subnets"].([]any)) != 0 {
		t.Fatalf("subnets not deleted with the network: %v", list)
	}
	// Public subnet is visible to all, but not writable.
	pub := h.must(t, 200, "demo", "GET", "/v2.0/subnets?network_id="+h.publicNet(), nil, "")
	subs := pub["subnets"].([]any)
	if len(subs) != 1 || subs[0].(map[string]any)["cidr"] != "172.24.4.0/24" {
		t.Fatalf("public subnet: %v", pub)
	}
	if st, _ := h.call(t, "demo", "DELETE", "/v2.0/subnets/"+subs[0].(map[string]any)["id"].(string), nil); st != 403 {
		t.Fatalf("delete public subnet as demo: %d", st)
	}
}

func TestPorts(t *testing.T) {
	h := newHarness(t)
	netID, snID := mkNet(t, h, "demo", "10.0.0.0/29", nil) // hosts .1-.6, gateway .1: 5 addresses
	p1 := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "name": "p1"}}, "port")
	ips := p1["fixed_ips"].([]any)
	if len(ips) != 1 || ips[0].(map[string]any)["ip_address"] != "10.0.0.2" || ips[0].(map[string]any)["subnet_id"] != snID {
		t.Fatalf("fixed ips: %v", p1)
	}
	if mac := p1["mac_address"].(string); !strings.HasPrefix(mac, "fa:16:3e:") || len(mac) != 17 {
		t.Fatalf("mac: %s", mac)
	}
	if p1["status"] != "DOWN" || p1["port_security_enabled"] != true || len(p1["security_groups"].([]any)) != 1 {
		t.Fatalf("port: %v", p1)
	}
	sgs := h.must(t, 200, "demo", "GET", "/v2.0/security-groups?name=default", nil, "")["security_groups"].([]any)
	if len(sgs) != 1 || sgs[0].(map[string]any)["id"] != p1["security_groups"].([]any)[0] {
		t.Fatalf("default group: %v", sgs)
	}
	// Requested address, then the same again.
	req := map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.5"}}, "device_id": "vm-1", "device_owner": "compute:nova"}}
	p2 := h.must(t, 201, "demo", "POST", "/v2.0/ports", req, "port")
	if p2["status"] != "ACTIVE" || p2["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.5" {
		t.Fatalf("requested ip: %v", p2)
	}
	if st, out := h.call(t, "demo", "POST", "/v2.0/ports", req); st != 409 || errType(out) != "IpAddressAlreadyAllocated" {
		t.Fatalf("duplicate ip: %d %v", st, out)
	}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.9.0.5"}}}}); st != 400 {
		t.Fatalf("ip outside: %d", st)
	}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.1"}}}}); st != 409 {
		t.Fatalf("gateway ip: %d", st)
	}
	// Fill the subnet: .3, .4, .6 left.
	for i := 0; i < 3; i++ {
		h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	}
	if st, out := h.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}); st != 409 || errType(out) != "IpAddressGenerationFailure" {
		t.Fatalf("full subnet: %d %v", st, out)
	}
	// Filters.
	for q, want := range map[string]int{
		"fixed_ips=ip_address%3D10.0.0.5": 1, "device_id=vm-1": 1, "device_owner=compute:nova": 1, "name=p1": 1,
		"network_id=" + netID: 5, "status=ACTIVE": 1, "device_id=": 4, "name=": 4, "name=p1&name=x": 1, "fixed_ips=subnet_id%3D" + snID: 5, "mac_address=" + p1["mac_address"].(string): 1,
	} {
		got := h.must(t, 200, "demo", "GET", "/v2.0/ports?"+q, nil, "")["ports"].([]any)
		if len(got) != want {
			t.Errorf("filter %s: %d ports, want %d", q, len(got), want)
		}
	}
	if got := h.must(t, 200, "other", "GET", "/v2.0/ports", nil, "")["ports"].([]any); len(got) != 0 {
		t.Fatalf("other sees ports: %v", got)
	}
	// Free one and take it again.
	h.must(t, 204, "demo", "DELETE", "/v2.0/ports/"+p2["id"].(string), nil, "")
	p3 := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	if p3["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.5" {
		t.Fatalf("reuse: %v", p3)
	}
	// Update: address pairs, security off, fixed ips.
	id1 := p1["id"].(string)
	if st, out := h.call(t, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"port_security_enabled": false}}); st != 409 {
		t.Fatalf("disable security with groups: %d %v", st, out)
	}
	up := h.must(t, 200, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"security_groups": []string{}, "port_security_enabled": false}}, "port")
	if up["port_security_enabled"] != false || len(up["security_groups"].([]any)) != 0 {
		t.Fatalf("security off: %v", up)
	}
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"allowed_address_pairs": []any{map[string]any{"ip_address": "10.0.0.100"}}}}); st != 409 {
		t.Fatalf("pairs without security: %d", st)
	}
	up = h.must(t, 200, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"port_security_enabled": true,
		"allowed_address_pairs": []any{map[string]any{"ip_address": "10.0.0.100/32"}}, "name": "p1b"}}, "port")
	pairs := up["allowed_address_pairs"].([]any)
	if len(pairs) != 1 || pairs[0].(map[string]any)["mac_address"] != p1["mac_address"] {
		t.Fatalf("pairs: %v", up)
	}
	for q, want := range map[string]int{"name=p1": 0, "name=p1b": 1, "name=p1b&device_owner=": 1, "network_id=" + netID + "&name=p1b": 1} {
		if got := h.must(t, 200, "demo", "GET", "/v2.0/ports?"+q, nil, "")["ports"].([]any); len(got) != want {
			t.Errorf("after rename, %s: %d ports, want %d", q, len(got), want)
		}
	}
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"binding:host_id": "h1"}}); st != 403 {
		t.Fatalf("non-admin binding: %d", st)
	}
	h.must(t, 200, "admin", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"binding:host_id": "h1"}}, "port")
	// Move p1 from .2 to nothing, then back to .2.
	up = h.must(t, 200, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"fixed_ips": []any{}}}, "port")
	if len(up["fixed_ips"].([]any)) != 0 {
		t.Fatalf("clear ips: %v", up)
	}
	up = h.must(t, 200, "demo", "PUT", "/v2.0/ports/"+id1, map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"subnet_id": snID}}}}, "port")
	if up["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.2" {
		t.Fatalf("re-add ip: %v", up)
	}
	if st, _ := h.call(t, "other", "DELETE", "/v2.0/ports/"+id1, nil); st != 404 {
		t.Fatalf("other deletes: %d", st)
	}
}

func TestRoutersAndFloatingIPs(t *testing.T) {
	h := newHarness(t)
	pub := h.publicNet()
	netID, snID := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	port := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	portID := port["id"].(string)

	fip := h.must(t, 201, "demo", "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": pub}}, "floatingip")
	fipID := fip["id"].(string)
	if fip["status"] != "DOWN" || !strings.HasPrefix(fip["floating_ip_address"].(string), "172.24.4.") || fip["port_id"] != nil {
		t.Fatalf("fip: %v", fip)
	}
	if st, out := h.call(t, "demo", "PUT", "/v2.0/floatingips/"+fipID, map[string]any{"floatingip": map[string]any{"port_id": portID}}); st != 404 || errType(out) != "ExternalGatewayForFloatingIPNotFound" {
		t.Fatalf("associate without router: %d %v", st, out)
	}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": netID}}); st != 400 {
		t.Fatalf("fip on internal network: %d", st)
	}

	rt := h.must(t, 201, "demo", "POST", "/v2.0/routers", map[string]any{"router": map[string]any{"name": "r1",
		"external_gateway_info": map[string]any{"network_id": pub}}}, "router")
	rtID := rt["id"].(string)
	gw := rt["external_gateway_info"].(map[string]any)
	efi := gw["external_fixed_ips"].([]any)
	if gw["network_id"] != pub || gw["enable_snat"] != true || len(efi) != 1 || !strings.HasPrefix(efi[0].(map[string]any)["ip_address"].(string), "172.24.4.") {
		t.Fatalf("router gateway: %v", rt)
	}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/routers", map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": netID}}}); st != 400 {
		t.Fatalf("gateway on internal network: %d", st)
	}
	iface := h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rtID+"/add_router_interface", map[string]any{"subnet_id": snID}, "")
	if iface["subnet_id"] != snID || iface["id"] != rtID {
		t.Fatalf("interface: %v", iface)
	}
	ifp := h.must(t, 200, "demo", "GET", "/v2.0/ports/"+iface["port_id"].(string), nil, "port")
	if ifp["device_owner"] != OwnerRouterInterface || ifp["device_id"] != rtID || ifp["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.1" {
		t.Fatalf("interface port: %v", ifp)
	}
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/routers/"+rtID+"/add_router_interface", map[string]any{"subnet_id": snID}); st != 400 {
		t.Fatalf("second interface on subnet: %d", st)
	}
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/ports/"+iface["port_id"].(string), nil); st != 409 {
		t.Fatalf("delete interface port: %d %v", st, out)
	}

	calls := h.backend.record(100)
	up := h.must(t, 200, "demo", "PUT", "/v2.0/floatingips/"+fipID, map[string]any{"floatingip": map[string]any{"port_id": portID}}, "floatingip")
	if up["status"] != "ACTIVE" || up["router_id"] != rtID || up["fixed_ip_address"] != port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] {
		t.Fatalf("associated: %v", up)
	}
	// The router's own sync (of the interface added above) may still reach the backend first.
	if got := nextCall(t, calls, "fip "); !strings.HasPrefix(got, "fip "+up["floating_ip_address"].(string)) {
		t.Fatalf("backend call: %s", got)
	}
	if got := h.must(t, 200, "demo", "GET", "/v2.0/floatingips?port_id="+portID, nil, "")["floatingips"].([]any); len(got) != 1 {
		t.Fatalf("fip filter: %v", got)
	}
	if st, out := h.call(t, "demo", "PUT", "/v2.0/routers/"+rtID+"/remove_router_interface", map[string]any{"subnet_id": snID}); st != 409 {
		t.Fatalf("remove interface used by fip: %d %v", st, out)
	}
	if st, out := h.call(t, "demo", "PUT", "/v2.0/routers/"+rtID, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{}}}); st != 409 {
		t.Fatalf("clear gateway used by fip: %d %v", st, out)
	}
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/routers/"+rtID, nil); st != 409 || errType(out) != "RouterInUse" {
		t.Fatalf("delete router with interfaces: %d %v", st, out)
	}
	down := h.must(t, 200, "demo", "PUT", "/v2.0/floatingips/"+fipID, map[string]any{"floatingip": map[string]any{"port_id": nil}}, "floatingip")
	if down["status"] != "DOWN" || down["port_id"] != nil || down["router_id"] != nil {
		t.Fatalf("disassociated: %v", down)
	}
	// Routes need a nexthop on an attached subnet.
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/routers/"+rtID, map[string]any{"router": map[string]any{"routes": []any{map[string]any{"destination": "192.168.0.0/24", "nexthop": "10.9.9.9"}}}}); st != 400 {
		t.Fatalf("bad route: %d", st)
	}
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rtID, map[string]any{"router": map[string]any{"routes": []any{map[string]any{"destination": "192.168.0.0/24", "nexthop": "10.0.0.9"}}}}, "router")
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rtID+"/remove_router_interface", map[string]any{"subnet_id": snID}, "")
	if st, _ := h.call(t, "demo", "PUT", "/v2.0/routers/"+rtID+"/remove_router_interface", map[string]any{"subnet_id": snID}); st != 404 {
		t.Fatalf("remove twice: %d", st)
	}
	// Interface by port.
	p2 := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rtID+"/add_router_interface", map[string]any{"port_id": p2["id"]}, "")
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rtID+"/remove_router_interface", map[string]any{"port_id": p2["id"]}, "")
	if st, _ := h.call(t, "other", "GET", "/v2.0/routers/"+rtID, nil); st != 404 {
		t.Fatalf("other sees router: %d", st)
	}
	h.must(t, 204, "demo", "DELETE", "/v2.0/routers/"+rtID, nil, "")
	h.must(t, 204, "demo", "DELETE", "/v2.0/floatingips/"+fipID, nil, "")
	// Gateway and floating IP ports are gone: only the user's port is left on the public net.
	if got := h.must(t, 200, "admin", "GET", "/v2.0/ports?network_id="+pub, nil, "")["ports"].([]any); len(got) != 0 {
		t.Fatalf("ports left on public: %v", got)
	}
	// A chosen floating address, then the same again.
	h.must(t, 201, "demo", "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": pub, "floating_ip_address": "172.24.4.77"}}, "floatingip")
	if st, out := h.call(t, "demo", "POST", "/v2.0/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": pub, "floating_ip_address": "172.24.4.77"}}); st != 409 {
		t.Fatalf("same floating address: %d %v", st, out)
	}
}

func TestSecurityGroups(t *testing.T) {
	h := newHarness(t)
	list := h.must(t, 200, "demo", "GET", "/v2.0/security-groups", nil, "")["security_groups"].([]any)
	if len(list) != 1 {
		t.Fatalf("default group: %v", list)
	}
	def := list[0].(map[string]any)
	rules := def["security_group_rules"].([]any)
	if def["name"] != "default" || len(rules) != 4 {
		t.Fatalf("default rules: %v", def)
	}
	ingress := 0
	for _, r := range rules {
		r := r.(map[string]any)
		if r["direction"] == "ingress" {
			ingress++
			if r["remote_group_id"] != def["id"] {
				t.Fatalf("ingress rule: %v", r)
			}
		}
	}
	if ingress != 2 {
		t.Fatalf("ingress rules: %d", ingress)
	}
	if st, _ := h.call(t, "demo", "DELETE", "/v2.0/security-groups/"+def["id"].(string), nil); st != 409 {
		t.Fatalf("delete default: %d", st)
	}
	sg := h.must(t, 201, "demo", "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": "web", "description": "w"}}, "security_group")
	sgID := sg["id"].(string)
	if len(sg["security_group_rules"].([]any)) != 2 {
		t.Fatalf("new group rules: %v", sg)
	}
	rule := map[string]any{"security_group_rule": map[string]any{"security_group_id": sgID, "direction": "ingress", "protocol": "tcp",
		"port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}}
	r := h.must(t, 201, "demo", "POST", "/v2.0/security-group-rules", rule, "security_group_rule")
	if r["protocol"] != "tcp" || r["port_range_min"].(float64) != 80 || r["ethertype"] != "IPv4" {
		t.Fatalf("rule: %v", r)
	}
	if st, out := h.call(t, "demo", "POST", "/v2.0/security-group-rules", rule); st != 409 || errType(out) != "SecurityGroupRuleExists" {
		t.Fatalf("duplicate rule: %d %v", st, out)
	}
	for _, bad := range []map[string]any{
		{"security_group_id": sgID, "direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
		{"security_group_id": sgID, "direction": "ingress", "port_range_min": 80},
		{"security_group_id": sgID, "direction": "ingress", "protocol": "bogus"},
		{"security_group_id": sgID, "direction": "ingress", "remote_ip_prefix": "::/0"},
		{"security_group_id": sgID, "direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": sgID},
		{"security_group_id": sgID, "direction": "ingress", "protocol": "icmp", "port_range_min": 300},
	} {
		if st, out := h.call(t, "demo", "POST", "/v2.0/security-group-rules", map[string]any{"security_group_rule": bad}); st != 400 {
			t.Errorf("bad rule %v: %d %v", bad, st, out)
		}
	}
	if st, _ := h.call(t, "other", "POST", "/v2.0/security-group-rules", rule); st != 404 {
		t.Fatalf("other adds rule: %d", st)
	}
	got := h.must(t, 200, "demo", "GET", "/v2.0/security-group-rules?security_group_id="+sgID+"&direction=ingress", nil, "")["security_group_rules"].([]any)
	if len(got) != 1 {
		t.Fatalf("rule filter: %v", got)
	}
	netID, _ := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	port := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "security_groups": []string{sgID}}}, "port")
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/security-groups/"+sgID, nil); st != 409 || errType(out) != "SecurityGroupInUse" {
		t.Fatalf("delete group in use: %d %v", st, out)
	}
	if st, _ := h.call(t, "other", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}); st != 404 {
		t.Fatalf("other uses demo network: %d", st)
	}
	h.must(t, 204, "demo", "DELETE", "/v2.0/ports/"+port["id"].(string), nil, "")
	h.must(t, 204, "demo", "DELETE", "/v2.0/security-group-rules/"+r["id"].(string), nil, "")
	h.must(t, 204, "demo", "DELETE", "/v2.0/security-groups/"+sgID, nil, "")
	if st, _ := h.call(t, "demo", "POST", "/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": "default"}}); st != 409 {
		t.Fatalf("second default: %d", st)
	}
}

func TestTagsPaginationQuotas(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := 0; i < 5; i++ {
		n := h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}, "network")
		ids = append(ids, n["id"].(string))
	}
	base := "/v2.0/networks/" + ids[0] + "/tags"
	out := h.must(t, 200, "demo", "PUT", base, map[string]any{"tags": []string{"a", "b", "a"}}, "")
	if len(out["tags"].([]any)) != 2 {
		t.Fatalf("replace tags: %v", out)
	}
	h.must(t, 201, "demo", "PUT", base+"/c", nil, "")
	h.must(t, 204, "demo", "GET", base+"/c", nil, "")
	h.must(t, 204, "demo", "DELETE", base+"/a", nil, "")
	if st, out := h.call(t, "demo", "GET", base+"/a", nil); st != 404 || errType(out) != "TagNotFound" {
		t.Fatalf("deleted tag: %d %v", st, out)
	}
	h.must(t, 201, "demo", "PUT", "/v2.0/networks/"+ids[1]+"/tags/c", nil, "")
	if st, _ := h.call(t, "other", "PUT", base+"/x", nil); st != 404 {
		t.Fatalf("other tags: %d", st)
	}
	for q, want := range map[string]int{"tags=b,c": 1, "tags=c": 2, "tags-any=b,zz": 1, "not-tags=c": 3, "not-tags-any=b,c": 3} {
		got := h.must(t, 200, "demo", "GET", "/v2.0/networks?name=n&"+q, nil, "")["networks"].([]any)
		if len(got) != want {
			t.Errorf("%s: %d, want %d", q, len(got), want)
		}
	}
	h.must(t, 204, "demo", "DELETE", base, nil, "")
	if got := h.must(t, 200, "demo", "GET", base, nil, "")["tags"].([]any); len(got) != 0 {
		t.Fatalf("cleared: %v", got)
	}
	// Pagination.
	page := h.must(t, 200, "demo", "GET", "/v2.0/networks?name=n&limit=2", nil, "")
	if len(page["networks"].([]any)) != 2 || len(page["networks_links"].([]any)) != 1 {
		t.Fatalf("page 1: %v", page)
	}
	seen := 0
	next := "/v2.0/networks?name=n&limit=2"
	for next != "" && seen < 10 {
		page := h.must(t, 200, "demo", "GET", next, nil, "")
		seen += len(page["networks"].([]any))
		next = ""
		if links := page["networks_links"].([]any); len(links) > 0 {
			href := links[0].(map[string]any)["href"].(string)
			next = href[strings.Index(href, "/v2.0"):]
		}
	}
	if seen != 5 {
		t.Fatalf("paged through %d networks", seen)
	}
	// Sorting.
	sorted := h.must(t, 200, "demo", "GET", "/v2.0/networks?sort_key=name&sort_dir=desc&sort_key=id&sort_dir=asc", nil, "")["networks"].([]any)
	if len(sorted) < 5 || sorted[0].(map[string]any)["name"] != "public" {
		t.Fatalf("sorted: %v", sorted)
	}
	if st, _ := h.call(t, "demo", "GET", "/v2.0/networks?sort_key=bogus", nil); st != 400 {
		t.Fatalf("bad sort key: %d", st)
	}
	// Quotas.
	q := h.must(t, 200, "demo", "GET", "/v2.0/quotas/demo", nil, "quota")
	if q["port"].(float64) != 500 || q["network"].(float64) != 100 {
		t.Fatalf("quota: %v", q)
	}
	if st, _ := h.call(t, "demo", "GET", "/v2.0/quotas/other", nil); st != 403 {
		t.Fatalf("other's quota: %d", st)
	}
	h.must(t, 200, "admin", "PUT", "/v2.0/quotas/demo", map[string]any{"quota": map[string]any{"network": 6}}, "quota")
	h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}}, "network")
	st, out := h.call(t, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}})
	if st != 409 || errType(out) != "OverQuota" || !strings.Contains(out["NeutronError"].(map[string]any)["message"].(string), "Quota exceeded for resources: ['network'].") {
		t.Fatalf("over quota: %d %v", st, out)
	}
	det := h.must(t, 200, "demo", "GET", "/v2.0/quotas/demo/details.json", nil, "quota")
	if det["network"].(map[string]any)["used"].(float64) != 6 {
		t.Fatalf("details: %v", det)
	}
	h.quotas["demo/port"] = 0
	netID := ids[0]
	if st, out := h.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}); st != 409 || errType(out) != "OverQuota" {
		t.Fatalf("injected quota: %d %v", st, out)
	}
	h.must(t, 204, "admin", "DELETE", "/v2.0/quotas/demo", nil, "")
	// Extensions and versions.
	ext := h.must(t, 200, "demo", "GET", "/v2.0/extensions", nil, "")["extensions"].([]any)
	if len(ext) < 10 {
		t.Fatalf("extensions: %v", ext)
	}
	h.must(t, 200, "demo", "GET", "/v2.0/extensions/router", nil, "extension")
	h.must(t, 200, "", "GET", "/", nil, "")
	h.must(t, 200, "", "GET", "", nil, "")
	h.must(t, 200, "", "GET", "/v2.0/", nil, "")
}

// TestRestartKeepsAllocations reopens the store and checks the allocation index is rebuilt.
func TestRestartKeepsAllocations(t *testing.T) {
	dir := t.TempDir()
	h := newHarnessAt(t, dir)
	netID, _ := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	var macs []string
	for i := 0; i < 3; i++ {
		p := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
		macs = append(macs, p["mac_address"].(string))
	}
	h.Stop()
	h2 := newHarnessAt(t, dir)
	p := h2.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}}, "port")
	if p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.9" {
		t.Fatalf("port: %v", p)
	}
	if st, _ := h2.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.3"}}}}); st != 409 {
		t.Fatalf("address taken before the restart handed out again: %d", st)
	}
	if st, _ := h2.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "mac_address": macs[0]}}); st != 409 {
		t.Fatalf("mac taken before the restart handed out again: %d", st)
	}
	if got := len(h2.must(t, 200, "admin", "GET", "/v2.0/networks?name=public", nil, "")["networks"].([]any)); got != 1 {
		t.Fatalf("seed ran twice: %d public networks", got)
	}
}

// TestRollbackKeepsIndex checks a failed update leaves no allocation behind.
func TestRollbackKeepsIndex(t *testing.T) {
	h := newHarness(t)
	netID, _ := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	// The second fixed ip is invalid, so the first one's allocation must be undone.
	body := map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.50"}, map[string]any{"ip_address": "10.0.0.50"}}}}
	if st, _ := h.call(t, "demo", "POST", "/v2.0/ports", body); st != 400 {
		t.Fatalf("duplicate in request: %d", st)
	}
	h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.50"}}}}, "port")
	if n := h.svc.ipam.count(mustSubnet(t, h, netID)); n != 1 {
		t.Fatalf("index holds %d addresses, want 1", n)
	}
}

func mustSubnet(t *testing.T, h *harness, netID string) string {
	n, ok := h.svc.networks.Get(netID)
	if !ok || len(n.Subnets) == 0 {
		t.Fatal("no subnet")
	}
	return n.Subnets[0]
}

var _ = http.StatusOK

func TestDualStackPort(t *testing.T) {
	h := newHarness(t)
	netID, _ := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	h.must(t, 201, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "fd00::/64",
		"ip_version": 6, "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}}, "subnet")
	p := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	ips := p["fixed_ips"].([]any)
	if len(ips) != 2 || ips[1].(map[string]any)["ip_address"] != "fd00::2" {
		t.Fatalf("dual stack: %v", ips)
	}
}

// TestConcurrentAllocation creates ports in parallel on a small subnet: every address is
// handed out once, and the rest get 409 IpAddressGenerationFailure.
func TestConcurrentAllocation(t *testing.T) {
	h := newHarness(t)
	netID, _ := mkNet(t, h, "demo", "10.0.0.0/27", nil) // 29 addresses after the gateway
	type res struct {
		st int
		ip string
	}
	out := make(chan res, 40)
	for i := 0; i < 40; i++ {
		go func() {
			st, body := h.call(t, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}})
			r := res{st: st}
			if st == 201 {
				r.ip = body["port"].(map[string]any)["fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
			}
			out <- r
		}()
	}
	seen := map[string]bool{}
	created, full := 0, 0
	for i := 0; i < 40; i++ {
		r := <-out
		switch r.st {
		case 201:
			if seen[r.ip] {
				t.Fatalf("address %s handed out twice", r.ip)
			}
			seen[r.ip] = true
			created++
		case 409:
			full++
		default:
			t.Fatalf("status %d", r.st)
		}
	}
	if created != 29 || full != 11 {
		t.Fatalf("created %d, refused %d", created, full)
	}
}

// TestBackendRetries checks that reconciliation tasks retry a failing backend, and record a
// permanent failure as an error event.
func TestBackendRetries(t *testing.T) {
	h := newHarness(t)
	calls := h.backend.record(10)
	h.backend.failRouter.Store(1)
	rt := h.must(t, 201, "demo", "POST", "/v2.0/routers", map[string]any{"router": map[string]any{"name": "r"}}, "router")
	select {
	case got := <-calls:
		if !strings.HasPrefix(got, "router "+rt["id"].(string)) {
			t.Fatalf("backend call: %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the router never reached the backend")
	}
	h.backend.permanent.Store(true)
	h.backend.failRouter.Store(1)
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+rt["id"].(string), map[string]any{"router": map[string]any{"name": "r2"}}, "router")
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _ := h.DB.EventsSince(0, 0)
		found := false
		for _, e := range evs {
			if e.Action == "backend-error" && e.ID == rt["id"] && e.Severity == "error" {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no backend-error event")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRouterSyncAfterDelete: a sync that read the router just before it was deleted, and
// reached the backend after the delete did, must not leave the router made again (a router
// container of a deleted router kept its network from being removed).
func TestRouterSyncAfterDelete(t *testing.T) {
	h := newHarness(t)
	rt := h.must(t, 201, "demo", "POST", "/v2.0/routers", map[string]any{"router": map[string]any{"name": "r"}}, "router")
	id := rt["id"].(string)
	made := func() bool { _, ok := h.backend.routers.Load(id); return ok }
	waitTrue(t, "the router made", made)

	hold := make(chan struct{})
	h.backend.holdEnsure.Store(&hold)
	h.must(t, 200, "demo", "PUT", "/v2.0/routers/"+id, map[string]any{"router": map[string]any{"name": "r2"}}, "router")
	time.Sleep(200 * time.Millisecond) // the sync has read the router and waits in EnsureRouter
	if st, out := h.call(t, "demo", "DELETE", "/v2.0/routers/"+id, nil); st != 204 {
		t.Fatalf("DELETE: %d %v", st, out)
	}
	waitTrue(t, "the delete reached the backend", func() bool { return h.backend.deletedRouters.Load() > 0 })
	h.backend.holdEnsure.Store(nil)
	close(hold)
	waitTrue(t, "the late sync leaves no router behind", func() bool { return !made() })
	time.Sleep(300 * time.Millisecond)
	if made() {
		t.Fatal("the deleted router was made again")
	}
}

func waitTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 10s", what)
}

// nextCall returns the next recorded backend call starting with prefix, skipping others.
func nextCall(t *testing.T, calls <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-calls:
			if strings.HasPrefix(got, prefix) {
				return got
			}
		case <-timeout:
			t.Fatalf("no backend call %q... within 10s", prefix)
			return ""
		}
	}
}
