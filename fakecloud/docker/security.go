package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
)

// Security groups are enforced where Neutron's iptables driver enforces them: at the port,
// before anything inside the instance sees the packet. Here that is the mangle table's
// PREROUTING in the instance container's network namespace (before the instance's own DNAT,
// such as kube-proxy's), one chain per port. Egress is not filtered. Only IPv4 rules are
// applied. The desired rules of every port are kept in files, because docker gives a container
// a new network namespace each time it starts.

const sgChain = "KAAS-SG"

// SetPortSecurity records the rules of a port and applies them to its device's container if
// it runs. Devices that are not instances (load balancers) keep only the record.
func (b *Backend) SetPortSecurity(ctx context.Context, spec network.PortSecuritySpec) error {
	if spec.DeviceID == "" {
		return nil
	}
	d, err := b.dir("security", spec.DeviceID)
	if err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encoding the rules of port %s: %w", spec.PortID, err)
	}
	if err := os.WriteFile(filepath.Join(d, spec.PortID+".json"), data, 0o644); err != nil {
		return fmt.Errorf("recording the rules of port %s: %w", spec.PortID, err)
	}
	name, err := b.instanceContainer(ctx, spec.DeviceID)
	if err != nil || name == "" {
		return err // not an instance, or not made yet: its start applies the record
	}
	defer b.lock(name)()
	return b.applySecurity(ctx, name, spec.DeviceID)
}

// instanceContainer is the container of instance deviceID: a server's, or the bare-metal host
// it is deployed on; "" when there is none.
func (b *Backend) instanceContainer(ctx context.Context, deviceID string) (string, error) {
	name := b.name(TypeServer, deviceID)
	if _, err := b.docker.InspectContainer(ctx, name); err == nil {
		return name, nil
	} else if !dockercli.IsNotFound(err) {
		return "", err
	}
	out, err := b.docker.Run(ctx, "ps", "-a", "--format", "{{.Names}}", "--filter", "label="+LabelInstance+"="+b.cfg.Instance,
		"--filter", "label="+LabelInstanceUUID+"="+deviceID)
	if err != nil {
		return "", fmt.Errorf("finding the instance %s: %w", deviceID, err)
	}
	return strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]), nil
}

// portSpecs reads the recorded rules of a device's ports.
func (b *Backend) portSpecs(deviceID string) ([]network.PortSecuritySpec, error) {
	files, _ := filepath.Glob(filepath.Join(b.cfg.DataDir, "security", deviceID, "*.json"))
	sort.Strings(files)
	var out []network.PortSecuritySpec
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		var s network.PortSecuritySpec
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// applySecurity programs the recorded rules of instance deviceID into its container name; a
// container that does not run (yet) is left alone: it gets them when it starts.
func (b *Backend) applySecurity(ctx context.Context, name, deviceID string) error {
	specs, err := b.portSpecs(deviceID)
	if err != nil || len(specs) == 0 {
		return err
	}
	c, err := b.docker.InspectContainer(ctx, name)
	if err != nil || !c.State.Running {
		return nil
	}
	out, err := b.docker.Run(ctx, "exec", name, "ip", "-o", "-4", "addr", "show")
	if err != nil {
		return fmt.Errorf("reading the interfaces of %s: %w", name, err)
	}
	script := securityScript(specs, interfacesByIP(out))
	if _, err := b.docker.Exec(ctx, name, script); err != nil {
		return fmt.Errorf("applying security groups in %s: %w", name, err)
	}
	return nil
}

// interfacesByIP parses `ip -o -4 addr show` into address -> interface name.
func interfacesByIP(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				if p, err := netip.ParsePrefix(f[i+1]); err == nil && len(f) > 1 {
					m[p.Addr().String()] = strings.SplitN(f[1], "@", 2)[0]
				}
			}
		}
	}
	return m
}

// securityScript is the shell script that replaces the instance's security chains with those
// of specs. ifaces maps the instance's addresses to its interfaces.
func securityScript(specs []network.PortSecuritySpec, ifaces map[string]string) string {
	// One iptables-restore transaction replaces the chains: no packet sees them half-written.
	chains := []string{sgChain}
	rules := []string{fmt.Sprintf("-A %s -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN", sgChain)}
	for i, s := range specs {
		if !s.Enabled {
			continue
		}
		ifname := ""
		for _, ip := range s.FixedIPs {
			if n, ok := ifaces[ip.IPAddress]; ok {
				ifname = n
				break
			}
		}
		if ifname == "" {
			continue // the port's address is not on this instance
		}
		chain := fmt.Sprintf("%s-%d", sgChain, i)
		chains = append(chains, chain)
		rules = append(rules, fmt.Sprintf("-A %s -i %s -j %s", sgChain, ifname, chain))
		for _, r := range s.Rules {
			for _, m := range ruleMatches(r, s.RemoteGroupIPs) {
				rules = append(rules, fmt.Sprintf("-A %s %s -j RETURN", chain, m))
			}
		}
		rules = append(rules, fmt.Sprintf("-A %s -j DROP", chain))
	}
	var sb strings.Builder
	sb.WriteString("set -e\niptables-restore -w 5 --noflush <<'RULES'\n*mangle\n")
	for _, c := range chains {
		fmt.Fprintf(&sb, ":%s - [0:0]\n", c)
	}
	sb.WriteString(joinLines(rules))
	sb.WriteString("COMMIT\nRULES\n")
	fmt.Fprintf(&sb, "iptables -w 5 -t mangle -C PREROUTING -j %s 2>/dev/null || iptables -w 5 -t mangle -I PREROUTING 1 -j %s\n", sgChain, sgChain)
	return sb.String()
}

// protocolAliases spell the protocols Neutron accepts the way ruleMatches matches them: the
// numbers of those with ports or ICMP types by name (so that the ports are matched), the
// other names by number (iptables looks names up in /etc/protocols, which images may lack).
var protocolAliases = map[string]string{
	"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp",
	"ah": "51", "dccp": "33", "egp": "8", "esp": "50", "gre": "47", "igmp": "2", "ipip": "4",
	"ipv6-encap": "41", "ospf": "89", "pgm": "113", "rsvp": "46", "udplite": "136", "vrrp": "112",
}

// ruleMatches are the iptables matches of one ingress IPv4 rule (several when its remote
// group has several members; none when it matches nothing here).
func ruleMatches(r network.SecurityGroupRule, groups map[string][]string) []string {
	if r.Direction != "ingress" || (r.EtherType != "" && r.EtherType != "IPv4") {
		return nil
	}
	var m []string
	proto := strings.ToLower(r.Protocol)
	if alias, ok := protocolAliases[proto]; ok {
		proto = alias
	}
	switch proto {
	case "", "any":
	case "tcp", "udp", "sctp":
		m = append(m, "-p", proto)
		if r.PortRangeMin != nil {
			hi := *r.PortRangeMin
			if r.PortRangeMax != nil {
				hi = *r.PortRangeMax
			}
			m = append(m, "-m", proto, "--dport", fmt.Sprintf("%d:%d", *r.PortRangeMin, hi))
		}
	case "icmp":
		m = append(m, "-p", "icmp")
		if r.PortRangeMin != nil {
			t := strconv.Itoa(*r.PortRangeMin)
			if r.PortRangeMax != nil {
				t += "/" + strconv.Itoa(*r.PortRangeMax)
			}
			m = append(m, "--icmp-type", t)
		}
	default:
		if r.PortRangeMin != nil || r.PortRangeMax != nil {
			return nil // ports of a protocol not matched here (dccp, udplite): not every port open
		}
		if n, err := strconv.Atoi(proto); err == nil && n >= 0 && n <= 255 {
			m = append(m, "-p", proto)
		} else {
			return nil // a protocol iptables does not know here (icmpv6 on IPv4...)
		}
	}
	base := strings.Join(m, " ")
	var sources []string
	switch {
	case r.RemoteGroupID != "":
		for _, ip := range groups[r.RemoteGroupID] {
			if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
				sources = append(sources, a.String())
			}
		}
		if len(sources) == 0 {
			return nil
		}
	case r.RemoteIPPrefix != "":
		p, err := netip.ParsePrefix(r.RemoteIPPrefix)
		if err != nil {
			a, aerr := netip.ParseAddr(r.RemoteIPPrefix)
			if aerr != nil {
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !p.Addr().Is4() {
			return nil
		}
		sources = []string{p.Masked().String()}
	default:
		return []string{strings.TrimSpace(base)}
	}
	out := make([]string, 0, len(sources))
	for _, s := range sources {
		out = append(out, strings.TrimSpace(base+" -s "+s))
	}
	return out
}

// removeSecurity forgets the rules of a device.
func (b *Backend) removeSecurity(deviceID string) error {
	return os.RemoveAll(filepath.Join(b.cfg.DataDir, "security", deviceID))
}
