package docker

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/docker/haproxy"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// Inside a load balancer container.
const (
	lbConfigDir   = "/usr/local/etc/haproxy"
	lbStatsSocket = "/run/haproxy/admin.sock"
)

// EnsureLoadBalancer runs the load balancer as an HAProxy container: its VIP on the VIP's
// network (the public one for an external VIP), a leg on each of its members' networks,
// listeners, pools, members and monitors as its configuration. A change is applied with a
// seamless reload (SIGUSR2 to the master: established connections stay on the old worker).
func (b *Backend) EnsureLoadBalancer(ctx context.Context, spec loadbalancer.Spec) error {
	name := b.name(TypeLoadBalancer, spec.ID)
	defer b.lock(name)()
	cfg, err := haproxy.Render(spec, haproxy.Options{StatsSocket: lbStatsSocket, Log: true})
	if err != nil {
		return permanent("%w", err)
	}
	dir, err := b.dir(TypeLoadBalancer, spec.ID)
	if err != nil {
		return err
	}
	vipNet, err := b.dockerNetworkFor(ctx, spec.VIP.NetworkID)
	if err != nil {
		return err
	}
	legs := []leg{{network: vipNet.Name, ip: spec.VIP.Address}}
	memberNets, err := b.memberNetworks(ctx, spec)
	if err != nil {
		return err
	}
	for _, n := range memberNets {
		if n != vipNet.Name {
			legs = append(legs, leg{network: n})
		}
	}
	c, err := b.docker.InspectContainer(ctx, name)
	switch {
	case dockercli.IsNotFound(err):
		args := []string{"create", "--name", name, "--hostname", "amphora-" + spec.ID[:min(8, len(spec.ID))]}
		args = append(args, b.labels(TypeLoadBalancer, spec.ID, spec.Project, spec.Name)...)
		args = append(args, "--restart=on-failure:1", "--volume", dir+":"+lbConfigDir)
		args = append(args, legArgs(legs[0], "--network")...)
		if _, err := b.docker.Run(ctx, append(args, b.cfg.LoadBalancerImage)...); err != nil {
			return classify(fmt.Errorf("creating load balancer %s: %w", spec.ID, err))
		}
		c.NetworkSettings.Networks = map[string]dockercli.Endpoint{legs[0].network: {}}
	case err != nil:
		return err
	}
	for _, l := range legs[1:] {
		if _, ok := c.NetworkSettings.Networks[l.network]; !ok {
			if err := b.connect(ctx, name, l); err != nil {
				return err
			}
		}
	}
	if !c.State.Running { // new, or stopped: it reads the configuration as it starts
		if err := os.WriteFile(filepath.Join(dir, "haproxy.cfg"), cfg, 0o644); err != nil {
			return fmt.Errorf("writing haproxy.cfg of load balancer %s: %w", spec.ID, err)
		}
		if _, err := b.docker.Run(ctx, "start", name); err != nil {
			return classify(fmt.Errorf("starting load balancer %s: %w", spec.ID, err))
		}
		return nil
	}
	return b.reloadLoadBalancer(ctx, spec.ID, name, dir, cfg)
}

// reloadLoadBalancer checks the new configuration with HAProxy itself, swaps it in and asks
// the master process for a seamless reload. An unchanged configuration is left alone.
func (b *Backend) reloadLoadBalancer(ctx context.Context, id, name, dir string, cfg []byte) error {
	cur, _ := os.ReadFile(filepath.Join(dir, "haproxy.cfg"))
	if string(cur) == string(cfg) {
		return nil
	}
	next := filepath.Join(dir, "haproxy.cfg.next")
	if err := os.WriteFile(next, cfg, 0o644); err != nil {
		return fmt.Errorf("writing haproxy.cfg of load balancer %s: %w", id, err)
	}
	if _, err := b.docker.Run(ctx, "exec", name, "haproxy", "-c", "-q", "-f", lbConfigDir+"/haproxy.cfg.next"); err != nil {
		return permanent("HAProxy refuses the configuration of load balancer %s: %w", id, err)
	}
	if err := os.Rename(next, filepath.Join(dir, "haproxy.cfg")); err != nil {
		return fmt.Errorf("installing haproxy.cfg of load balancer %s: %w", id, err)
	}
	if _, err := b.docker.Run(ctx, "kill", "--signal", "USR2", name); err != nil {
		return fmt.Errorf("reloading load balancer %s: %w", id, err)
	}
	return nil
}

// DeleteLoadBalancer removes the load balancer's container and configuration.
func (b *Backend) DeleteLoadBalancer(ctx context.Context, id string) error {
	name := b.name(TypeLoadBalancer, id)
	defer b.lock(name)()
	if err := b.docker.Remove(ctx, "container", name); err != nil {
		return fmt.Errorf("removing load balancer %s: %w", id, err)
	}
	if err := b.removeSecurity(id); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(b.cfg.DataDir, TypeLoadBalancer, id))
}

// MemberHealth reads the members' state from HAProxy's own health checks.
func (b *Backend) MemberHealth(ctx context.Context, id string) (map[string]string, error) {
	name := b.name(TypeLoadBalancer, id)
	out, err := b.docker.Run(ctx, "exec", name, "sh", "-c", "echo 'show stat' | socat stdio "+lbStatsSocket)
	if err != nil {
		return nil, fmt.Errorf("reading the health of load balancer %s: %w", id, err)
	}
	return haproxy.ParseStats([]byte(out))
}

// memberNetworks are the docker networks (of this fakecloud) holding the members' addresses.
func (b *Backend) memberNetworks(ctx context.Context, spec loadbalancer.Spec) ([]string, error) {
	var addrs []netip.Addr
	for _, p := range spec.Pools {
		for _, m := range p.Members {
			if a, err := netip.ParseAddr(m.Address); err == nil && a.Is4() {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, nil
	}
	names, err := b.docker.Run(ctx, "network", "ls", "-q", "--filter", "label="+LabelInstance+"="+b.cfg.Instance, "--filter", "label="+LabelType+"="+TypeNetwork)
	if err != nil {
		return nil, fmt.Errorf("listing docker networks: %w", err)
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range strings.Fields(names) {
		n, err := b.docker.InspectNetwork(ctx, id)
		if err != nil {
			continue
		}
		for _, c := range n.IPAM.Config {
			p, err := netip.ParsePrefix(c.Subnet)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if p.Contains(a) && !seen[n.Name] {
					seen[n.Name] = true
					out = append(out, n.Name)
				}
			}
		}
	}
	return out, nil
}
