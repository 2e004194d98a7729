package docker

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
)

// networkName is the docker network of a Neutron network (external ones share the public
// network).
func (b *Backend) networkName(id string) string { return b.name(TypeNetwork, id) }

// EnsureNetwork creates the docker network of a Neutron network once it has an IPv4 subnet.
// Private networks are internal bridges without a host address: reachable only through
// routers, load balancers and floating IPs. Docker cannot hold two networks whose subnets
// overlap: while the network in the way is one of a deleted Neutron network, still being
// removed, the error is retried; any other overlap is refused with a permanent error.
func (b *Backend) EnsureNetwork(ctx context.Context, spec network.NetworkSpec) error {
	name := b.networkName(spec.ID)
	if spec.External {
		name = b.cfg.PublicNetwork
		if err := b.markNetwork(spec.ID, markExternal); err != nil {
			return err
		}
	}
	defer b.lock(name)()
	want := b.ipamArgs(spec)
	cur, err := b.docker.InspectNetwork(ctx, name)
	switch {
	case dockercli.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("inspecting docker network %s: %w", name, err)
	case sameSubnets(cur, spec):
		return nil
	case spec.External:
		// The public network may predate this fakecloud (another instance, or the sandbox).
		return permanent("docker network %s exists with subnets %s, not those of external network %s; remove it (fakecloud down) or choose --external-cidr to match",
			name, subnetsOf(cur), spec.ID)
	case len(cur.Containers) > 0:
		return permanent("the subnets of network %s changed while containers use its docker network %s: the docker backend cannot renumber a live network",
			spec.ID, name)
	default:
		if err := b.docker.Remove(ctx, "network", name); err != nil {
			return fmt.Errorf("recreating docker network %s: %w", name, err)
		}
	}
	if len(want) == 0 {
		return nil // no IPv4 subnet yet: nothing to wire
	}
	args := []string{"network", "create", "--driver", "bridge"}
	args = append(args, b.labels(TypeNetwork, spec.ID, spec.Project, spec.Name)...)
	if spec.MTU > 0 {
		args = append(args, "-o", "com.docker.network.driver.mtu="+strconv.Itoa(spec.MTU))
	}
	// No masquerading anywhere: docker's MASQUERADE rule for a bridge's subnet also catches
	// bridged traffic (br_netfilter), which would rewrite the source of DNATed packets. The
	// public network is the sandbox's Internet, not a way out to the host's uplink.
	args = append(args, "-o", "com.docker.network.bridge.enable_ip_masquerade=false")
	if !spec.External {
		// Not --internal: docker filters an internal bridge by source address, which would drop
		// the DNATed traffic of floating IPs and load balancers. Without an address on the
		// host side the host has no route into the network, and docker's isolation rules drop
		// routed traffic between bridges.
		args = append(args, "-o", "com.docker.network.bridge.inhibit_ipv4=true")
	}
	args = append(args, want...)
	if _, err := b.docker.Run(ctx, append(args, name)...); err != nil {
		if strings.Contains(err.Error(), "overlaps") {
			if held, ok := b.heldByDeletedNetwork(ctx, spec); ok {
				return fmt.Errorf("network %s cannot be wired yet: its subnet overlaps the docker network %s of a deleted network, which is being removed: %w",
					spec.ID, held, err)
			}
			return permanent("network %s cannot be wired: docker already has a network whose subnet overlaps %s (docker networks, unlike Neutron's, share one address space); choose another CIDR: %w",
				spec.ID, strings.Join(ipv4CIDRs(spec), ","), err)
		}
		return fmt.Errorf("creating docker network for network %s: %w", spec.ID, err)
	}
	b.log.Info("docker network created", "network", spec.ID, "docker", name)
	return nil
}

// DeleteNetwork removes the docker network of a Neutron network. The public network stays:
// Down removes it.
func (b *Backend) DeleteNetwork(ctx context.Context, id string) error {
	name := b.networkName(id)
	defer b.lock(name)()
	// The mark tells EnsureNetwork that an overlap with this network will go away.
	if err := b.markNetwork(id, markDeleting); err != nil {
		return err
	}
	if err := b.docker.Remove(ctx, "network", name); err != nil {
		if strings.Contains(err.Error(), "active endpoints") {
			return fmt.Errorf("docker network %s still has containers (they are being deleted): %w", name, err)
		}
		return fmt.Errorf("removing docker network %s: %w", name, err)
	}
	return os.RemoveAll(filepath.Join(b.cfg.DataDir, TypeNetwork, id))
}

// ipamArgs are the --subnet/--gateway/--ip-range arguments of a network's IPv4 subnets: the
// gateway is the subnet's (held by the router, not the host) or, without one, the top of the
// reserved block; docker picks addresses by itself only inside the reserved block.
func (b *Backend) ipamArgs(spec network.NetworkSpec) []string {
	var args []string
	for _, sn := range spec.Subnets {
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		args = append(args, "--subnet", p.String())
		block, ok := ReservedBlock(p)
		gw := sn.GatewayIP
		if gw == "" && ok {
			gw = topHost(block).String()
		}
		if gw != "" {
			args = append(args, "--gateway", gw)
		}
		if ok {
			args = append(args, "--ip-range", block.String())
		}
	}
	return args
}

func ipv4CIDRs(spec network.NetworkSpec) []string {
	var out []string
	for _, sn := range spec.Subnets {
		if p, err := netip.ParsePrefix(sn.CIDR); err == nil && p.Addr().Is4() {
			out = append(out, p.String())
		}
	}
	slices.Sort(out)
	return out
}

func subnetsOf(n dockercli.Network) []string {
	var out []string
	for _, c := range n.IPAM.Config {
		out = append(out, c.Subnet)
	}
	slices.Sort(out)
	return out
}

func sameSubnets(n dockercli.Network, spec network.NetworkSpec) bool {
	return slices.Equal(subnetsOf(n), ipv4CIDRs(spec))
}

// dockerNetworkFor returns the docker network of a Neutron network id, which must exist.
func (b *Backend) dockerNetworkFor(ctx context.Context, networkID string) (dockercli.Network, error) {
	n, err := b.docker.InspectNetwork(ctx, b.networkName(networkID))
	if err == nil {
		return n, nil
	}
	if !dockercli.IsNotFound(err) {
		return n, err
	}
	// An external network's docker network is the public one.
	if b.networkMarked(networkID, markExternal) {
		return b.docker.InspectNetwork(ctx, b.cfg.PublicNetwork)
	}
	return n, fmt.Errorf("network %s is not wired in docker yet (its subnet is being created)", networkID)
}

// Marks the backend keeps on a Neutron network: empty files in its directory, so they survive
// a restart; DeleteNetwork drops them with the directory.
const (
	markExternal = "external" // the network is external: its ports go on the public docker network
	markDeleting = "deleting" // the network is deleted and DeleteNetwork is removing its docker network
)

// markNetwork sets mark on Neutron network id.
func (b *Backend) markNetwork(id, mark string) error {
	d, err := b.dir(TypeNetwork, id)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, mark), nil, 0o644)
}

// networkMarked reports whether Neutron network id carries mark.
func (b *Backend) networkMarked(id, mark string) bool {
	_, err := os.Stat(filepath.Join(b.cfg.DataDir, TypeNetwork, id, mark))
	return err == nil
}

// heldByDeletedNetwork returns the name of a docker network of this fakecloud whose subnet
// overlaps spec's and whose Neutron network is deleted (DeleteNetwork marked it and is removing
// it), if there is one: that overlap is transient. The marks on disk name the candidates.
func (b *Backend) heldByDeletedNetwork(ctx context.Context, spec network.NetworkSpec) (string, bool) {
	entries, err := os.ReadDir(filepath.Join(b.cfg.DataDir, TypeNetwork))
	if err != nil {
		return "", false // no network directory: nothing is being deleted
	}
	want := ipv4CIDRs(spec)
	for _, e := range entries {
		if !b.networkMarked(e.Name(), markDeleting) {
			continue
		}
		name := b.networkName(e.Name())
		n, err := b.docker.InspectNetwork(ctx, name)
		if err != nil {
			continue // gone in between (or docker did not answer): not in the way now
		}
		if overlaps(subnetsOf(n), want) {
			return name, true
		}
	}
	return "", false
}

// overlaps reports whether a prefix of a overlaps one of b; unparsable prefixes never do.
func overlaps(a, b []string) bool {
	for _, x := range a {
		px, err := netip.ParsePrefix(x)
		if err != nil {
			continue
		}
		for _, y := range b {
			if py, err := netip.ParsePrefix(y); err == nil && px.Overlaps(py) {
				return true
			}
		}
	}
	return false
}
