package loadbalancer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// taskHandler resolves a load balancer's pending state. It looks at the state rather than at
// the task kind, so it is idempotent: run again after a crash, it finds the work done.
type taskHandler struct{ s *Service }

// Run applies the load balancer's configuration (or deletes it) through the backend and then,
// in one update, settles every object of the tree.
func (h *taskHandler) Run(ctx context.Context, t tasks.Task) error {
	s := h.s
	lb, ok := s.lbs.Get(t.ResourceID)
	if !ok || !isPending(lb.ProvisioningStatus) {
		return nil
	}
	var err error
	if lb.ProvisioningStatus == StatusPendingDelete {
		if err = s.backend.DeleteLoadBalancer(ctx, lb.ID); err == nil {
			return s.finishDelete(t)
		}
	} else {
		tr := s.loadTree(lb)
		if err = s.backend.EnsureLoadBalancer(ctx, tr.spec()); err == nil {
			health, herr := s.backend.MemberHealth(ctx, lb.ID)
			if herr != nil {
				s.log.Warn("member health of load balancer unavailable", "id", lb.ID, "err", herr)
			}
			return s.finishApply(t, health)
		}
	}
	if services.IsPermanent(err) {
		return s.failTree(t, err.Error())
	}
	return fmt.Errorf("backend work for load balancer %s (%s): %w", lb.ID, lb.ProvisioningStatus, err)
}

// Fail puts the load balancer and its pending children into ERROR.
func (h *taskHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	return h.s.failTree(t, reason)
}

// tree is a load balancer with copies of all its children.
type tree struct {
	lb        LoadBalancer
	listeners map[string]*Listener
	pools     map[string]*Pool
	members   map[string]*Member
	monitors  map[string]*HealthMonitor
}

func (s *Service) loadTree(lb LoadBalancer) *tree {
	tr := &tree{lb: lb, listeners: map[string]*Listener{}, pools: map[string]*Pool{}, members: map[string]*Member{}, monitors: map[string]*HealthMonitor{}}
	for _, id := range lb.ListenerIDs {
		if l, ok := s.listeners.Get(id); ok {
			tr.listeners[id] = &l
		}
	}
	for _, id := range lb.PoolIDs {
		p, ok := s.pools.Get(id)
		if !ok {
			continue
		}
		tr.pools[id] = &p
		for _, mid := range p.MemberIDs {
			if m, ok := s.members.Get(mid); ok {
				tr.members[mid] = &m
			}
		}
		if p.HealthMonitorID != "" {
			if hm, ok := s.monitors.Get(p.HealthMonitorID); ok {
				tr.monitors[hm.ID] = &hm
			}
		}
	}
	return tr
}

// spec is the backend's view of the tree: everything not being deleted.
func (tr *tree) spec() Spec {
	lb := tr.lb
	sp := Spec{
		ID: lb.ID, Name: lb.Name, Project: lb.ProjectID, AdminStateUp: lb.AdminStateUp,
		VIP:       VIP{Address: lb.VipAddress, PortID: lb.VipPortID, NetworkID: lb.VipNetworkID, SubnetID: lb.VipSubnetID, External: lb.VipExternal},
		Listeners: []ListenerSpec{}, Pools: []PoolSpec{},
	}
	for _, id := range lb.ListenerIDs {
		l, ok := tr.listeners[id]
		if !ok || l.ProvisioningStatus == StatusPendingDelete {
			continue
		}
		ls := ListenerSpec{
			ID: l.ID, Protocol: l.Protocol, ProtocolPort: l.ProtocolPort, AdminStateUp: l.AdminStateUp,
			ConnectionLimit: l.ConnectionLimit, TimeoutClientData: l.TimeoutClientData,
			TimeoutMemberConnect: l.TimeoutMemberConnect, TimeoutMemberData: l.TimeoutMemberData,
			TimeoutTCPInspect: l.TimeoutTCPInspect, AllowedCIDRs: l.AllowedCIDRs, InsertHeaders: l.InsertHeaders,
		}
		if p, ok := tr.pools[l.DefaultPoolID]; ok && p.ProvisioningStatus != StatusPendingDelete {
			ls.DefaultPoolID = p.ID
		}
		sp.Listeners = append(sp.Listeners, ls)
	}
	for _, id := range lb.PoolIDs {
		p, ok := tr.pools[id]
		if !ok || p.ProvisioningStatus == StatusPendingDelete {
			continue
		}
		ps := PoolSpec{ID: p.ID, Protocol: p.Protocol, LBAlgorithm: p.LBAlgorithm, AdminStateUp: p.AdminStateUp, SessionPersistence: p.SessionPersistence, Members: []MemberSpec{}}
		for _, mid := range p.MemberIDs {
			m, ok := tr.members[mid]
			if !ok || m.ProvisioningStatus == StatusPendingDelete {
				continue
			}
			ms := MemberSpec{ID: m.ID, Address: m.Address, ProtocolPort: m.ProtocolPort, Weight: m.Weight, Backup: m.Backup, AdminStateUp: m.AdminStateUp, SubnetID: m.SubnetID, MonitorAddress: m.MonitorAddress}
			if m.MonitorPort != nil {
				ms.MonitorPort = *m.MonitorPort
			}
			ps.Members = append(ps.Members, ms)
		}
		if hm, ok := tr.monitors[p.HealthMonitorID]; ok && hm.ProvisioningStatus != StatusPendingDelete {
			ps.Monitor = &MonitorSpec{ID: hm.ID, Type: hm.Type, Delay: hm.Delay, Timeout: hm.Timeout, MaxRetries: hm.MaxRetries, MaxRetriesDown: hm.MaxRetriesDown, HTTPMethod: hm.HTTPMethod, URLPath: hm.URLPath, ExpectedCodes: hm.ExpectedCodes, AdminStateUp: hm.AdminStateUp}
		}
		sp.Pools = append(sp.Pools, ps)
	}
	return sp
}

// prune drops the objects in PENDING_DELETE from the tree and unlinks them; it returns what
// must be deleted from the store, by kind.
func (tr *tree) prune() (listeners, pools, members, monitors []string) {
	for id, l := range tr.listeners {
		if l.ProvisioningStatus != StatusPendingDelete {
			continue
		}
		listeners = append(listeners, id)
		if p, ok := tr.pools[l.DefaultPoolID]; ok {
			p.ListenerIDs = without(p.ListenerIDs, id)
		}
		delete(tr.listeners, id)
		tr.lb.ListenerIDs = without(tr.lb.ListenerIDs, id)
	}
	for id, p := range tr.pools {
		if p.ProvisioningStatus != StatusPendingDelete {
			continue
		}
		pools = append(pools, id)
		for _, mid := range p.MemberIDs {
			if tr.members[mid] != nil {
				tr.members[mid].ProvisioningStatus = StatusPendingDelete
			}
		}
		if hm := tr.monitors[p.HealthMonitorID]; hm != nil {
			hm.ProvisioningStatus = StatusPendingDelete
		}
		for _, l := range tr.listeners {
			if l.DefaultPoolID == id {
				l.DefaultPoolID = ""
			}
		}
		delete(tr.pools, id)
		tr.lb.PoolIDs = without(tr.lb.PoolIDs, id)
	}
	for id, m := range tr.members {
		if m.ProvisioningStatus != StatusPendingDelete {
			continue
		}
		members = append(members, id)
		if p, ok := tr.pools[m.PoolID]; ok {
			p.MemberIDs = without(p.MemberIDs, id)
		}
		delete(tr.members, id)
	}
	for id, hm := range tr.monitors {
		if hm.ProvisioningStatus != StatusPendingDelete {
			continue
		}
		monitors = append(monitors, id)
		if p, ok := tr.pools[hm.PoolID]; ok && p.HealthMonitorID == id {
			p.HealthMonitorID = ""
		}
		delete(tr.monitors, id)
	}
	return
}

// operate computes every operating status from admin states and the member health report.
func (tr *tree) operate(health map[string]string) {
	lbStatus := OpOnline
	if !tr.lb.AdminStateUp {
		lbStatus = OpOffline
	}
	for _, hm := range tr.monitors {
		hm.OperatingStatus = OpOnline
		if !hm.AdminStateUp {
			hm.OperatingStatus = OpOffline
		}
	}
	for _, p := range tr.pools {
		hm := tr.monitors[p.HealthMonitorID]
		monitored := hm != nil && hm.AdminStateUp
		enabled, failed := 0, 0
		for _, mid := range p.MemberIDs {
			m := tr.members[mid]
			if m == nil {
				continue
			}
			switch {
			case !m.AdminStateUp || !p.AdminStateUp || !tr.lb.AdminStateUp:
				m.OperatingStatus = OpOffline
				continue
			case !monitored:
				m.OperatingStatus = OpNoMonitor
			default:
				m.OperatingStatus = OpOnline
				if st, ok := health[mid]; ok && st != OpNoMonitor && st != "" {
					m.OperatingStatus = st
				}
			}
			enabled++
			if m.OperatingStatus == OpError || m.OperatingStatus == OpOffline {
				failed++
			}
		}
		switch {
		case !p.AdminStateUp || !tr.lb.AdminStateUp:
			p.OperatingStatus = OpOffline
		case enabled > 0 && failed == enabled:
			p.OperatingStatus = OpError
		case failed > 0:
			p.OperatingStatus = OpDegraded
		default:
			p.OperatingStatus = OpOnline
		}
		if lbStatus == OpOnline && (p.OperatingStatus == OpError || p.OperatingStatus == OpDegraded) {
			lbStatus = OpDegraded
		}
	}
	for _, l := range tr.listeners {
		l.OperatingStatus = OpOnline
		if !l.AdminStateUp || !tr.lb.AdminStateUp {
			l.OperatingStatus = OpOffline
		} else if p, ok := tr.pools[l.DefaultPoolID]; ok && p.OperatingStatus == OpError {
			l.OperatingStatus = OpDegraded
		}
	}
	tr.lb.OperatingStatus = lbStatus
}

// settle sets every remaining object's provisioning status to status.
func (tr *tree) settle(status string) {
	tr.lb.ProvisioningStatus = status
	for _, l := range tr.listeners {
		l.ProvisioningStatus = status
	}
	for _, p := range tr.pools {
		p.ProvisioningStatus = status
	}
	for _, m := range tr.members {
		m.ProvisioningStatus = status
	}
	for _, hm := range tr.monitors {
		hm.ProvisioningStatus = status
	}
}

// save writes the tree back, emitting a status event for every object whose statuses changed.
func (s *Service) save(tx *store.Tx, tr *tree) error {
	stamp := now()
	// ev records a status change of one object and returns the updated_at it should carry.
	ev := func(kind, id, prov, op, oldProv, oldOp string, updated *time.Time) *time.Time {
		if prov == oldProv && op == oldOp {
			return updated
		}
		s.emit(tx, kind, id, tr.lb.ProjectID, "status", prov+"/"+op, "")
		return &stamp
	}
	for _, l := range tr.listeners {
		old, _ := s.listeners.Get(l.ID)
		l.UpdatedAt = ev("listener", l.ID, l.ProvisioningStatus, l.OperatingStatus, old.ProvisioningStatus, old.OperatingStatus, l.UpdatedAt)
		if err := s.listeners.Put(tx, l.ID, *l); err != nil {
			return err
		}
	}
	for _, p := range tr.pools {
		old, _ := s.pools.Get(p.ID)
		p.UpdatedAt = ev("pool", p.ID, p.ProvisioningStatus, p.OperatingStatus, old.ProvisioningStatus, old.OperatingStatus, p.UpdatedAt)
		if err := s.pools.Put(tx, p.ID, *p); err != nil {
			return err
		}
	}
	for _, m := range tr.members {
		old, _ := s.members.Get(m.ID)
		m.UpdatedAt = ev("member", m.ID, m.ProvisioningStatus, m.OperatingStatus, old.ProvisioningStatus, old.OperatingStatus, m.UpdatedAt)
		if err := s.members.Put(tx, m.ID, *m); err != nil {
			return err
		}
	}
	for _, hm := range tr.monitors {
		old, _ := s.monitors.Get(hm.ID)
		hm.UpdatedAt = ev("healthmonitor", hm.ID, hm.ProvisioningStatus, hm.OperatingStatus, old.ProvisioningStatus, old.OperatingStatus, hm.UpdatedAt)
		if err := s.monitors.Put(tx, hm.ID, *hm); err != nil {
			return err
		}
	}
	old, _ := s.lbs.Get(tr.lb.ID)
	tr.lb.UpdatedAt = ev("loadbalancer", tr.lb.ID, tr.lb.ProvisioningStatus, tr.lb.OperatingStatus, old.ProvisioningStatus, old.OperatingStatus, tr.lb.UpdatedAt)
	return s.putLB(tx, tr.lb)
}

func (s *Service) deleteRows(tx *store.Tx, project string, listeners, pools, members, monitors []string) error {
	del := func(kind string, ids []string, rm func(*store.Tx, string) error) error {
		for _, id := range ids {
			if err := rm(tx, id); err != nil {
				return err
			}
			s.emit(tx, kind, id, project, "deleted", "", "")
		}
		return nil
	}
	return firstErr(
		del("listener", listeners, s.listeners.Delete),
		del("member", members, s.members.Delete),
		del("healthmonitor", monitors, s.monitors.Delete),
		del("pool", pools, s.pools.Delete),
	)
}

// finishApply settles the tree after the backend applied it: deleted children vanish,
// everything else goes ACTIVE with operating statuses from health.
func (s *Service) finishApply(t tasks.Task, health map[string]string) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		lb, ok := s.lbs.Get(t.ResourceID)
		if !ok || !isPending(lb.ProvisioningStatus) || lb.ProvisioningStatus == StatusPendingDelete {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		tr := s.loadTree(lb)
		dl, dp, dm, dh := tr.prune()
		if err := s.deleteRows(tx, lb.ProjectID, dl, dp, dm, dh); err != nil {
			return err
		}
		tr.settle(StatusActive)
		tr.lb.Fault = ""
		tr.operate(health)
		if err := s.save(tx, tr); err != nil {
			return err
		}
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

// finishDelete removes the load balancer, its children and its VIP port.
func (s *Service) finishDelete(t tasks.Task) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		lb, ok := s.lbs.Get(t.ResourceID)
		if !ok || lb.ProvisioningStatus != StatusPendingDelete {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		tr := s.loadTree(lb)
		if err := s.deleteRows(tx, lb.ProjectID, keys(tr.listeners), keys(tr.pools), keys(tr.members), keys(tr.monitors)); err != nil {
			return err
		}
		if err := s.ports.DetachPorts(tx, "lb-"+lb.ID); err != nil {
			return fmt.Errorf("releasing the VIP port of load balancer %s: %w", lb.ID, err)
		}
		if err := s.deleteLBRow(tx, lb.ID); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", lb.ID, lb.ProjectID, "deleted", "", "")
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// failTree puts the load balancer and every pending child into ERROR with reason.
func (s *Service) failTree(t tasks.Task, reason string) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		lb, ok := s.lbs.Get(t.ResourceID)
		if !ok || !isPending(lb.ProvisioningStatus) {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		tr := s.loadTree(lb)
		for _, l := range tr.listeners {
			if isPending(l.ProvisioningStatus) {
				l.ProvisioningStatus = StatusError
			}
		}
		for _, p := range tr.pools {
			if isPending(p.ProvisioningStatus) {
				p.ProvisioningStatus = StatusError
			}
		}
		for _, m := range tr.members {
			if isPending(m.ProvisioningStatus) {
				m.ProvisioningStatus = StatusError
			}
		}
		for _, hm := range tr.monitors {
			if isPending(hm.ProvisioningStatus) {
				hm.ProvisioningStatus = StatusError
			}
		}
		tr.lb.ProvisioningStatus = StatusError
		tr.lb.Fault = reason
		if err := s.save(tx, tr); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", lb.ID, lb.ProjectID, "error", reason, "error")
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

// Start polls the backend for member health every Config.HealthInterval until ctx ends, and
// updates the operating statuses of monitored load balancers that changed. Package cloud
// starts it next to the task engine.
func (s *Service) Start(ctx context.Context) {
	go func() {
		tick := time.NewTicker(s.cfg.HealthInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.RefreshHealth(ctx)
			}
		}
	}()
}

// RefreshHealth asks the backend for the member health of every ACTIVE load balancer that has
// a health monitor and records the operating statuses that changed.
func (s *Service) RefreshHealth(ctx context.Context) {
	monitored := map[string]bool{}
	s.monitors.List(func(_ string, h *HealthMonitor) bool {
		monitored[h.LoadBalancerID] = true
		return false
	})
	for id := range monitored {
		if ctx.Err() != nil {
			return
		}
		health, err := s.backend.MemberHealth(ctx, id)
		if err != nil {
			s.log.Warn("member health unavailable", "loadbalancer", id, "err", err)
			continue
		}
		err = s.env.DB.Update(func(tx *store.Tx) error {
			lb, ok := s.lbs.Get(id)
			if !ok || lb.ProvisioningStatus != StatusActive {
				return nil
			}
			tr := s.loadTree(lb)
			tr.operate(health)
			return s.saveChanged(tx, tr)
		})
		if err != nil {
			s.log.Error("recording member health", "loadbalancer", id, "err", err)
		}
	}
}

// saveChanged is save restricted to objects whose operating status changed.
func (s *Service) saveChanged(tx *store.Tx, tr *tree) error {
	changed := false
	for _, m := range tr.members {
		if old, _ := s.members.Get(m.ID); old.OperatingStatus != m.OperatingStatus {
			changed = true
		}
	}
	for _, p := range tr.pools {
		if old, _ := s.pools.Get(p.ID); old.OperatingStatus != p.OperatingStatus {
			changed = true
		}
	}
	if old, _ := s.lbs.Get(tr.lb.ID); old.OperatingStatus != tr.lb.OperatingStatus {
		changed = true
	}
	if !changed {
		return nil
	}
	return s.save(tx, tr)
}
