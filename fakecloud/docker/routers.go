package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
)

// routerState is what the backend keeps of a router: the last spec and its floating IPs
// (Neutron hands them over one at a time, the router's script needs all of them).
type routerState struct {
	Spec network.RouterSpec                `json:"spec"`
	FIPs map[string]network.FloatingIPSpec `json:"fips"`
}

func (b *Backend) routerFile(id string) string {
	return filepath.Join(b.cfg.DataDir, TypeRouter, id, "state.json")
}

func (b *Backend) readRouter(id string) (routerState, error) {
	st := routerState{FIPs: map[string]network.FloatingIPSpec{}}
	data, err := os.ReadFile(b.routerFile(id))
	if errors.Is(err, os.ErrNotExist) {
		st.Spec.ID = id
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading the state of router %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("reading the state of router %s: %w", id, err)
	}
	if st.FIPs == nil {
		st.FIPs = map[string]network.FloatingIPSpec{}
	}
	return st, nil
}

func (b *Backend) writeRouter(st routerState) error {
	if _, err := b.dir(TypeRouter, st.Spec.ID); err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding the state of router %s: %w", st.Spec.ID, err)
	}
	return os.WriteFile(b.routerFile(st.Spec.ID), data, 0o644)
}

// EnsureRouter makes the router's container match spec: a leg on the public network for the
// external gateway, one on each subnet it is an interface of, SNAT and the floating IPs.
func (b *Backend) EnsureRouter(ctx context.Context, spec network.RouterSpec) error {
	name := b.name(TypeRouter, spec.ID)
	defer b.lock(name)()
	st, err := b.readRouter(spec.ID)
	if err != nil {
		return err
	}
	st.Spec = spec
	if err := b.writeRouter(st); err != nil {
		return err
	}
	return b.applyRouter(ctx, st)
}

// DeleteRouter removes the router's container and state.
func (b *Backend) DeleteRouter(ctx context.Context, id string) error {
	name := b.name(TypeRouter, id)
	defer b.lock(name)()
	if err := b.docker.Remove(ctx, "container", name); err != nil {
		return fmt.Errorf("removing router %s: %w", id, err)
	}
	return os.RemoveAll(filepath.Dir(b.routerFile(id)))
}

// SetFloatingIP installs the DNAT and SNAT of a floating IP on its router.
func (b *Backend) SetFloatingIP(ctx context.Context, spec network.FloatingIPSpec) error {
	if spec.RouterID == "" {
		return permanent("floating IP %s has no router: its internal network is not connected to the external one", spec.FloatingIP)
	}
	if err := b.dropFIPExcept(ctx, spec.ID, spec.RouterID); err != nil { // it may have moved between routers
		return err
	}
	name := b.name(TypeRouter, spec.RouterID)
	defer b.lock(name)()
	st, err := b.readRouter(spec.RouterID)
	if err != nil {
		return err
	}
	st.FIPs[spec.ID] = spec
	if err := b.writeRouter(st); err != nil {
		return err
	}
	return b.applyRouter(ctx, st)
}

// UnsetFloatingIP removes a floating IP from whichever router holds it.
func (b *Backend) UnsetFloatingIP(ctx context.Context, id string) error {
	return b.dropFIPExcept(ctx, id, "")
}

// dropFIPExcept removes a floating IP from every router but keep.
func (b *Backend) dropFIPExcept(ctx context.Context, id, keep string) error {
	files, _ := filepath.Glob(filepath.Join(b.cfg.DataDir, TypeRouter, "*", "state.json"))
	for _, f := range files {
		rid := filepath.Base(filepath.Dir(f))
		if rid == keep {
			continue
		}
		if err := b.dropFIP(ctx, rid, id); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) dropFIP(ctx context.Context, routerID, fipID string) error {
	defer b.lock(b.name(TypeRouter, routerID))()
	st, err := b.readRouter(routerID)
	if err != nil {
		return err
	}
	if _, ok := st.FIPs[fipID]; !ok {
		return nil
	}
	delete(st.FIPs, fipID)
	if err := b.writeRouter(st); err != nil {
		return err
	}
	return b.applyRouter(ctx, st)
}

// routerLeg is one attachment of a router: the docker network, the address the router
// holds there and whether docker may assign it (the subnet's gateway is docker's own).
type routerLeg struct {
	network string
	address string
	prefix  int
	byHand  bool // added inside the container: docker keeps this address as its gateway
}

// leg is the docker attachment of l: docker picks the address when l's is held by hand.
func (l routerLeg) leg() leg {
	if l.byHand {
		return leg{network: l.network}
	}
	return leg{network: l.network, ip: l.address}
}

// applyRouter brings the router's container in line with st.
func (b *Backend) applyRouter(ctx context.Context, st routerState) error {
	name := b.name(TypeRouter, st.Spec.ID)
	legs, err := b.routerLegs(ctx, st.Spec)
	if err != nil {
		return err
	}
	if len(legs) == 0 {
		return b.docker.Remove(ctx, "container", name)
	}
	c, err := b.docker.InspectContainer(ctx, name)
	if dockercli.IsNotFound(err) {
		args := []string{"create", "--name", name, "--hostname", "router-" + st.Spec.ID[:min(8, len(st.Spec.ID))]}
		args = append(args, b.labels(TypeRouter, st.Spec.ID, st.Spec.Project, "")...)
		args = append(args, "--privileged", "--sysctl", "net.ipv4.ip_forward=1", "--restart=on-failure:1")
		args = append(args, legArgs(legs[0].leg(), "--network")...)
		if _, err := b.docker.Run(ctx, append(args, b.cfg.RouterImage, "sleep", "infinity")...); err != nil {
			return classify(fmt.Errorf("creating router %s: %w", st.Spec.ID, err))
		}
		if c, err = b.docker.InspectContainer(ctx, name); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// Legs: connect the missing, disconnect the gone.
	want := map[string]routerLeg{}
	for _, l := range legs {
		want[l.network] = l
	}
	for net := range c.NetworkSettings.Networks {
		if _, ok := want[net]; !ok {
			if _, err := b.docker.Run(ctx, "network", "disconnect", "--force", net, name); err != nil && !dockercli.IsNotFound(err) {
				return fmt.Errorf("detaching router %s from %s: %w", st.Spec.ID, net, err)
			}
		}
	}
	// A leg whose address changed (new external_fixed_ips of the gateway) is attached again:
	// docker cannot change the address of an attachment.
	for _, l := range readdressed(c, legs) {
		if _, err := b.docker.Run(ctx, "network", "disconnect", "--force", l.network, name); err != nil && !dockercli.IsNotFound(err) {
			return fmt.Errorf("detaching router %s from %s to change its address: %w", st.Spec.ID, l.network, err)
		}
		delete(c.NetworkSettings.Networks, l.network)
	}
	for _, l := range legs {
		if _, ok := c.NetworkSettings.Networks[l.network]; ok {
			continue
		}
		if err := b.connect(ctx, name, l.leg()); err != nil {
			return err
		}
	}
	if !c.State.Running {
		if _, err := b.docker.Run(ctx, "start", name); err != nil {
			return fmt.Errorf("starting router %s: %w", st.Spec.ID, err)
		}
	}
	c, err = b.docker.InspectContainer(ctx, name)
	if err != nil {
		return err
	}
	links, err := b.docker.Run(ctx, "exec", name, "ip", "-o", "link", "show")
	if err != nil {
		return fmt.Errorf("reading the interfaces of router %s: %w", st.Spec.ID, err)
	}
	ifaces := map[string]string{} // docker network -> interface
	byMAC := interfacesByMAC(links)
	for net, ep := range c.NetworkSettings.Networks {
		ifaces[net] = byMAC[strings.ToLower(ep.MacAddress)]
	}
	pubGW := ""
	if pub, err := b.docker.InspectNetwork(ctx, b.cfg.PublicNetwork); err == nil && len(pub.IPAM.Config) > 0 {
		pubGW = pub.IPAM.Config[0].Gateway
	}
	script := routerScript(st, legs, ifaces, b.cfg.PublicNetwork, pubGW)
	if _, err := b.docker.Exec(ctx, name, script); err != nil {
		return fmt.Errorf("configuring router %s: %w", st.Spec.ID, err)
	}
	return nil
}

// readdressed are the legs the container is attached to with another address than the leg
// asks for; legs whose address is held by hand (docker's gateway) are not docker's to give.
func readdressed(c dockercli.Container, legs []routerLeg) []routerLeg {
	var out []routerLeg
	for _, l := range legs {
		ep, ok := c.NetworkSettings.Networks[l.network]
		if ok && !l.byHand && l.address != "" && ep.IPAddress != "" && ep.IPAddress != l.address {
			out = append(out, l)
		}
	}
	return out
}

// routerLegs are the attachments a router's spec asks for; the gateway comes first.
func (b *Backend) routerLegs(ctx context.Context, spec network.RouterSpec) ([]routerLeg, error) {
	var legs []routerLeg
	add := func(networkID, cidr, ip string) error {
		n, err := b.dockerNetworkFor(ctx, networkID)
		if err != nil {
			return err
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil || !p.Addr().Is4() {
			return nil
		}
		l := routerLeg{network: n.Name, address: ip, prefix: p.Bits()}
		for _, c := range n.IPAM.Config {
			if c.Gateway == ip {
				l.byHand = true
			}
		}
		for _, have := range legs {
			if have.network == l.network {
				return nil // a second subnet of one network: the first leg serves it
			}
		}
		legs = append(legs, l)
		return nil
	}
	if g := spec.Gateway; g != nil {
		if err := add(g.NetworkID, g.CIDR, g.IPAddress); err != nil {
			return nil, err
		}
	}
	ifs := slices.Clone(spec.Interfaces)
	sort.Slice(ifs, func(i, j int) bool { return ifs[i].PortID < ifs[j].PortID })
	for _, i := range ifs {
		if err := add(i.NetworkID, i.CIDR, i.IPAddress); err != nil {
			return nil, err
		}
	}
	return legs, nil
}

// interfacesByMAC parses `ip -o link show` into MAC -> interface name.
func interfacesByMAC(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ifname := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "link/ether" {
				m[strings.ToLower(f[i+1])] = ifname
			}
		}
	}
	return m
}

// routerScript is the shell script that configures a router container: the addresses docker
// does not give it, the default route to the public network's gateway, SNAT of the private
// subnets and the floating IPs.
func routerScript(st routerState, legs []routerLeg, ifaces map[string]string, public, publicGW string) string {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format+"\n", args...) }
	w("set -e")
	w("nat() { iptables -w 5 -t nat \"$@\"; }")
	for _, l := range legs {
		if l.byHand && ifaces[l.network] != "" {
			w("ip addr replace %s/%d dev %s", l.address, l.prefix, ifaces[l.network])
		}
	}
	pubIf := ifaces[public]
	gw := st.Spec.Gateway
	if pubIf != "" && gw != nil && publicGW != "" {
		w("ip route replace default via %s dev %s", publicGW, pubIf)
	}
	for _, r := range st.Spec.Routes {
		w("ip route replace %s via %s || true", r.Destination, r.NextHop)
	}
	// The NAT chains are replaced in one iptables-restore transaction: no packet sees them
	// half-written.
	var rules []string
	ids := make([]string, 0, len(st.FIPs))
	for id := range st.FIPs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var fips []string
	if pubIf != "" {
		for _, id := range ids {
			f := st.FIPs[id]
			fips = append(fips, f.FloatingIP+"/32")
			w("ip addr replace %s/32 dev %s", f.FloatingIP, pubIf)
			rules = append(rules,
				fmt.Sprintf("-A KAAS-PRE -d %s/32 -j DNAT --to-destination %s", f.FloatingIP, f.FixedIP),
				fmt.Sprintf("-A KAAS-POST -s %s/32 -o %s -j SNAT --to-source %s", f.FixedIP, pubIf, f.FloatingIP))
		}
		if gw != nil && gw.EnableSNAT {
			for _, i := range st.Spec.Interfaces {
				if p, err := netip.ParsePrefix(i.CIDR); err == nil && p.Addr().Is4() {
					rules = append(rules, fmt.Sprintf("-A KAAS-POST -s %s -o %s -j SNAT --to-source %s", p.Masked(), pubIf, gw.IPAddress))
				}
			}
		}
	}
	w("iptables-restore -w 5 --noflush <<'RULES'\n*nat\n:KAAS-PRE - [0:0]\n:KAAS-POST - [0:0]\n%sCOMMIT\nRULES", joinLines(rules))
	w("nat -C PREROUTING -j KAAS-PRE 2>/dev/null || nat -I PREROUTING 1 -j KAAS-PRE")
	w("nat -C OUTPUT -j KAAS-PRE 2>/dev/null || nat -I OUTPUT 1 -j KAAS-PRE")
	w("nat -C POSTROUTING -j KAAS-POST 2>/dev/null || nat -I POSTROUTING 1 -j KAAS-POST")
	if pubIf != "" {
		// Floating IPs that went away.
		w("for a in $(ip -o -4 addr show dev %s | awk '$4 ~ /\\/32$/ {print $4}'); do case \" %s \" in *\" $a \"*) ;; *) ip addr del $a dev %s ;; esac; done",
			pubIf, strings.Join(fips, " "), pubIf)
	}
	return sb.String()
}

// joinLines ends every line with a newline.
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
