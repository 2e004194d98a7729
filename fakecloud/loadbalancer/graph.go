package loadbalancer

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// This file is Octavia's "single call create": a pool with its members and monitor, and a
// load balancer with its listeners and pools, all created PENDING_CREATE in one request.

// poolGraph is a new pool with the members and monitor created with it.
type poolGraph struct {
	pool    Pool
	members []Member
	monitor *HealthMonitor
}

// buildPoolGraph validates a pool body (with its healthmonitor and members) and builds the
// objects; bind sets their load balancer and project.
func (s *Service) buildPoolGraph(b *poolBody) (poolGraph, error) {
	p := Pool{
		ID: uuid.NewString(), Protocol: b.Protocol.V, LBAlgorithm: b.LBAlgorithm.V, AdminStateUp: true,
		ProvisioningStatus: StatusPendingCreate, OperatingStatus: OpOffline, CreatedAt: now(),
	}
	b.apply(&p)
	if p.CRLContainerRef != "" && p.CATLSContainerRef == "" {
		return poolGraph{}, errValidation("A CA certificate reference is required to specify a revocation list.")
	}
	if err := checkPersistence(p.Protocol, p.SessionPersistence); err != nil {
		return poolGraph{}, err
	}
	g := poolGraph{pool: p}
	if b.HealthMonitor.has() {
		var mb monitorBody
		if err := json.Unmarshal(b.HealthMonitor.V, &mb); err != nil {
			return g, httpapi.BadRequest("Invalid input for healthmonitor: %v", err)
		}
		if err := mb.validate(true); err != nil {
			return g, err
		}
		hm, err := newMonitor(&mb, g.pool.ID)
		if err != nil {
			return g, err
		}
		if err := checkMonitorForPool(hm.Type, hm.Delay, p.Protocol); err != nil {
			return g, err
		}
		g.monitor = &hm
		g.pool.HealthMonitorID = hm.ID
	}
	if b.Members.has() {
		seen := map[string]bool{}
		for _, raw := range b.Members.V {
			var mb memberBody
			if err := json.Unmarshal(raw, &mb); err != nil {
				return g, httpapi.BadRequest("Invalid input for members: %v", err)
			}
			if err := mb.validate(true); err != nil {
				return g, err
			}
			if err := s.checkMemberSubnet(&mb); err != nil {
				return g, err
			}
			m := s.newMember(&mb, g.pool)
			k := net.ParseIP(m.Address).String() + "/" + strconv.Itoa(m.ProtocolPort)
			if seen[k] {
				return g, httpapi.Errorf(http.StatusConflict, "DuplicateMemberEntry", "Another member on this pool is already using ip %s on protocol_port %d", m.Address, m.ProtocolPort)
			}
			seen[k] = true
			g.members = append(g.members, m)
			g.pool.MemberIDs = append(g.pool.MemberIDs, m.ID)
		}
	}
	return g, nil
}

func (g *poolGraph) bind(lbID, project string) {
	g.pool.LoadBalancerID, g.pool.ProjectID = lbID, project
	for i := range g.members {
		g.members[i].LoadBalancerID, g.members[i].ProjectID = lbID, project
	}
	if g.monitor != nil {
		g.monitor.LoadBalancerID, g.monitor.ProjectID = lbID, project
	}
}

// quota checks the quotas of the members and monitor (the pool's own is the caller's).
func (s *Service) graphQuota(project string, pools []poolGraph) error {
	nm, nh := 0, 0
	for _, g := range pools {
		nm += len(g.members)
		if g.monitor != nil {
			nh++
		}
	}
	if nh > 0 {
		if err := s.checkQuota(project, "healthmonitor", nh); err != nil {
			return err
		}
	}
	if nm > 0 {
		return s.checkQuota(project, "member", nm)
	}
	return nil
}

// putPoolGraph stores a bound pool graph.
func (s *Service) putPoolGraph(tx *store.Tx, g poolGraph) error {
	if err := s.pools.Put(tx, g.pool.ID, g.pool); err != nil {
		return err
	}
	s.emit(tx, "pool", g.pool.ID, g.pool.ProjectID, "created", g.pool.Protocol+" "+g.pool.LBAlgorithm, "")
	for _, m := range g.members {
		if err := s.members.Put(tx, m.ID, m); err != nil {
			return err
		}
		s.emit(tx, "member", m.ID, m.ProjectID, "created", m.Address+":"+strconv.Itoa(m.ProtocolPort), "")
	}
	if g.monitor != nil {
		if err := s.monitors.Put(tx, g.monitor.ID, *g.monitor); err != nil {
			return err
		}
		s.emit(tx, "healthmonitor", g.monitor.ID, g.monitor.ProjectID, "created", g.monitor.Type, "")
	}
	return nil
}

// lbGraph is what a fully populated load balancer create adds to the load balancer.
type lbGraph struct {
	listeners []Listener
	pools     []poolGraph
}

// buildLBGraph is Octavia's _graph_create: pools are named, listeners' default pools are
// either full definitions or references by name.
func (s *Service) buildLBGraph(b *lbCreate, lbID string) (lbGraph, error) {
	var out lbGraph
	var poolBodies []poolBody
	for _, raw := range b.Pools.V {
		var pb poolBody
		if err := json.Unmarshal(raw, &pb); err != nil {
			return out, httpapi.BadRequest("Invalid input for pools: %v", err)
		}
		poolBodies = append(poolBodies, pb)
	}
	var listenerBodies []listenerBody
	var refs []string // the default pool name of each listener, "" for none
	for _, raw := range b.Listeners.V {
		var lb listenerBody
		if err := json.Unmarshal(raw, &lb); err != nil {
			return out, httpapi.BadRequest("Invalid input for listeners: %v", err)
		}
		if err := lb.validate(true); err != nil {
			return out, err
		}
		if lb.L7Policies.has() && len(lb.L7Policies.V) > 0 {
			return out, errValidation("l7policies are not supported by this deployment.")
		}
		ref := ""
		if lb.DefaultPool.has() {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(lb.DefaultPool.V, &fields); err != nil {
				return out, httpapi.BadRequest("Invalid input for default_pool: %v", err)
			}
			var named struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(lb.DefaultPool.V, &named)
			if named.Name == "" {
				return out, errValidation("Pools must be named when creating a fully populated loadbalancer.")
			}
			ref = named.Name
			if len(fields) > 1 {
				var pb poolBody
				if err := json.Unmarshal(lb.DefaultPool.V, &pb); err != nil {
					return out, httpapi.BadRequest("Invalid input for default_pool: %v", err)
				}
				poolBodies = append(poolBodies, pb)
			}
		}
		listenerBodies = append(listenerBodies, lb)
		refs = append(refs, ref)
	}
	byName := map[string]int{}
	for i := range poolBodies {
		pb := &poolBodies[i]
		if !pb.Name.has() || pb.Name.V == "" {
			return out, errValidation("Pools must be named when creating a fully populated loadbalancer.")
		}
		if _, dup := byName[pb.Name.V]; dup {
			return out, errValidation("Pool names must be unique when creating a fully populated loadbalancer.")
		}
		for _, attr := range []struct {
			name string
			set  bool
		}{{"protocol", pb.Protocol.has()}, {"lb_algorithm", pb.LBAlgorithm.has()}} {
			if !attr.set {
				return out, errValidation("Pool definition for '%s' missing required attribute: %s", pb.Name.V, attr.name)
			}
		}
		if err := pb.validate(true); err != nil {
			return out, err
		}
		g, err := s.buildPoolGraph(pb)
		if err != nil {
			return out, err
		}
		byName[pb.Name.V] = len(out.pools)
		out.pools = append(out.pools, g)
	}
	for i := range listenerBodies {
		l := newListener(&listenerBodies[i], lbID)
		if err := checkListenerTLS(&l); err != nil {
			return out, err
		}
		if ref := refs[i]; ref != "" {
			gi, ok := byName[ref]
			if !ok {
				return out, errValidation("Pool '%s' was referenced but no full definition was found.", ref)
			}
			g := &out.pools[gi]
			if err := checkProtocols(l.Protocol, g.pool.Protocol); err != nil {
				return out, err
			}
			l.DefaultPoolID = g.pool.ID
			g.pool.ListenerIDs = append(g.pool.ListenerIDs, l.ID)
		}
		for _, o := range out.listeners {
			if o.ProtocolPort == l.ProtocolPort && l4Protocol[o.Protocol] == l4Protocol[l.Protocol] {
				return out, httpapi.Errorf(http.StatusConflict, "DuplicateListenerEntry", "Another Listener on this Load Balancer is already using protocol %s and protocol_port %d", o.Protocol, l.ProtocolPort)
			}
		}
		out.listeners = append(out.listeners, l)
	}
	return out, nil
}

// put checks the graph's quotas and stores it, linking it to lb.
func (s *Service) putLBGraph(tx *store.Tx, lb *LoadBalancer, g lbGraph) error {
	if len(g.pools) > 0 {
		if err := s.checkQuota(lb.ProjectID, "pool", len(g.pools)); err != nil {
			return err
		}
	}
	if len(g.listeners) > 0 {
		if err := s.checkQuota(lb.ProjectID, "listener", len(g.listeners)); err != nil {
			return err
		}
	}
	if err := s.graphQuota(lb.ProjectID, g.pools); err != nil {
		return err
	}
	for i := range g.pools {
		g.pools[i].bind(lb.ID, lb.ProjectID)
		if err := s.putPoolGraph(tx, g.pools[i]); err != nil {
			return err
		}
		lb.PoolIDs = append(lb.PoolIDs, g.pools[i].pool.ID)
	}
	for _, l := range g.listeners {
		l.ProjectID = lb.ProjectID
		if err := s.listeners.Put(tx, l.ID, l); err != nil {
			return err
		}
		s.emit(tx, "listener", l.ID, l.ProjectID, "created", l.Protocol+":"+strconv.Itoa(l.ProtocolPort), "")
		lb.ListenerIDs = append(lb.ListenerIDs, l.ID)
	}
	return nil
}

// poolFullView is a pool with its members and monitor, as in a fully populated response.
type poolFullView struct {
	poolView
	Members       []memberView `json:"members"`
	HealthMonitor *monitorView `json:"healthmonitor,omitempty"`
}

// lbFullView is the response to a load balancer create: children in full.
type lbFullView struct {
	lbView
	Listeners []listenerView `json:"listeners"`
	Pools     []poolFullView `json:"pools"`
}

func viewLBFull(lb LoadBalancer, g lbGraph) lbFullView {
	v := lbFullView{lbView: viewLB(lb), Listeners: []listenerView{}, Pools: []poolFullView{}}
	for _, l := range g.listeners {
		l.ProjectID = lb.ProjectID
		v.Listeners = append(v.Listeners, viewListener(l))
	}
	for _, pg := range g.pools {
		pv := poolFullView{poolView: viewPool(pg.pool), Members: []memberView{}}
		for _, m := range pg.members {
			pv.Members = append(pv.Members, viewMember(m))
		}
		if pg.monitor != nil {
			mv := viewMonitor(*pg.monitor)
			pv.HealthMonitor = &mv
		}
		v.Pools = append(v.Pools, pv)
	}
	return v
}
