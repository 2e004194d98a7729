// Package networking makes and removes a cluster's share of Neutron: its private network and
// subnet, the router to the external network and the workers' security group. Every resource
// carries the cluster's tag and a predictable name, so the controller finds what it made after
// a restart (even one between a create and the status update) and deletes nothing else.
package networking

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Service acts on one project's Neutron.
type Service struct {
	Client *gophercloud.ServiceClient
}

// Owner identifies the cluster resources belong to.
type Owner struct {
	// Tag is put on every resource and used to find them again.
	Tag string
	// Name prefixes every resource's name.
	Name string
}

// ExternalNetwork returns id when it names an external network, or, with id empty, the only
// external network the project sees.
func (s Service) ExternalNetwork(ctx context.Context, id string) (string, error) {
	type extNet struct {
		networks.Network
		external.NetworkExternalExt
	}
	opts := external.ListOptsExt{ListOptsBuilder: networks.ListOpts{ID: id}, External: ptrTo(true)}
	pages, err := networks.List(s.Client, opts).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing external networks: %w", err)
	}
	var nets []extNet
	if err := networks.ExtractNetworksInto(pages, &nets); err != nil {
		return "", fmt.Errorf("reading external networks: %w", err)
	}
	switch {
	case len(nets) == 1:
		return nets[0].ID, nil
	case id != "":
		return "", fmt.Errorf("%w: external network %s not found (or not router:external)", ErrInvalidSpec, id)
	case len(nets) == 0:
		return "", fmt.Errorf("%w: the project sees no external network: ask the cloud admin for one, or set externalNetworkID", ErrInvalidSpec)
	default:
		return "", fmt.Errorf("%w: the project sees %d external networks: set externalNetworkID to pick one", ErrInvalidSpec, len(nets))
	}
}

// EnsureNetwork makes (or finds) the cluster's network and its IPv4 subnet.
func (s Service) EnsureNetwork(ctx context.Context, o Owner, cidr string, dns []string) (networkID, subnetID string, err error) {
	name := o.Name
	var net *networks.Network
	pages, err := networks.List(s.Client, networks.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err == nil {
		var found []networks.Network
		if found, err = networks.ExtractNetworks(pages); err == nil && len(found) > 0 {
			net = &found[0]
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("looking for network %s: %w", name, err)
	}
	if net == nil {
		if net, err = adopt(ctx, s, "networks", name, func(ctx context.Context) ([]networks.Network, error) {
			p, err := networks.List(s.Client, networks.ListOpts{Name: name}).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			return networks.ExtractNetworks(p)
		}, func(n networks.Network) (string, []string) { return n.ID, n.Tags }, o.Tag); err != nil {
			return "", "", err
		}
	}
	if net == nil {
		created, err := networks.Create(ctx, s.Client, networks.CreateOpts{Name: name, AdminStateUp: ptrTo(true), Description: "Cluster API cluster network"}).Extract()
		if err != nil {
			return "", "", fmt.Errorf("creating network %s: %w", name, err)
		}
		if err := s.tag(ctx, "networks", created.ID, o.Tag); err != nil {
			return "", "", err
		}
		net = created
	}

	var subnet *subnets.Subnet
	sp, err := subnets.List(s.Client, subnets.ListOpts{NetworkID: net.ID, IPVersion: 4}).AllPages(ctx)
	if err != nil {
		return "", "", fmt.Errorf("listing subnets of network %s: %w", net.ID, err)
	}
	existing, err := subnets.ExtractSubnets(sp)
	if err != nil {
		return "", "", fmt.Errorf("reading subnets of network %s: %w", net.ID, err)
	}
	if len(existing) > 0 {
		subnet = &existing[0]
	} else {
		subnet, err = subnets.Create(ctx, s.Client, subnets.CreateOpts{
			NetworkID: net.ID, Name: name, CIDR: cidr, IPVersion: gophercloud.IPv4, EnableDHCP: ptrTo(true),
			DNSNameservers: dns, Description: "Cluster API cluster subnet",
		}).Extract()
		if err != nil {
			if isStatus(err, http.StatusBadRequest) || isStatus(err, http.StatusConflict) {
				return "", "", fmt.Errorf("%w: creating subnet %s (%s): %v", ErrInvalidSpec, name, cidr, err)
			}
			return "", "", fmt.Errorf("creating subnet %s (%s): %w", name, cidr, err)
		}
		if err := s.tag(ctx, "subnets", subnet.ID, o.Tag); err != nil {
			return "", "", err
		}
	}
	return net.ID, subnet.ID, nil
}

// EnsureRouter makes (or finds) the cluster's router with its gateway on the external network
// and an interface on the subnet.
func (s Service) EnsureRouter(ctx context.Context, o Owner, externalNetworkID, subnetID string) (string, error) {
	name := o.Name
	pages, err := routers.List(s.Client, routers.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("looking for router %s: %w", name, err)
	}
	found, err := routers.ExtractRouters(pages)
	if err != nil {
		return "", fmt.Errorf("reading routers: %w", err)
	}
	var rt *routers.Router
	if len(found) > 0 {
		rt = &found[0]
	} else if rt, err = adopt(ctx, s, "routers", name, func(ctx context.Context) ([]routers.Router, error) {
		p, err := routers.List(s.Client, routers.ListOpts{Name: name}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return routers.ExtractRouters(p)
	}, func(r routers.Router) (string, []string) { return r.ID, r.Tags }, o.Tag); err != nil {
		return "", err
	}
	if rt == nil {
		rt, err = routers.Create(ctx, s.Client, routers.CreateOpts{
			Name: name, AdminStateUp: ptrTo(true), Description: "Cluster API cluster router",
			GatewayInfo: &routers.GatewayInfo{NetworkID: externalNetworkID},
		}).Extract()
		if err != nil {
			return "", fmt.Errorf("creating router %s: %w", name, err)
		}
		if err := s.tag(ctx, "routers", rt.ID, o.Tag); err != nil {
			return "", err
		}
	} else if rt.GatewayInfo.NetworkID != externalNetworkID {
		if _, err := routers.Update(ctx, s.Client, rt.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: externalNetworkID}}).Extract(); err != nil {
			return "", fmt.Errorf("setting the gateway of router %s: %w", rt.ID, err)
		}
	}

	// The interface: a port of the router on the subnet.
	pp, err := ports.List(s.Client, ports.ListOpts{DeviceID: rt.ID}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing the ports of router %s: %w", rt.ID, err)
	}
	rports, err := ports.ExtractPorts(pp)
	if err != nil {
		return "", fmt.Errorf("reading the ports of router %s: %w", rt.ID, err)
	}
	for _, p := range rports {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == subnetID {
				return rt.ID, nil
			}
		}
	}
	if _, err := routers.AddInterface(ctx, s.Client, rt.ID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract(); err != nil {
		return "", fmt.Errorf("adding subnet %s to router %s: %w", subnetID, rt.ID, err)
	}
	return rt.ID, nil
}

// workerRules are the ingress rules of the workers' security group: everything from the
// cluster's own subnet (node to node, VXLAN, kubelet) and from the group itself, NodePorts and
// ICMP from anywhere. Neutron adds the allow-all egress rules itself.
func workerRules(sgID, cidr string) []rules.CreateOpts {
	in := func(proto rules.RuleProtocol, min, max int, prefix, group string) rules.CreateOpts {
		return rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4, SecGroupID: sgID, Protocol: proto,
			PortRangeMin: min, PortRangeMax: max, RemoteIPPrefix: prefix, RemoteGroupID: group}
	}
	return []rules.CreateOpts{
		in("", 0, 0, cidr, ""),
		in("", 0, 0, "", sgID),
		in(rules.ProtocolTCP, 30000, 32767, "0.0.0.0/0", ""),
		in(rules.ProtocolUDP, 30000, 32767, "0.0.0.0/0", ""),
		in(rules.ProtocolICMP, 0, 0, "0.0.0.0/0", ""),
	}
}

// EnsureWorkerSecurityGroup makes (or finds) the workers' security group and its rules.
func (s Service) EnsureWorkerSecurityGroup(ctx context.Context, o Owner, cidr string) (string, error) {
	name := o.Name + "-worker"
	pages, err := groups.List(s.Client, groups.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("looking for security group %s: %w", name, err)
	}
	found, err := groups.ExtractGroups(pages)
	if err != nil {
		return "", fmt.Errorf("reading security groups: %w", err)
	}
	var sg *groups.SecGroup
	if len(found) > 0 {
		sg = &found[0]
	} else if sg, err = adopt(ctx, s, "security-groups", name, func(ctx context.Context) ([]groups.SecGroup, error) {
		p, err := groups.List(s.Client, groups.ListOpts{Name: name}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return groups.ExtractGroups(p)
	}, func(g groups.SecGroup) (string, []string) { return g.ID, g.Tags }, o.Tag); err != nil {
		return "", err
	}
	if sg == nil {
		if sg, err = groups.Create(ctx, s.Client, groups.CreateOpts{Name: name, Description: "Cluster API workers"}).Extract(); err != nil {
			return "", fmt.Errorf("creating security group %s: %w", name, err)
		}
		if err := s.tag(ctx, "security-groups", sg.ID, o.Tag); err != nil {
			return "", err
		}
	}
	for _, want := range workerRules(sg.ID, cidr) {
		if hasRule(sg.Rules, want) {
			continue
		}
		if _, err := rules.Create(ctx, s.Client, want).Extract(); err != nil && !isStatus(err, http.StatusConflict) {
			return "", fmt.Errorf("adding a rule to security group %s: %w", sg.ID, err)
		}
	}
	return sg.ID, nil
}

func hasRule(have []rules.SecGroupRule, want rules.CreateOpts) bool {
	for _, r := range have {
		if r.Direction == string(want.Direction) && r.EtherType == string(want.EtherType) && r.Protocol == string(want.Protocol) &&
			r.PortRangeMin == want.PortRangeMin && r.PortRangeMax == want.PortRangeMax &&
			r.RemoteIPPrefix == want.RemoteIPPrefix && r.RemoteGroupID == want.RemoteGroupID {
			return true
		}
	}
	return false
}

// tag puts the cluster's tag on a resource.
func (s Service) tag(ctx context.Context, kind, id, tag string) error {
	if _, err := attributestags.ReplaceAll(ctx, s.Client, kind, id, attributestags.ReplaceAllOpts{Tags: []string{tag}}).Extract(); err != nil {
		return fmt.Errorf("tagging %s %s: %w", kind, id, err)
	}
	return nil
}

// adopt finds an untagged resource of the given name (made by a reconcile that stopped before
// it could tag it) and tags it.
func adopt[T any](ctx context.Context, s Service, kind, name string, list func(context.Context) ([]T, error), idTags func(T) (string, []string), tag string) (*T, error) {
	items, err := list(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking for %s named %s: %w", kind, name, err)
	}
	for i := range items {
		id, tags := idTags(items[i])
		if len(tags) > 0 {
			continue // someone else's, or another cluster's
		}
		if err := s.tag(ctx, kind, id, tag); err != nil {
			return nil, err
		}
		return &items[i], nil
	}
	return nil, nil
}

// ErrInvalidSpec marks errors that a retry cannot heal: the spec names something the cloud
// does not have, or asks for something it refuses.
var ErrInvalidSpec = errors.New("invalid spec")

func isStatus(err error, code int) bool {
	var e gophercloud.ErrUnexpectedResponseCode
	return errors.As(err, &e) && e.Actual == code
}

// IsNotFound reports whether err is a 404 from the cloud.
func IsNotFound(err error) bool { return isStatus(err, http.StatusNotFound) }

func ptrTo[T any](v T) *T { return &v }
