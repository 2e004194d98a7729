package docker

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/network"
)

func intp(i int) *int { return &i }

// ingress is an IPv4 ingress rule.
func ingress(proto string, lo, hi *int) network.SecurityGroupRule {
	return network.SecurityGroupRule{Direction: "ingress", EtherType: "IPv4", Protocol: proto, PortRangeMin: lo, PortRangeMax: hi}
}

func TestRuleMatches(t *testing.T) {
	groups := map[string][]string{
		"g-members": {"10.0.0.5", "fd00::5", "10.0.0.6", "garbage"},
		"g-v6only":  {"fd00::7"},
		"g-empty":   {},
	}
	with := func(r network.SecurityGroupRule, f func(*network.SecurityGroupRule)) network.SecurityGroupRule {
		f(&r)
		return r
	}
	for _, c := range []struct {
		name string
		rule network.SecurityGroupRule
		want []string
	}{
		{"any protocol, anywhere", ingress("", nil, nil), []string{""}},
		{"any spelled any", ingress("any", nil, nil), []string{""}},
		{"empty ethertype is IPv4", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.EtherType = "" }), []string{"-p tcp"}},
		{"tcp without ports", ingress("tcp", nil, nil), []string{"-p tcp"}},
		{"tcp range", ingress("tcp", intp(30000), intp(32767)), []string{"-p tcp -m tcp --dport 30000:32767"}},
		{"tcp single port", ingress("tcp", intp(22), intp(22)), []string{"-p tcp -m tcp --dport 22:22"}},
		{"tcp min only", ingress("tcp", intp(443), nil), []string{"-p tcp -m tcp --dport 443:443"}},
		{"protocol case", ingress("TCP", intp(80), intp(80)), []string{"-p tcp -m tcp --dport 80:80"}},
		{"udp", ingress("udp", intp(53), intp(53)), []string{"-p udp -m udp --dport 53:53"}},
		{"sctp", ingress("sctp", intp(9), intp(10)), []string{"-p sctp -m sctp --dport 9:10"}},
		{"icmp any", ingress("icmp", nil, nil), []string{"-p icmp"}},
		{"icmp type", ingress("icmp", intp(8), nil), []string{"-p icmp --icmp-type 8"}},
		{"icmp type and code", ingress("icmp", intp(3), intp(4)), []string{"-p icmp --icmp-type 3/4"}},
		{"numeric protocol", ingress("112", nil, nil), []string{"-p 112"}},
		{"numeric protocol 0", ingress("0", nil, nil), []string{"-p 0"}},
		{"numeric protocol too big", ingress("256", nil, nil), nil},
		// Neutron takes a protocol as a name or a number: both mean the same rule.
		{"numeric tcp with ports", ingress("6", intp(22), intp(22)), []string{"-p tcp -m tcp --dport 22:22"}},
		{"numeric udp", ingress("17", nil, nil), []string{"-p udp"}},
		{"numeric sctp with ports", ingress("132", intp(9), intp(9)), []string{"-p sctp -m sctp --dport 9:9"}},
		{"numeric icmp with type and code", ingress("1", intp(8), intp(0)), []string{"-p icmp --icmp-type 8/0"}},
		{"named gre", ingress("gre", nil, nil), []string{"-p 47"}},
		{"named vrrp", ingress("vrrp", nil, nil), []string{"-p 112"}},
		{"named ipip", ingress("ipip", nil, nil), []string{"-p 4"}},
		{"dccp without ports", ingress("dccp", nil, nil), []string{"-p 33"}},
		// Ports iptables is not told here: no rule rather than every port open.
		{"dccp with ports", ingress("dccp", intp(5000), intp(5001)), nil},
		{"numeric udplite with ports", ingress("136", intp(5000), intp(5000)), nil},
		{"negative protocol", ingress("-1", nil, nil), nil},
		{"unknown protocol", ingress("ipv6-icmp", nil, nil), nil},
		{"unknown protocol name", ingress("gre-ish", nil, nil), nil},
		{"egress", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.Direction = "egress" }), nil},
		{"IPv6 ethertype", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.EtherType = "IPv6" }), nil},
		{"remote CIDR", with(ingress("tcp", intp(22), intp(22)), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "192.168.0.0/16" }),
			[]string{"-p tcp -m tcp --dport 22:22 -s 192.168.0.0/16"}},
		{"remote CIDR not masked", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "192.168.3.4/16" }),
			[]string{"-p tcp -s 192.168.0.0/16"}},
		{"remote CIDR, any protocol", with(ingress("", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "0.0.0.0/0" }),
			[]string{"-s 0.0.0.0/0"}},
		{"remote bare address", with(ingress("udp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "10.1.2.3" }),
			[]string{"-p udp -s 10.1.2.3/32"}},
		{"remote IPv6 prefix", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "fd00::/64" }), nil},
		{"remote IPv6 address", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "fd00::1" }), nil},
		{"remote garbage", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteIPPrefix = "nope" }), nil},
		{"remote group with members", with(ingress("tcp", intp(6443), intp(6443)), func(r *network.SecurityGroupRule) { r.RemoteGroupID = "g-members" }),
			[]string{"-p tcp -m tcp --dport 6443:6443 -s 10.0.0.5", "-p tcp -m tcp --dport 6443:6443 -s 10.0.0.6"}},
		{"remote group, any protocol", with(ingress("", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteGroupID = "g-members" }),
			[]string{"-s 10.0.0.5", "-s 10.0.0.6"}},
		{"remote group without members", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteGroupID = "g-empty" }), nil},
		{"remote group unknown", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteGroupID = "g-unknown" }), nil},
		{"remote group with IPv6 members only", with(ingress("tcp", nil, nil), func(r *network.SecurityGroupRule) { r.RemoteGroupID = "g-v6only" }), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ruleMatches(c.rule, groups)
			if !slices.Equal(got, c.want) {
				t.Errorf("ruleMatches = %q, want %q", got, c.want)
			}
		})
	}
}

// ipAddrOutput is real `ip -o -4 addr show` output of an instance container.
const ipAddrOutput = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
	"79: eth0    inet 192.168.250.2/24 brd 192.168.250.255 scope global eth0\\       valid_lft forever preferred_lft forever\n" +
	"81: eth1    inet 10.77.1.248/24 brd 10.77.1.255 scope global eth1\\       valid_lft forever preferred_lft forever\n" +
	"81: eth1    inet 10.77.1.1/24 scope global secondary eth1\\       valid_lft forever preferred_lft forever"

func TestInterfacesByIP(t *testing.T) {
	for _, c := range []struct {
		name, out string
		want      map[string]string
	}{
		{"real output", ipAddrOutput, map[string]string{
			"127.0.0.1": "lo", "192.168.250.2": "eth0", "10.77.1.248": "eth1", "10.77.1.1": "eth1",
		}},
		// ip -o addr prints the bare name, but a veth name with its peer must not leak "@if12".
		{"peer suffix", "11: eth0@if12    inet 10.0.0.3/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n",
			map[string]string{"10.0.0.3": "eth0"}},
		{"trailing newline and blank lines", "\n" + ipAddrOutput + "\n\n", map[string]string{
			"127.0.0.1": "lo", "192.168.250.2": "eth0", "10.77.1.248": "eth1", "10.77.1.1": "eth1",
		}},
		{"empty", "", map[string]string{}},
		{"garbage", "inet\nfoo inet nope\n", map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := interfacesByIP(c.out); !maps.Equal(got, c.want) {
				t.Errorf("interfacesByIP = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSecurityScript(t *testing.T) {
	ifaces := interfacesByIP(ipAddrOutput)
	specs := []network.PortSecuritySpec{
		{ // 0: port security off: no chain
			PortID: "p-off", Enabled: false,
			FixedIPs: []network.FixedIP{{IPAddress: "192.168.250.2"}},
			Rules:    []network.SecurityGroupRule{ingress("tcp", intp(1), intp(1))},
		},
		{ // 1: on eth1 (its second address)
			PortID: "p-eth1", Enabled: true,
			FixedIPs: []network.FixedIP{{IPAddress: "fd00::9"}, {IPAddress: "10.77.1.1"}},
			Rules: []network.SecurityGroupRule{
				ingress("tcp", intp(22), intp(22)),
				{Direction: "egress", EtherType: "IPv4"},
				func() network.SecurityGroupRule {
					r := ingress("tcp", intp(6443), intp(6443))
					r.RemoteGroupID = "g"
					return r
				}(),
			},
			RemoteGroupIPs: map[string][]string{"g": {"10.77.1.7", "10.77.1.8"}},
		},
		{ // 2: an address that is not on the instance: no chain
			PortID: "p-elsewhere", Enabled: true,
			FixedIPs: []network.FixedIP{{IPAddress: "10.99.0.4"}},
			Rules:    []network.SecurityGroupRule{ingress("udp", nil, nil)},
		},
		{ // 3: on eth0, no rules: everything new is dropped
			PortID: "p-eth0", Enabled: true,
			FixedIPs: []network.FixedIP{{IPAddress: "192.168.250.2"}},
		},
	}
	got := securityScript(specs, ifaces)
	want := `set -e
iptables-restore -w 5 --noflush <<'RULES'
*mangle
:KAAS-SG - [0:0]
:KAAS-SG-1 - [0:0]
:KAAS-SG-3 - [0:0]
-A KAAS-SG -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
-A KAAS-SG -i eth1 -j KAAS-SG-1
-A KAAS-SG-1 -p tcp -m tcp --dport 22:22 -j RETURN
-A KAAS-SG-1 -p tcp -m tcp --dport 6443:6443 -s 10.77.1.7 -j RETURN
-A KAAS-SG-1 -p tcp -m tcp --dport 6443:6443 -s 10.77.1.8 -j RETURN
-A KAAS-SG-1 -j DROP
-A KAAS-SG -i eth0 -j KAAS-SG-3
-A KAAS-SG-3 -j DROP
COMMIT
RULES
iptables -w 5 -t mangle -C PREROUTING -j KAAS-SG 2>/dev/null || iptables -w 5 -t mangle -I PREROUTING 1 -j KAAS-SG
`
	if got != want {
		t.Fatalf("securityScript:\n%s\nwant:\n%s", got, want)
	}
	if again := securityScript(specs, ifaces); again != got {
		t.Errorf("securityScript is not deterministic:\n%s\nthen:\n%s", got, again)
	}
}

func TestSecurityScriptNoPorts(t *testing.T) {
	// Nothing enabled: the main chain is still replaced (emptied of old ports) and hooked.
	got := securityScript([]network.PortSecuritySpec{{PortID: "p", FixedIPs: []network.FixedIP{{IPAddress: "10.77.1.1"}}}}, interfacesByIP(ipAddrOutput))
	for _, bad := range []string{"KAAS-SG-0", "-j DROP", "-i eth1"} {
		if strings.Contains(got, bad) {
			t.Errorf("script of a disabled port has %q:\n%s", bad, got)
		}
	}
	restore := strings.Index(got, "*mangle\n")
	commit := strings.Index(got, "COMMIT\n")
	est := strings.Index(got, "-A KAAS-SG -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN\n")
	hook := strings.Index(got, "-C PREROUTING -j KAAS-SG 2>/dev/null || iptables -w 5 -t mangle -I PREROUTING 1 -j KAAS-SG")
	if restore < 0 || !(restore < est && est < commit && commit < hook) {
		t.Errorf("want *mangle < ESTABLISHED < COMMIT < hook:\n%s", got)
	}
}

func TestSecurityScriptAnyRule(t *testing.T) {
	// A rule that matches everything becomes an unconditional RETURN, before the DROP.
	specs := []network.PortSecuritySpec{{
		PortID: "p", Enabled: true, FixedIPs: []network.FixedIP{{IPAddress: "192.168.250.2"}},
		Rules: []network.SecurityGroupRule{ingress("", nil, nil)},
	}}
	got := securityScript(specs, interfacesByIP(ipAddrOutput))
	var chain []string
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "-A KAAS-SG-0 ") {
			chain = append(chain, strings.Join(strings.Fields(l), " "))
		}
	}
	if want := []string{"-A KAAS-SG-0 -j RETURN", "-A KAAS-SG-0 -j DROP"}; !slices.Equal(chain, want) {
		t.Errorf("chain KAAS-SG-0 = %q, want %q\n%s", chain, want, got)
	}
}
