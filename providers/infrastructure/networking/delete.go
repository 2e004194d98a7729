package networking

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// DeleteAll removes every resource carrying the owner's tag: routers (with their interfaces),
// leftover ports, networks (with their subnets) and security groups. It returns false, with no
// error, while something still uses them (Neutron answers 409: a server not yet gone); call it
// again later.
func (s Service) DeleteAll(ctx context.Context, o Owner) (bool, error) {
	done := true
	rp, err := routers.List(s.Client, routers.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the cluster's routers: %w", err)
	}
	rts, err := routers.ExtractRouters(rp)
	if err != nil {
		return false, fmt.Errorf("reading the cluster's routers: %w", err)
	}
	for _, rt := range rts {
		pp, err := ports.List(s.Client, ports.ListOpts{DeviceID: rt.ID, DeviceOwner: "network:router_interface"}).AllPages(ctx)
		if err != nil {
			return false, fmt.Errorf("listing the interfaces of router %s: %w", rt.ID, err)
		}
		ifaces, err := ports.ExtractPorts(pp)
		if err != nil {
			return false, fmt.Errorf("reading the interfaces of router %s: %w", rt.ID, err)
		}
		for _, p := range ifaces {
			if _, err := routers.RemoveInterface(ctx, s.Client, rt.ID, routers.RemoveInterfaceOpts{PortID: p.ID}).Extract(); err != nil && !IsNotFound(err) {
				return false, fmt.Errorf("removing interface %s from router %s: %w", p.ID, rt.ID, err)
			}
		}
		if err := routers.Delete(ctx, s.Client, rt.ID).ExtractErr(); err != nil && !IsNotFound(err) {
			if isStatus(err, http.StatusConflict) {
				done = false
				continue
			}
			return false, fmt.Errorf("deleting router %s: %w", rt.ID, err)
		}
	}

	pp, err := ports.List(s.Client, ports.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the cluster's ports: %w", err)
	}
	leftover, err := ports.ExtractPorts(pp)
	if err != nil {
		return false, fmt.Errorf("reading the cluster's ports: %w", err)
	}
	for _, p := range leftover {
		if p.DeviceID != "" {
			done = false // still bound to a server that is going away
			continue
		}
		if err := ports.Delete(ctx, s.Client, p.ID).ExtractErr(); err != nil && !IsNotFound(err) {
			return false, fmt.Errorf("deleting port %s: %w", p.ID, err)
		}
	}

	np, err := networks.List(s.Client, networks.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the cluster's networks: %w", err)
	}
	nets, err := networks.ExtractNetworks(np)
	if err != nil {
		return false, fmt.Errorf("reading the cluster's networks: %w", err)
	}
	for _, n := range nets {
		if err := networks.Delete(ctx, s.Client, n.ID).ExtractErr(); err != nil && !IsNotFound(err) {
			if isStatus(err, http.StatusConflict) {
				done = false
				continue
			}
			return false, fmt.Errorf("deleting network %s: %w", n.ID, err)
		}
	}

	gp, err := groups.List(s.Client, groups.ListOpts{Tags: o.Tag}).AllPages(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the cluster's security groups: %w", err)
	}
	sgs, err := groups.ExtractGroups(gp)
	if err != nil {
		return false, fmt.Errorf("reading the cluster's security groups: %w", err)
	}
	for _, g := range sgs {
		if err := groups.Delete(ctx, s.Client, g.ID).ExtractErr(); err != nil && !IsNotFound(err) {
			if isStatus(err, http.StatusConflict) {
				done = false
				continue
			}
			return false, fmt.Errorf("deleting security group %s: %w", g.ID, err)
		}
	}
	return done, nil
}
