package docker

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
)

// ipLinkOutput is real `ip -o link show` output of a router container.
const ipLinkOutput = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
	"104: eth0@if105: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:c0:a8:fa:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n" +
	"106: eth1@if107: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:0A:4D:01:F8 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n" +
	"3: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 32\\    link/ether de:20:06:3b:0b:a8 brd ff:ff:ff:ff:ff:ff\n"

func TestInterfacesByMAC(t *testing.T) {
	for _, c := range []struct {
		name, out string
		want      map[string]string
	}{
		{"real output", ipLinkOutput, map[string]string{
			"02:42:c0:a8:fa:02": "eth0", // the @if105 peer suffix is not part of the name
			"02:42:0a:4d:01:f8": "eth1", // upper-case MAC stored lower-case
			"de:20:06:3b:0b:a8": "ifb0", // no peer: the trailing colon goes
		}},
		{"empty", "", map[string]string{}},
		{"no ether", "1: lo: <LOOPBACK> \\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\nx\n", map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := interfacesByMAC(c.out)
			if !maps.Equal(got, c.want) {
				t.Errorf("interfacesByMAC = %v, want %v", got, c.want)
			}
		})
	}
	// applyRouter looks docker's MACs up lower-cased: an upper-case MAC in the output is found.
	if got := interfacesByMAC(ipLinkOutput)[strings.ToLower("02:42:0A:4D:01:F8")]; got != "eth1" {
		t.Errorf("upper-case MAC: got %q, want eth1", got)
	}
}

func TestJoinLines(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"a"}, "a\n"},
		{[]string{"a", "b c"}, "a\nb c\n"},
	} {
		if got := joinLines(c.in); got != c.want {
			t.Errorf("joinLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// routerFixture is a router with a gateway, two IPv4 subnets (one gateway leg added by hand
// whose interface is known, one whose interface is not), an IPv6 subnet, a static route and
// two floating IPs.
func routerFixture() (routerState, []routerLeg, map[string]string) {
	st := routerState{
		Spec: network.RouterSpec{
			ID:      "r1",
			Gateway: &network.RouterGateway{NetworkID: "ext", CIDR: "172.24.4.0/24", IPAddress: "172.24.4.10", EnableSNAT: true},
			Interfaces: []network.RouterInterface{
				{PortID: "p1", CIDR: "10.0.0.0/24", IPAddress: "10.0.0.1"},
				{PortID: "p2", CIDR: "fd00::/64", IPAddress: "fd00::1"},
				{PortID: "p3", CIDR: "10.1.0.0/24", IPAddress: "10.1.0.1"},
			},
			Routes: []network.Route{{Destination: "192.168.0.0/16", NextHop: "10.0.0.254"}},
		},
		FIPs: map[string]network.FloatingIPSpec{
			"f-b": {ID: "f-b", FloatingIP: "172.24.4.21", FixedIP: "10.0.0.5"},
			"f-a": {ID: "f-a", FloatingIP: "172.24.4.20", FixedIP: "10.0.0.4"},
		},
	}
	legs := []routerLeg{
		{network: "public", address: "172.24.4.10", prefix: 24},
		{network: "kaas-a", address: "10.0.0.1", prefix: 24, byHand: true},
		{network: "kaas-b", address: "10.1.0.1", prefix: 24, byHand: true},
		{network: "kaas-c", address: "10.2.0.9", prefix: 24},
	}
	ifaces := map[string]string{"public": "eth0", "kaas-a": "eth1", "kaas-c": "eth3"}
	return st, legs, ifaces
}

func TestRouterScript(t *testing.T) {
	st, legs, ifaces := routerFixture()
	got := routerScript(st, legs, ifaces, "public", "172.24.4.1")
	want := `set -e
nat() { iptables -w 5 -t nat "$@"; }
ip addr replace 10.0.0.1/24 dev eth1
ip route replace default via 172.24.4.1 dev eth0
ip route replace 192.168.0.0/16 via 10.0.0.254 || true
ip addr replace 172.24.4.20/32 dev eth0
ip addr replace 172.24.4.21/32 dev eth0
iptables-restore -w 5 --noflush <<'RULES'
*nat
:KAAS-PRE - [0:0]
:KAAS-POST - [0:0]
-A KAAS-PRE -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.4
-A KAAS-POST -s 10.0.0.4/32 -o eth0 -j SNAT --to-source 172.24.4.20
-A KAAS-PRE -d 172.24.4.21/32 -j DNAT --to-destination 10.0.0.5
-A KAAS-POST -s 10.0.0.5/32 -o eth0 -j SNAT --to-source 172.24.4.21
-A KAAS-POST -s 10.0.0.0/24 -o eth0 -j SNAT --to-source 172.24.4.10
-A KAAS-POST -s 10.1.0.0/24 -o eth0 -j SNAT --to-source 172.24.4.10
COMMIT
RULES
nat -C PREROUTING -j KAAS-PRE 2>/dev/null || nat -I PREROUTING 1 -j KAAS-PRE
nat -C OUTPUT -j KAAS-PRE 2>/dev/null || nat -I OUTPUT 1 -j KAAS-PRE
nat -C POSTROUTING -j KAAS-POST 2>/dev/null || nat -I POSTROUTING 1 -j KAAS-POST
for a in $(ip -o -4 addr show dev eth0 | awk '$4 ~ /\/32$/ {print $4}'); do case " 172.24.4.20/32 172.24.4.21/32 " in *" $a "*) ;; *) ip addr del $a dev eth0 ;; esac; done
`
	if got != want {
		t.Fatalf("routerScript:\n%s\nwant:\n%s", got, want)
	}
}

func TestRouterScriptVariants(t *testing.T) {
	for _, c := range []struct {
		name     string
		change   func(st *routerState, legs *[]routerLeg, ifaces map[string]string)
		publicGW string
		has      []string
		hasNot   []string
	}{
		{
			name:     "no SNAT",
			change:   func(st *routerState, _ *[]routerLeg, _ map[string]string) { st.Spec.Gateway.EnableSNAT = false },
			publicGW: "172.24.4.1",
			has: []string{
				"-A KAAS-PRE -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.4\n",
				"-A KAAS-POST -s 10.0.0.4/32 -o eth0 -j SNAT --to-source 172.24.4.20\n",
			},
			hasNot: []string{"-s 10.0.0.0/24", "-s 10.1.0.0/24", "--to-source 172.24.4.10"},
		},
		{
			name:     "no public gateway known",
			publicGW: "",
			has:      []string{"ip addr replace 172.24.4.20/32 dev eth0\n"},
			hasNot:   []string{"ip route replace default"},
		},
		{
			name: "no external gateway",
			change: func(st *routerState, legs *[]routerLeg, ifaces map[string]string) {
				st.Spec.Gateway = nil
				st.FIPs = nil
				*legs = (*legs)[1:]
				delete(ifaces, "public")
			},
			publicGW: "172.24.4.1",
			has: []string{
				"ip addr replace 10.0.0.1/24 dev eth1\n",
				"*nat\n:KAAS-PRE - [0:0]\n:KAAS-POST - [0:0]\nCOMMIT\n", // chains emptied
				"nat -C POSTROUTING -j KAAS-POST 2>/dev/null || nat -I POSTROUTING 1 -j KAAS-POST\n",
			},
			hasNot: []string{"ip route replace default", "SNAT", "DNAT", "ip addr del", "/32"},
		},
		{
			name: "gateway whose interface is not known yet",
			change: func(_ *routerState, _ *[]routerLeg, ifaces map[string]string) {
				delete(ifaces, "public")
			},
			publicGW: "172.24.4.1",
			hasNot:   []string{"ip route replace default", "SNAT", "DNAT", "ip addr del", "dev eth0"},
		},
		{
			name: "gateway leg by hand",
			change: func(_ *routerState, legs *[]routerLeg, _ map[string]string) {
				(*legs)[0].byHand = true
			},
			publicGW: "172.24.4.1",
			has:      []string{"ip addr replace 172.24.4.10/24 dev eth0\nip addr replace 10.0.0.1/24 dev eth1\n"},
		},
		{
			name: "no floating IPs",
			change: func(st *routerState, _ *[]routerLeg, _ map[string]string) {
				st.FIPs = map[string]network.FloatingIPSpec{}
			},
			publicGW: "172.24.4.1",
			has: []string{
				"-A KAAS-POST -s 10.0.0.0/24 -o eth0 -j SNAT --to-source 172.24.4.10\n",
				`case "  " in *" $a "*) ;; *) ip addr del $a dev eth0 ;; esac`, // every /32 goes
			},
			hasNot: []string{"DNAT", "/32 dev eth0"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, legs, ifaces := routerFixture()
			if c.change != nil {
				c.change(&st, &legs, ifaces)
			}
			got := routerScript(st, legs, ifaces, "public", c.publicGW)
			for _, s := range c.has {
				if !strings.Contains(got, s) {
					t.Errorf("script lacks %q:\n%s", s, got)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("script has %q:\n%s", s, got)
				}
			}
			// Never added by hand: legs docker addresses itself, legs without an interface.
			for _, s := range []string{"10.2.0.9", "10.1.0.1/24 dev"} {
				if strings.Contains(got, s) {
					t.Errorf("script has %q:\n%s", s, got)
				}
			}
			// The NAT rules are one transaction: every rule lies between *nat and COMMIT.
			begin, end := strings.Index(got, "*nat\n"), strings.Index(got, "COMMIT\n")
			for _, l := range strings.Split(got, "\n") {
				if strings.HasPrefix(l, "-A ") {
					if i := strings.Index(got, l+"\n"); i < begin || i > end {
						t.Errorf("rule outside the transaction: %q", l)
					}
				}
			}
		})
	}
}

func TestRouterScriptDeterministic(t *testing.T) {
	st, legs, ifaces := routerFixture()
	st.FIPs = map[string]network.FloatingIPSpec{}
	var want []string
	for i := range 40 {
		id := fmt.Sprintf("fip-%02d", i)
		st.FIPs[id] = network.FloatingIPSpec{ID: id, FloatingIP: fmt.Sprintf("172.24.4.%d", 100+i), FixedIP: fmt.Sprintf("10.0.0.%d", 10+i)}
		want = append(want, fmt.Sprintf("172.24.4.%d/32", 100+i))
	}
	first := routerScript(st, legs, ifaces, "public", "172.24.4.1")
	for range 5 {
		if again := routerScript(st, legs, ifaces, "public", "172.24.4.1"); again != first {
			t.Fatalf("routerScript differs between renders:\n%s\nthen:\n%s", first, again)
		}
	}
	// The stale-address loop keeps exactly the wanted floating IPs, in id order.
	if keep := `case " ` + strings.Join(want, " ") + ` " in`; !strings.Contains(first, keep) {
		t.Errorf("stale loop does not keep exactly %v:\n%s", want, first)
	}
	if n := strings.Count(first, "-j DNAT"); n != 40 {
		t.Errorf("%d DNAT rules, want 40", n)
	}
}

// TestReaddressed: a router leg attached with another address than its spec's (the gateway's
// external_fixed_ips changed) is attached again; one held by hand, or unchanged, is not.
func TestReaddressed(t *testing.T) {
	var c dockercli.Container
	c.NetworkSettings.Networks = map[string]dockercli.Endpoint{
		"public": {IPAddress: "172.24.4.10"}, "net-a": {IPAddress: "10.0.0.1"}, "net-b": {IPAddress: "10.1.0.5"},
	}
	legs := []routerLeg{
		{network: "public", address: "172.24.4.97"},
		{network: "net-a", address: "10.0.0.1"},
		{network: "net-b", address: "10.1.0.1", byHand: true},
		{network: "net-c", address: "10.2.0.1"},
	}
	got := readdressed(c, legs)
	if len(got) != 1 || got[0].network != "public" || got[0].address != "172.24.4.97" {
		t.Fatalf("readdressed: %+v", got)
	}
}
