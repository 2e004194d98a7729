//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// fakecloudTypeLabel is the docker label fakecloud's docker backend gives each container: the
// kind of resource behind it.
const fakecloudTypeLabel = "kaas.fakecloud/type"

// clusterContainerTypes are the fakecloud containers a deleted cluster must not leave (bare-metal
// hosts stay: they are the pool, blank while unused).
var clusterContainerTypes = []string{"server", "loadbalancer", "router"}

// cloudAdmin is fakecloud seen by its admin: every project's resources.
type cloudAdmin struct {
	compute, network, lbaas, ironic *gophercloud.ServiceClient
}

// newCloudAdmin authenticates as cloud (an entry of the clouds.yaml at path).
func newCloudAdmin(ctx context.Context, path, cloud string) (*cloudAdmin, error) {
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(cloud), clouds.WithLocations(path))
	if err != nil {
		return nil, fmt.Errorf("reading cloud %s from %s: %w", cloud, path, err)
	}
	provider, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("authenticating to %s as %s: %w", ao.IdentityEndpoint, cloud, err)
	}
	c := &cloudAdmin{}
	if c.compute, err = openstack.NewComputeV2(provider, eo); err != nil {
		return nil, fmt.Errorf("finding Nova: %w", err)
	}
	if c.network, err = openstack.NewNetworkV2(provider, eo); err != nil {
		return nil, fmt.Errorf("finding Neutron: %w", err)
	}
	if c.lbaas, err = openstack.NewLoadBalancerV2(provider, eo); err != nil {
		return nil, fmt.Errorf("finding Octavia: %w", err)
	}
	if c.ironic, err = openstack.NewBareMetalV1(provider, eo); err != nil {
		return nil, fmt.Errorf("finding Ironic: %w", err)
	}
	c.ironic.Microversion = "1.56"
	return c, nil
}

// cloudState is everything of fakecloud's a cluster can leave behind, as decoded lists.
type cloudState struct {
	Servers       []servers.Server             `json:"servers"`
	LoadBalancers []loadbalancers.LoadBalancer `json:"loadBalancers"`
	Networks      []networks.Network           `json:"networks"`
	Subnets       []subnets.Subnet             `json:"subnets"`
	Routers       []routers.Router             `json:"routers"`
	Ports         []ports.Port                 `json:"ports"`
	FloatingIPs   []floatingips.FloatingIP     `json:"floatingIPs"`
	Groups        []groups.SecGroup            `json:"securityGroups"`
	Nodes         []nodes.Node                 `json:"baremetalNodes"`
	// Containers maps "type/name" of fakecloud's docker containers of clusterContainerTypes.
	Containers []string `json:"containers"`
}

// state lists every project's resources and the docker containers behind them.
func (c *cloudAdmin) state(ctx context.Context) (*cloudState, error) {
	s := &cloudState{}
	var err error
	if s.Servers, err = allPages(ctx, "servers", servers.List(c.compute, servers.ListOpts{AllTenants: true}), servers.ExtractServers); err != nil {
		return nil, err
	}
	if s.LoadBalancers, err = allPages(ctx, "load balancers", loadbalancers.List(c.lbaas, loadbalancers.ListOpts{}), loadbalancers.ExtractLoadBalancers); err != nil {
		return nil, err
	}
	if s.Networks, err = allPages(ctx, "networks", networks.List(c.network, networks.ListOpts{}), networks.ExtractNetworks); err != nil {
		return nil, err
	}
	if s.Subnets, err = allPages(ctx, "subnets", subnets.List(c.network, subnets.ListOpts{}), subnets.ExtractSubnets); err != nil {
		return nil, err
	}
	if s.Routers, err = allPages(ctx, "routers", routers.List(c.network, routers.ListOpts{}), routers.ExtractRouters); err != nil {
		return nil, err
	}
	if s.Ports, err = allPages(ctx, "ports", ports.List(c.network, ports.ListOpts{}), ports.ExtractPorts); err != nil {
		return nil, err
	}
	if s.FloatingIPs, err = allPages(ctx, "floating IPs", floatingips.List(c.network, floatingips.ListOpts{}), floatingips.ExtractFloatingIPs); err != nil {
		return nil, err
	}
	if s.Groups, err = allPages(ctx, "security groups", groups.List(c.network, groups.ListOpts{}), groups.ExtractGroups); err != nil {
		return nil, err
	}
	if s.Nodes, err = allPages(ctx, "bare-metal nodes", nodes.ListDetail(c.ironic, nodes.ListOpts{}), nodes.ExtractNodes); err != nil {
		return nil, err
	}
	for _, t := range clusterContainerTypes {
		out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "--filter", "label="+fakecloudTypeLabel+"="+t,
			"--format", "{{.Names}}").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("docker ps for fakecloud's %s containers: %w: %s", t, err, out)
		}
		for _, name := range strings.Fields(string(out)) {
			s.Containers = append(s.Containers, t+"/"+name)
		}
	}
	return s, nil
}

// allPages lists every page of pager and decodes it with extract.
func allPages[T any](ctx context.Context, what string, pager pagination.Pager, extract func(pagination.Page) ([]T, error)) ([]T, error) {
	page, err := pager.AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	items, err := extract(page)
	if err != nil {
		return nil, fmt.Errorf("decoding the list of %s: %w", what, err)
	}
	return items, nil
}

// inventory names each resource a cluster may have made ("kind/id" to a description), the
// public network included; bare-metal nodes count only while deployed, security groups only
// when not a project's "default".
func (s *cloudState) inventory() map[string]string {
	inv := map[string]string{}
	add := func(kind, id, desc string) { inv[kind+"/"+id] = desc }
	for _, x := range s.Servers {
		add("server", x.ID, x.Name+" "+x.Status)
	}
	for _, x := range s.LoadBalancers {
		add("loadbalancer", x.ID, x.Name+" "+x.ProvisioningStatus)
	}
	for _, x := range s.Networks {
		add("network", x.ID, x.Name)
	}
	for _, x := range s.Subnets {
		add("subnet", x.ID, x.Name+" "+x.CIDR)
	}
	for _, x := range s.Routers {
		add("router", x.ID, x.Name)
	}
	for _, x := range s.Ports {
		add("port", x.ID, x.Name+" "+x.DeviceOwner)
	}
	for _, x := range s.FloatingIPs {
		add("floatingip", x.ID, x.FloatingIP)
	}
	for _, x := range s.Groups {
		if x.Name != "default" { // Neutron makes a project's default group on first use; it stays
			add("securitygroup", x.ID, x.Name)
		}
	}
	for _, x := range s.Nodes {
		if x.InstanceUUID != "" {
			add("baremetal-deployed", x.UUID+"="+x.InstanceUUID, x.Name+" "+x.ProvisionState)
		}
	}
	for _, x := range s.Containers {
		add("container", x, "docker")
	}
	return inv
}

// leftovers lists what now holds beyond baseline, sorted, one "kind/id: description" each.
func leftovers(baseline, now map[string]string) []string {
	var out []string
	for k, v := range now {
		if _, ok := baseline[k]; !ok {
			out = append(out, k+": "+v)
		}
	}
	sort.Strings(out)
	return out
}

// freeNodeCIDR picks a /24 in 10.6.0.0/16 that overlaps no subnet of any project: fakecloud's
// docker backend cannot wire two overlapping subnets.
func (s *cloudState) freeNodeCIDR() (string, error) {
	var used []*net.IPNet
	for _, sn := range s.Subnets {
		if _, n, err := net.ParseCIDR(sn.CIDR); err == nil {
			used = append(used, n)
		}
	}
	for i := 10; i < 255; i++ {
		_, cand, _ := net.ParseCIDR(fmt.Sprintf("10.6.%d.0/24", i))
		free := true
		for _, u := range used {
			if u.Contains(cand.IP) || cand.Contains(u.IP) {
				free = false
				break
			}
		}
		if free {
			return cand.String(), nil
		}
	}
	return "", fmt.Errorf("every /24 of 10.6.10.0-10.6.254.0 overlaps a subnet of fakecloud")
}

// serverIDs maps fakecloud's server IDs to their servers.
func (s *cloudState) serverIDs() map[string]servers.Server {
	m := map[string]servers.Server{}
	for _, x := range s.Servers {
		m[x.ID] = x
	}
	return m
}

// baremetalInstances is the set of server IDs deployed on Ironic nodes.
func (s *cloudState) baremetalInstances() map[string]bool {
	m := map[string]bool{}
	for _, n := range s.Nodes {
		if n.InstanceUUID != "" {
			m[n.InstanceUUID] = true
		}
	}
	return m
}

// dumpCloud writes fakecloud's state (the lists as JSON, docker ps of its containers and its
// log) into dir; it is best effort and reports what failed.
func (c *cloudAdmin) dumpCloud(ctx context.Context, dir, logFile string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	var errs []string
	if s, err := c.state(ctx); err != nil {
		errs = append(errs, err.Error())
	} else if b, err := json.MarshalIndent(s, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "state.json"), b, 0o644)
	}
	out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "--filter", "label=kaas.fakecloud/instance",
		"--format", `{{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Label "kaas.fakecloud/type"}}\t{{.Label "kaas.fakecloud/id"}}\t{{.Label "kaas.fakecloud/instance-uuid"}}`).CombinedOutput()
	if err != nil {
		errs = append(errs, fmt.Sprintf("docker ps: %v", err))
	}
	_ = os.WriteFile(filepath.Join(dir, "docker-ps.txt"), out, 0o644)
	if b, err := os.ReadFile(logFile); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "fakecloud.log"), b, 0o644)
	} else {
		errs = append(errs, fmt.Sprintf("reading fakecloud's log: %v", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("dumping fakecloud: %s", strings.Join(errs, "; "))
	}
	return nil
}
