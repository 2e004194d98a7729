package network

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// Task kinds: each reconciles the backend with the stored state of one resource. The API has
// already answered (Neutron is synchronous); the tasks make the change real and retry it
// until the backend accepts it, across restarts. Every run reads the current state, so a
// burst of changes to one resource converges whatever order the runs happen in.
const (
	taskNetworkSync  = "network.sync"
	taskRouterSync   = "router.sync"
	taskFIPSync      = "floatingip.sync"
	taskPortSync     = "port.sync"
	taskSecGroupSync = "security_group.sync"
)

type syncHandler struct {
	s    *Service
	kind string
	run  func(ctx context.Context, id string) error
}

// Run reconciles the backend with one resource.
func (h syncHandler) Run(ctx context.Context, t tasks.Task) error {
	err := h.run(ctx, t.ResourceID)
	if err != nil && services.IsPermanent(err) {
		_ = h.s.env.DB.Record(store.Event{Service: "network", Kind: strings.Split(h.kind, ".")[0], ID: t.ResourceID, Project: t.Project,
			Action: "backend-error", Detail: err.Error(), Severity: "error"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.kind, t.ResourceID, err)
	}
	return nil
}

// Fail records that the backend could not be brought in line.
func (h syncHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	return h.s.env.DB.Record(store.Event{Service: "network", Kind: strings.Split(h.kind, ".")[0], ID: t.ResourceID, Project: t.Project,
		Action: "backend-error", Detail: reason, Severity: "error"})
}

func (s *Service) registerTasks() {
	s.env.Tasks.Register(taskNetworkSync, syncHandler{s, taskNetworkSync, s.syncNetwork})
	s.env.Tasks.Register(taskRouterSync, syncHandler{s, taskRouterSync, s.syncRouter})
	s.env.Tasks.Register(taskFIPSync, syncHandler{s, taskFIPSync, s.syncFloatingIP})
	s.env.Tasks.Register(taskPortSync, syncHandler{s, taskPortSync, s.syncPort})
	s.env.Tasks.Register(taskSecGroupSync, syncHandler{s, taskSecGroupSync, s.syncSecurityGroup})
}

// reconcile enqueues a sync of one resource as part of tx. The memory backend makes
// nothing real, so with it no task is enqueued at all.
func (s *Service) reconcile(tx *store.Tx, kind, id, project string) error {
	if s.env.Tasks == nil {
		return nil
	}
	if _, noop := s.backend.(MemoryBackend); noop {
		return nil
	}
	if _, err := s.env.Tasks.Enqueue(tx, kind, id, project, 0, nil); err != nil {
		return fmt.Errorf("enqueueing %s of %s: %w", kind, id, err)
	}
	return nil
}

func (s *Service) syncNetwork(ctx context.Context, id string) error {
	n, ok := s.networks.Get(id)
	if !ok {
		return s.backend.DeleteNetwork(ctx, id)
	}
	spec := NetworkSpec{ID: n.ID, Name: n.Name, Project: n.Project, MTU: n.MTU, External: n.External}
	for _, sn := range s.subnets.List(func(_ string, v *Subnet) bool { return v.NetworkID == id }) {
		spec.Subnets = append(spec.Subnets, SubnetSpec{ID: sn.ID, CIDR: sn.CIDR, GatewayIP: sn.GatewayIP})
	}
	if err := s.backend.EnsureNetwork(ctx, spec); err != nil {
		return err
	}
	// As for routers: deleted while this run was making it, it goes again.
	if _, ok := s.networks.Get(id); !ok {
		return s.backend.DeleteNetwork(ctx, id)
	}
	return nil
}

func (s *Service) syncRouter(ctx context.Context, id string) error {
	rtr, ok := s.routers.Get(id)
	if !ok {
		return s.backend.DeleteRouter(ctx, id)
	}
	spec := RouterSpec{ID: rtr.ID, Project: rtr.Project, Routes: rtr.Routes}
	for _, p := range s.routerInterfaces(id) {
		for _, ip := range p.FixedIPs {
			sn, _ := s.subnets.Get(ip.SubnetID)
			spec.Interfaces = append(spec.Interfaces, RouterInterface{PortID: p.ID, NetworkID: p.NetworkID, SubnetID: ip.SubnetID,
				CIDR: sn.CIDR, IPAddress: ip.IPAddress, MAC: p.MACAddress})
		}
	}
	if g := rtr.Gateway; g != nil && len(g.ExternalFixedIPs) > 0 {
		sn, _ := s.subnets.Get(g.ExternalFixedIPs[0].SubnetID)
		spec.Gateway = &RouterGateway{NetworkID: g.NetworkID, SubnetID: sn.ID, CIDR: sn.CIDR,
			IPAddress: g.ExternalFixedIPs[0].IPAddress, EnableSNAT: g.EnableSNAT}
	}
	if err := s.backend.EnsureRouter(ctx, spec); err != nil {
		return err
	}
	// The router may have been deleted, and the backend told so, while this run was making it
	// from what it had read before: then it was just made again, so it goes again.
	if _, ok := s.routers.Get(id); !ok {
		return s.backend.DeleteRouter(ctx, id)
	}
	return nil
}

func (s *Service) syncFloatingIP(ctx context.Context, id string) error {
	f, ok := s.fips.Get(id)
	if !ok || f.PortID == "" {
		return s.backend.UnsetFloatingIP(ctx, id)
	}
	p, _ := s.ports.Get(f.PortID)
	return s.backend.SetFloatingIP(ctx, FloatingIPSpec{ID: f.ID, FloatingIP: f.FloatingIP, FixedIP: f.FixedIP, PortID: f.PortID,
		RouterID: f.RouterID, FloatingNetID: f.FloatingNetworkID, InternalNetID: p.NetworkID})
}

func (s *Service) syncPort(ctx context.Context, id string) error {
	p, ok := s.ports.Get(id)
	if !ok || p.DeviceID == "" {
		return nil
	}
	if err := s.backend.SetPortSecurity(ctx, s.portSecuritySpec(&p)); err != nil {
		return err
	}
	// Ports whose rules name one of p's groups as remote group now admit (or no longer
	// admit) p's addresses.
	for _, peer := range s.remoteGroupPeers(&p) {
		if err := s.backend.SetPortSecurity(ctx, s.portSecuritySpec(&peer)); err != nil {
			return err
		}
	}
	return nil
}

// portSecuritySpec is the filtering of port p with its rules' remote groups resolved.
func (s *Service) portSecuritySpec(p *Port) PortSecuritySpec {
	spec := PortSecuritySpec{PortID: p.ID, NetworkID: p.NetworkID, DeviceID: p.DeviceID, MAC: p.MACAddress, FixedIPs: p.FixedIPs,
		Enabled: p.PortSecurity, AllowedAddressPairs: p.AllowedAddressPairs}
	if !p.PortSecurity {
		return spec
	}
	groups := map[string]bool{}
	for _, g := range p.SecurityGroups {
		groups[g] = true
	}
	spec.Rules = s.sgRules.List(func(_ string, r *SecurityGroupRule) bool { return groups[r.SecurityGroupID] })
	for _, r := range spec.Rules {
		if r.RemoteGroupID == "" || spec.RemoteGroupIPs[r.RemoteGroupID] != nil {
			continue
		}
		if spec.RemoteGroupIPs == nil {
			spec.RemoteGroupIPs = map[string][]string{}
		}
		ips := []string{}
		for _, m := range s.ports.List(func(_ string, q *Port) bool {
			return q.DeviceID != "" && slices.Contains(q.SecurityGroups, r.RemoteGroupID)
		}) {
			for _, ip := range m.FixedIPs {
				ips = append(ips, ip.IPAddress)
			}
		}
		slices.Sort(ips)
		spec.RemoteGroupIPs[r.RemoteGroupID] = ips
	}
	return spec
}

// remoteGroupPeers are the other bound ports with a rule whose remote group is one of p's.
func (s *Service) remoteGroupPeers(p *Port) []Port {
	if len(p.SecurityGroups) == 0 {
		return nil
	}
	mine := map[string]bool{}
	for _, g := range p.SecurityGroups {
		mine[g] = true
	}
	admitting := map[string]bool{} // groups with a rule naming one of mine as remote group
	for _, r := range s.sgRules.List(func(_ string, r *SecurityGroupRule) bool { return mine[r.RemoteGroupID] }) {
		admitting[r.SecurityGroupID] = true
	}
	if len(admitting) == 0 {
		return nil
	}
	return s.ports.List(func(_ string, q *Port) bool {
		if q.ID == p.ID || !boundToDevice(q) || !q.PortSecurity {
			return false
		}
		for _, g := range q.SecurityGroups {
			if admitting[g] {
				return true
			}
		}
		return false
	})
}

func (s *Service) syncSecurityGroup(ctx context.Context, id string) error {
	ports := s.ports.List(func(_ string, p *Port) bool {
		if p.DeviceID == "" {
			return false
		}
		for _, g := range p.SecurityGroups {
			if g == id {
				return true
			}
		}
		return false
	})
	// The group's rules changed, not its membership: its ports are applied again, and no
	// peer (a port admitting this group's members) needs to be.
	for _, p := range ports {
		if err := s.backend.SetPortSecurity(ctx, s.portSecuritySpec(&p)); err != nil {
			return err
		}
	}
	return nil
}

// boundToDevice reports whether a port's security matters to the backend.
func boundToDevice(p *Port) bool {
	return p.DeviceID != "" && !strings.HasPrefix(p.DeviceOwner, "network:")
}
