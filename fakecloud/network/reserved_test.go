package network

import (
	"net/netip"
	"strings"
	"testing"
)

// topBlock is a backend's reserved block like the docker backend's (which this package cannot
// import): the top /29 of IPv4 subnets of /26 or larger.
func topBlock(p netip.Prefix) (netip.Prefix, bool) {
	if !p.Addr().Is4() || p.Bits() > 26 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(lastAddr(p.Masked()), 29).Masked(), true
}

// newHarnessWith is newHarness with cfg.
func newHarnessWith(t *testing.T, cfg Config) *harness { return newHarnessCfg(t, "", cfg) }

// poolsOf renders a subnet's allocation pools as "start-end" strings.
func poolsOf(sn map[string]any) []string {
	var out []string
	for _, p := range sn["allocation_pools"].([]any) {
		m := p.(map[string]any)
		out = append(out, m["start"].(string)+"-"+m["end"].(string))
	}
	return out
}

func errMessage(out map[string]any) string {
	e, _ := out["NeutronError"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestReservedDefaultPools(t *testing.T) {
	for _, c := range []struct {
		name     string
		reserved func(netip.Prefix) (netip.Prefix, bool)
		cidr     string
		extra    map[string]any
		want     string
	}{
		{"/24", topBlock, "10.0.0.0/24", nil, "10.0.0.2-10.0.0.247"},
		{"/24 without gateway", topBlock, "10.0.0.0/24", map[string]any{"gateway_ip": nil}, "10.0.0.1-10.0.0.247"},
		{"/16", topBlock, "10.5.0.0/16", nil, "10.5.0.2-10.5.255.247"},
		{"/26", topBlock, "10.0.0.64/26", nil, "10.0.0.66-10.0.0.119"},
		{"/29: nothing reserved", topBlock, "10.0.0.0/29", nil, "10.0.0.2-10.0.0.6"},
		{"no Reserved", nil, "10.0.0.0/24", nil, "10.0.0.2-10.0.0.254"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarnessWith(t, Config{Reserved: c.reserved})
			_, snID := mkNet(t, h, "demo", c.cidr, c.extra)
			sn := h.must(t, 200, "demo", "GET", "/v2.0/subnets/"+snID, nil, "subnet")
			if got := strings.Join(poolsOf(sn), ","); got != c.want {
				t.Errorf("pools of %s = %s, want %s", c.cidr, got, c.want)
			}
		})
	}
}

func TestReservedIPv6Untouched(t *testing.T) {
	h := newHarnessWith(t, Config{Reserved: topBlock})
	n := h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}}, "network")
	sn := h.must(t, 201, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
		"network_id": n["id"], "cidr": "fd00:1::/120", "ip_version": 6}}, "subnet")
	if got := strings.Join(poolsOf(sn), ","); got != "fd00:1::2-fd00:1::ff" {
		t.Errorf("IPv6 pools = %s", got)
	}
}

func TestReservedUserPools(t *testing.T) {
	h := newHarnessWith(t, Config{Reserved: topBlock})
	netID := h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}}, "network")["id"]
	pool := func(start, end string) []any { return []any{map[string]any{"start": start, "end": end}} }
	for i, c := range []struct {
		start, end string
		want       int
	}{
		{"10.0.0.10", "10.0.0.254", 400}, // reaches into the block
		{"10.0.0.248", "10.0.0.250", 400},
		{"10.0.0.250", "10.0.0.250", 400},
		{"10.0.0.254", "10.0.0.254", 400},
		{"10.0.0.10", "10.0.0.248", 400}, // one address in
		{"10.0.0.10", "10.0.0.247", 201}, // up to the block
	} {
		cidr := "10.0.0.0/24"
		st, out := h.call(t, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
			"network_id": netID, "cidr": cidr, "ip_version": 4, "allocation_pools": pool(c.start, c.end)}})
		if st != c.want {
			t.Fatalf("%d: pool %s-%s: %d %v, want %d", i, c.start, c.end, st, out, c.want)
		}
		if st == 400 && !strings.Contains(errMessage(out), "10.0.0.248/29") {
			t.Errorf("pool %s-%s: message %q does not name the reserved block", c.start, c.end, errMessage(out))
		}
		if st == 201 {
			if got := strings.Join(poolsOf(out["subnet"].(map[string]any)), ","); got != c.start+"-"+c.end {
				t.Errorf("pools = %s", got)
			}
			// Updating the pools into the block is refused as well.
			id := out["subnet"].(map[string]any)["id"].(string)
			st, out := h.call(t, "demo", "PUT", "/v2.0/subnets/"+id, map[string]any{"subnet": map[string]any{"allocation_pools": pool("10.0.0.10", "10.0.0.251")}})
			if st != 400 || !strings.Contains(errMessage(out), "10.0.0.248/29") {
				t.Errorf("update into the block: %d %v", st, out)
			}
		}
	}
	// Without a reserved block the same pool is fine.
	h = newHarnessWith(t, Config{})
	netID = h.must(t, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{}}, "network")["id"]
	h.must(t, 201, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{
		"network_id": netID, "cidr": "10.0.0.0/24", "ip_version": 4, "allocation_pools": pool("10.0.0.10", "10.0.0.254")}}, "subnet")
}

func TestReservedFixedIPs(t *testing.T) {
	h := newHarnessWith(t, Config{Reserved: topBlock})
	netID, snID := mkNet(t, h, "demo", "10.0.0.0/24", nil)
	port := func(token, ip, owner string) (int, map[string]any) {
		p := map[string]any{"network_id": netID, "fixed_ips": []any{map[string]any{"ip_address": ip}}}
		if owner != "" {
			p["device_owner"] = owner
		}
		return h.call(t, token, "POST", "/v2.0/ports", map[string]any{"port": p})
	}
	for _, ip := range []string{"10.0.0.248", "10.0.0.250", "10.0.0.254"} {
		st, out := port("demo", ip, "")
		if st != 400 || !strings.Contains(errMessage(out), "10.0.0.248/29") {
			t.Errorf("fixed IP %s: %d %v, want 400 naming the block", ip, st, out)
		}
	}
	for _, ip := range []string{"10.0.0.247", "10.0.0.2"} {
		st, out := port("demo", ip, "compute:nova")
		if st != 201 || out["port"].(map[string]any)["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != ip {
			t.Errorf("fixed IP %s: %d %v, want 201", ip, st, out)
		}
	}
	// A port moved into the block on update is refused too.
	p := h.must(t, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
	st, out := h.call(t, "demo", "PUT", "/v2.0/ports/"+p["id"].(string), map[string]any{"port": map[string]any{
		"fixed_ips": []any{map[string]any{"subnet_id": snID, "ip_address": "10.0.0.251"}}}})
	if st != 400 {
		t.Errorf("update into the block: %d %v", st, out)
	}
	// Without a reserved block, .250 is an ordinary address.
	h = newHarnessWith(t, Config{})
	netID, _ = mkNet(t, h, "demo", "10.0.0.0/24", nil)
	if st, out := port("demo", "10.0.0.250", ""); st != 201 {
		t.Errorf("fixed IP .250 without a reserved block: %d %v", st, out)
	}
}
