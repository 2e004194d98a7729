package network

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type gatewayFields struct {
	NetworkID        string        `json:"network_id"`
	EnableSNAT       *bool         `json:"enable_snat"`
	ExternalFixedIPs *[]fixedIPReq `json:"external_fixed_ips"`
}

type routerFields struct {
	Name         *string         `json:"name"`
	Description  *string         `json:"description"`
	AdminStateUp *bool           `json:"admin_state_up"`
	Gateway      json.RawMessage `json:"external_gateway_info"`
	Routes       *[]Route        `json:"routes"`
	Distributed  *bool           `json:"distributed"`
	HA           *bool           `json:"ha"`
	ProjectID    string          `json:"project_id"`
	TenantID     string          `json:"tenant_id"`
	Tags         []string        `json:"tags"`
}

type routerBody struct {
	Router *routerFields `json:"router"`
}

type interfaceBody struct {
	SubnetID string `json:"subnet_id"`
	PortID   string `json:"port_id"`
}

func (s *Service) routerView(rt Router) map[string]any {
	var gw any
	if rt.Gateway != nil {
		gw = map[string]any{"network_id": rt.Gateway.NetworkID, "enable_snat": rt.Gateway.EnableSNAT,
			"external_fixed_ips": nonNil(rt.Gateway.ExternalFixedIPs)}
	}
	return map[string]any{
		"id": rt.ID, "name": rt.Name, "description": rt.Description, "project_id": rt.Project, "tenant_id": rt.Project,
		"admin_state_up": rt.AdminStateUp, "status": rt.Status, "external_gateway_info": gw,
		"routes": nonNil(rt.Routes), "distributed": rt.Distributed, "ha": rt.HA,
		"availability_zone_hints": []string{}, "availability_zones": []string{"nova"}, "flavor_id": nil,
		"tags": nonNil(rt.Tags), "revision_number": rt.Revision, "created_at": ts(rt.Created), "updated_at": ts(rt.Updated),
	}
}

func (s *Service) visibleRouter(p *httpapi.Principal, id string) (Router, error) {
	rt, ok := s.routers.Get(id)
	if !ok || !p.Sees(rt.Project) {
		return Router{}, httpapi.NotFound("Router", id)
	}
	return rt, nil
}

// routerInterfaces returns the interface ports of a router (through the device_id index).
func (s *Service) routerInterfaces(id string) []Port {
	var out []Port
	for _, pid := range s.ipam.portsOf("device_id", []string{id}) {
		if p, ok := s.ports.Get(pid); ok && strings.HasPrefix(p.DeviceOwner, OwnerRouterInterface) {
			out = append(out, p)
		}
	}
	return out
}

var routerFilters = fieldsOfT[Router]{
	"id": func(v *Router) string { return v.ID }, "name": func(v *Router) string { return v.Name },
	"description": func(v *Router) string { return v.Description },
	"project_id":  func(v *Router) string { return v.Project }, "tenant_id": func(v *Router) string { return v.Project },
	"status": func(v *Router) string { return v.Status }, "admin_state_up": func(v *Router) string { return fmtBool(v.AdminStateUp) },
	"distributed": func(v *Router) string { return fmtBool(v.Distributed) }, "ha": func(v *Router) string { return fmtBool(v.HA) },
}

func (s *Service) listRouters(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	sees := visible(p)
	m := newMatcher(r, routerFilters, func(v *Router) []string { return v.Tags })
	rts := s.routers.List(func(_ string, v *Router) bool { return sees(v.Project) && m.match(v) })
	views := make([]map[string]any, len(rts))
	for i, rt := range rts {
		views[i] = s.routerView(rt)
	}
	return writeList(w, r, "routers", views)
}

func (s *Service) getRouter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Router")
	if err != nil {
		return err
	}
	rt, err := s.visibleRouter(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "router", s.routerView(rt))
}

// parseGateway reads external_gateway_info: nil for absent, a zero gatewayFields for a
// clear ({} or null).
func parseGateway(raw json.RawMessage) (*gatewayFields, bool, error) {
	if len(raw) == 0 {
		return nil, false, nil
	}
	var g *gatewayFields
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, true, httpapi.BadRequest("Invalid input for external_gateway_info: %v", err)
	}
	if g == nil {
		g = &gatewayFields{}
	}
	if g.NetworkID != "" {
		if err := httpapi.RequireUUID("external_gateway_info network_id", g.NetworkID); err != nil {
			return nil, true, err
		}
	} else if g.EnableSNAT != nil || g.ExternalFixedIPs != nil {
		return nil, true, httpapi.BadRequest("Invalid input for external_gateway_info. Reason: network_id is required.")
	}
	return g, true, nil
}

func (s *Service) createRouter(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "router", "routers", false, s.stageRouter, nil)
}

func (s *Service) stageRouter(p *httpapi.Principal, b *routerFields) (staged, error) {
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	if (b.Distributed != nil && *b.Distributed || b.HA != nil && *b.HA) && !p.IsAdmin() {
		return staged{}, httpapi.Forbidden("Setting distributed or ha is disallowed by policy")
	}
	if b.Routes != nil && len(*b.Routes) > 0 {
		return staged{}, httpapi.BadRequest("Invalid routes: routes can only be set on an existing router with interfaces.")
	}
	gw, _, err := parseGateway(b.Gateway)
	if err != nil {
		return staged{}, err
	}
	if err := gatewayPolicy(p, gw, "create_router"); err != nil {
		return staged{}, err
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
	}
	t := now()
	rt := Router{ID: newID(), Project: project, AdminStateUp: true, Status: "ACTIVE", Routes: []Route{}, Tags: dedupTags(b.Tags),
		Revision: 1, Created: t, Updated: t}
	applyRouterScalars(&rt, b)
	put := func(tx *store.Tx) error {
		if err := s.checkQuota(project, "router", 1); err != nil {
			return err
		}
		if gw != nil && gw.NetworkID != "" {
			if err := s.setGateway(tx, p, &rt, gw); err != nil {
				return err
			}
		}
		if err := s.routers.Put(tx, rt.ID, rt); err != nil {
			return err
		}
		s.emit(tx, "router", rt.ID, project, "created", rt.Name)
		return s.reconcile(tx, taskRouterSync, rt.ID, project)
	}
	return staged{put: put, view: func() map[string]any { return s.routerView(rt) }}, nil
}

func applyRouterScalars(rt *Router, b *routerFields) {
	if b.Name != nil {
		rt.Name = *b.Name
	}
	if b.Description != nil {
		rt.Description = *b.Description
	}
	if b.AdminStateUp != nil {
		rt.AdminStateUp = *b.AdminStateUp
	}
	if b.Distributed != nil {
		rt.Distributed = *b.Distributed
	}
	if b.HA != nil {
		rt.HA = *b.HA
	}
}

// gatewayPolicy applies Neutron's default policy to external_gateway_info: choosing the
// gateway's addresses (external_fixed_ips) or its SNAT is for admins only; a member may
// only name the network.
func gatewayPolicy(p *httpapi.Principal, gw *gatewayFields, action string) error {
	if gw == nil || p.IsAdmin() {
		return nil
	}
	for _, attr := range []struct {
		name  string
		given bool
	}{{"external_fixed_ips", gw.ExternalFixedIPs != nil}, {"enable_snat", gw.EnableSNAT != nil}} {
		if attr.given {
			return httpapi.Forbidden("(rule:%s and rule:%s:external_gateway_info and rule:%s:external_gateway_info:%s) is disallowed by policy",
				action, action, action, attr.name)
		}
	}
	return nil
}

// gatewayIPsChanged reports whether the requested external_fixed_ips differ from the gateway
// port's addresses, compared as Neutron does: the set of subnets named, then the set of
// addresses named.
func gatewayIPsChanged(cur []FixedIP, req []fixedIPReq) bool {
	curSubnets, curIPs := map[string]bool{}, map[string]bool{}
	for _, ip := range cur {
		curSubnets[ip.SubnetID], curIPs[ip.IPAddress] = true, true
	}
	reqSubnets, reqIPs := map[string]bool{}, map[string]bool{}
	for _, r := range req {
		if r.SubnetID != "" {
			reqSubnets[r.SubnetID] = true
		}
		if r.IPAddress != "" {
			reqIPs[r.IPAddress] = true
		}
	}
	same := func(a, b map[string]bool) bool {
		if len(a) != len(b) {
			return false
		}
		for k := range a {
			if !b[k] {
				return false
			}
		}
		return true
	}
	return !same(curSubnets, reqSubnets) || !same(curIPs, reqIPs)
}

// setGateway (re)attaches rt to the external network of gw, creating its gateway port with
// an address from the external subnet (or the addresses external_fixed_ips asks for), as part
// of tx. On the network it already has a gateway on, new external_fixed_ips change the
// gateway port's addresses in place, as Neutron does, so its floating IPs keep working.
//
// An address that is not on the external network or its subnet is a 400; one another port
// holds is a 409 IpAddressAlreadyAllocated, which is what current Neutron answers (its IPAM
// raises that for the gateway port as for any port; some older releases answered 400).
func (s *Service) setGateway(tx *store.Tx, p *httpapi.Principal, rt *Router, gw *gatewayFields) error {
	n, ok := s.networks.Get(gw.NetworkID)
	if !ok || !canSeeNetwork(p, &n) {
		return httpapi.NotFound("Network", gw.NetworkID)
	}
	if !n.External {
		return httpapi.BadRequest("Bad router request: Network %s is not an external network.", n.ID)
	}
	snat := true
	if gw.EnableSNAT != nil {
		snat = *gw.EnableSNAT
	}
	if rt.Gateway != nil && rt.Gateway.NetworkID == n.ID {
		rt.Gateway.EnableSNAT = snat
		if gw.ExternalFixedIPs == nil || len(*gw.ExternalFixedIPs) == 0 || !gatewayIPsChanged(rt.Gateway.ExternalFixedIPs, *gw.ExternalFixedIPs) {
			return nil
		}
		port, ok := s.ports.Get(rt.GatewayPortID)
		if !ok {
			return httpapi.NotFound("Port", rt.GatewayPortID)
		}
		port, err := s.changePort(tx, port, &portFields{FixedIPs: gw.ExternalFixedIPs}, true)
		if err != nil {
			return err
		}
		if len(port.FixedIPs) == 0 {
			return httpapi.BadRequest("Bad router request: the gateway of router %s needs at least one address on network %s.", rt.ID, n.ID)
		}
		rt.Gateway.ExternalFixedIPs = port.FixedIPs
		return nil
	}
	if gw.ExternalFixedIPs != nil && len(*gw.ExternalFixedIPs) == 0 {
		gw.ExternalFixedIPs = nil // [] asks for nothing in particular, as absent does
	}
	if err := s.clearGateway(tx, rt); err != nil {
		return err
	}
	pf := &portFields{FixedIPs: gw.ExternalFixedIPs}
	owner, dev := OwnerRouterGateway, rt.ID
	pf.DeviceOwner, pf.DeviceID = &owner, &dev
	port, err := s.newPortInternal(tx, "", n, pf)
	if err != nil {
		return err
	}
	if len(port.FixedIPs) == 0 {
		return httpapi.BadRequest("Bad router request: external network %s has no subnet to take a gateway address from.", n.ID)
	}
	rt.GatewayPortID = port.ID
	rt.Gateway = &GatewayInfo{NetworkID: n.ID, EnableSNAT: snat, ExternalFixedIPs: port.FixedIPs}
	return nil
}

// clearGateway removes rt's gateway port, as part of tx; floating IPs using it forbid that.
func (s *Service) clearGateway(tx *store.Tx, rt *Router) error {
	if rt.Gateway == nil {
		return nil
	}
	inUse := s.fips.Count(func(_ string, f *FloatingIP) bool { return f.RouterID == rt.ID && f.PortID != "" })
	if inUse > 0 {
		return httpapi.Errorf(http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp",
			"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", rt.ID, rt.Gateway.NetworkID)
	}
	if port, ok := s.ports.Get(rt.GatewayPortID); ok {
		if err := s.removePort(tx, port); err != nil {
			return err
		}
	}
	rt.Gateway, rt.GatewayPortID = nil, ""
	return nil
}

func (s *Service) updateRouter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Router")
	if err != nil {
		return err
	}
	var body routerBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Router == nil {
		return httpapi.BadRequest("Resource body required: 'router'.")
	}
	b := body.Router
	p := caller(r)
	if b.ProjectID != "" || b.TenantID != "" {
		return httpapi.BadRequest("Cannot update read-only attribute project_id")
	}
	if (b.Distributed != nil || b.HA != nil) && !p.IsAdmin() {
		return httpapi.Forbidden("Updating distributed or ha is disallowed by policy")
	}
	gw, gwGiven, err := parseGateway(b.Gateway)
	if err != nil {
		return err
	}
	if err := gatewayPolicy(p, gw, "update_router"); err != nil {
		return err
	}
	var rt Router
	err = s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		rt, err = s.visibleRouter(p, id)
		if err != nil {
			return err
		}
		applyRouterScalars(&rt, b)
		if gwGiven {
			if gw.NetworkID == "" {
				err = s.clearGateway(tx, &rt)
			} else {
				err = s.setGateway(tx, p, &rt, gw)
			}
			if err != nil {
				return err
			}
		}
		if b.Routes != nil {
			if err := s.checkRoutes(&rt, *b.Routes); err != nil {
				return err
			}
			rt.Routes = append([]Route{}, *b.Routes...)
		}
		if b.Tags != nil {
			if err := checkTags(b.Tags); err != nil {
				return err
			}
			rt.Tags = dedupTags(b.Tags)
		}
		rt.Revision++
		rt.Updated = now()
		if err := s.routers.Put(tx, id, rt); err != nil {
			return err
		}
		s.emit(tx, "router", id, rt.Project, "updated", rt.Name)
		return s.reconcile(tx, taskRouterSync, id, rt.Project)
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "router", s.routerView(rt))
}

// checkRoutes validates static routes: the nexthop must be on one of the router's subnets.
func (s *Service) checkRoutes(rt *Router, routes []Route) error {
	var cidrs []netip.Prefix
	for _, port := range s.routerInterfaces(rt.ID) {
		for _, ip := range port.FixedIPs {
			if sn, ok := s.subnets.Get(ip.SubnetID); ok {
				if pfx, err := netip.ParsePrefix(sn.CIDR); err == nil {
					cidrs = append(cidrs, pfx)
				}
			}
		}
	}
	for _, route := range routes {
		if _, err := netip.ParsePrefix(route.Destination); err != nil {
			return httpapi.BadRequest("Invalid input for routes. Reason: '%s' is not a valid IP subnet.", route.Destination)
		}
		hop, err := netip.ParseAddr(route.NextHop)
		if err != nil {
			return httpapi.BadRequest("Invalid input for routes. Reason: '%s' is not a valid IP address.", route.NextHop)
		}
		ok := false
		for _, c := range cidrs {
			if c.Contains(hop) {
				ok = true
			}
		}
		if !ok {
			return httpapi.BadRequest("Invalid format for routes: %s-%s, the nexthop is not connected with router.", route.Destination, route.NextHop)
		}
	}
	return nil
}

func (s *Service) deleteRouter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Router")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		rt, err := s.visibleRouter(p, id)
		if err != nil {
			return err
		}
		if len(s.routerInterfaces(id)) > 0 {
			return httpapi.Errorf(http.StatusConflict, "RouterInUse", "Router %s still has ports", id)
		}
		if err := s.clearGateway(tx, &rt); err != nil {
			return err
		}
		if err := s.routers.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "router", id, rt.Project, "deleted", rt.Name)
		return s.reconcile(tx, taskRouterSync, id, rt.Project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func decodeInterface(r *http.Request) (interfaceBody, error) {
	var b interfaceBody
	if err := httpapi.Decode(r, &b); err != nil {
		return b, err
	}
	switch {
	case b.SubnetID == "" && b.PortID == "":
		return b, httpapi.BadRequest("Bad router request: Either subnet_id or port_id must be specified.")
	case b.SubnetID != "" && b.PortID != "":
		return b, httpapi.BadRequest("Bad router request: Cannot specify both subnet-id and port-id.")
	case b.SubnetID != "":
		return b, httpapi.RequireUUID("subnet_id", b.SubnetID)
	default:
		return b, httpapi.RequireUUID("port_id", b.PortID)
	}
}

func interfaceInfo(rt Router, port Port) map[string]any {
	sids := []string{}
	for _, ip := range port.FixedIPs {
		sids = append(sids, ip.SubnetID)
	}
	sid := ""
	if len(sids) > 0 {
		sid = sids[0]
	}
	return map[string]any{"id": rt.ID, "tenant_id": rt.Project, "project_id": rt.Project, "port_id": port.ID,
		"network_id": port.NetworkID, "subnet_id": sid, "subnet_ids": sids}
}

func (s *Service) addRouterInterface(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Router")
	if err != nil {
		return err
	}
	b, err := decodeInterface(r)
	if err != nil {
		return err
	}
	p := caller(r)
	var rt Router
	var port Port
	err = s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		rt, err = s.visibleRouter(p, id)
		if err != nil {
			return err
		}
		attached := map[string]bool{}
		for _, ifp := range s.routerInterfaces(id) {
			for _, ip := range ifp.FixedIPs {
				attached[ip.SubnetID] = true
			}
		}
		if b.SubnetID != "" {
			sn, err := s.visibleSubnet(p, b.SubnetID)
			if err != nil {
				return err
			}
			if attached[sn.ID] {
				return httpapi.BadRequest("Bad router request: Router already has a port on subnet %s.", sn.ID)
			}
			if sn.GatewayIP == "" {
				return httpapi.BadRequest("Bad router request: Subnet %s does not have a gateway IP.", sn.ID)
			}
			n, _ := s.networks.Get(sn.NetworkID)
			if n.External {
				return httpapi.BadRequest("Bad router request: Router interface for subnet %s on external network %s is not allowed.", sn.ID, n.ID)
			}
			owner, dev := OwnerRouterInterface, rt.ID
			port, err = s.newPortInternal(tx, rt.Project, n, &portFields{DeviceOwner: &owner, DeviceID: &dev,
				FixedIPs: &[]fixedIPReq{{SubnetID: sn.ID, IPAddress: sn.GatewayIP}}})
			if err != nil {
				return err
			}
		} else {
			cur, err := s.visiblePort(p, b.PortID)
			if err != nil {
				return err
			}
			if cur.DeviceID != "" || cur.DeviceOwner != "" {
				return httpapi.Errorf(http.StatusConflict, "PortInUse",
					"Unable to complete operation on port %s for network %s. Port already has an attached device %s.", cur.ID, cur.NetworkID, cur.DeviceID)
			}
			if len(cur.FixedIPs) == 0 {
				return httpapi.BadRequest("Bad router request: Router port must have at least one fixed IP.")
			}
			for _, ip := range cur.FixedIPs {
				if attached[ip.SubnetID] {
					return httpapi.BadRequest("Bad router request: Router already has a port on subnet %s.", ip.SubnetID)
				}
			}
			owner, dev := OwnerRouterInterface, rt.ID
			port, err = s.changePort(tx, cur, &portFields{DeviceOwner: &owner, DeviceID: &dev, SecurityGroups: &[]string{}}, true)
			if err != nil {
				return err
			}
		}
		s.emit(tx, "router", rt.ID, rt.Project, "interface-added", port.ID)
		return s.reconcile(tx, taskRouterSync, rt.ID, rt.Project)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, interfaceInfo(rt, port))
	return nil
}

func (s *Service) removeRouterInterface(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Router")
	if err != nil {
		return err
	}
	b, err := decodeInterface(r)
	if err != nil {
		return err
	}
	p := caller(r)
	var rt Router
	var port Port
	err = s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		rt, err = s.visibleRouter(p, id)
		if err != nil {
			return err
		}
		found := false
		for _, ifp := range s.routerInterfaces(id) {
			if b.PortID != "" && ifp.ID == b.PortID {
				port, found = ifp, true
			}
			for _, ip := range ifp.FixedIPs {
				if b.SubnetID != "" && ip.SubnetID == b.SubnetID {
					port, found = ifp, true
				}
			}
		}
		if !found {
			if b.PortID != "" {
				return httpapi.Errorf(http.StatusNotFound, "RouterInterfaceNotFound", "Router %s does not have an interface with id %s", id, b.PortID)
			}
			return httpapi.Errorf(http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", id, b.SubnetID)
		}
		// Floating IPs reaching ports of this network through this router forbid the removal.
		for _, f := range s.fips.List(func(_ string, f *FloatingIP) bool { return f.RouterID == id && f.PortID != "" }) {
			if fp, ok := s.ports.Get(f.PortID); ok && fp.NetworkID == port.NetworkID {
				return httpapi.Errorf(http.StatusConflict, "RouterInterfaceInUseByFloatingIP",
					"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", b.SubnetID, id)
			}
		}
		if err := s.removePort(tx, port); err != nil {
			return err
		}
		s.emit(tx, "router", rt.ID, rt.Project, "interface-removed", port.ID)
		return s.reconcile(tx, taskRouterSync, rt.ID, rt.Project)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, interfaceInfo(rt, port))
	return nil
}

// routerFor finds a router with a gateway on extNet and an interface on netID: the path a
// floating IP of extNet takes to a port of netID.
func (s *Service) routerFor(netID, extNet string) (string, bool) {
	for _, pid := range s.ipam.portsOf("device_owner", []string{OwnerRouterInterface}) {
		ifp, ok := s.ports.Get(pid)
		if !ok || ifp.NetworkID != netID {
			continue
		}
		if rt, ok := s.routers.Get(ifp.DeviceID); ok && rt.Gateway != nil && rt.Gateway.NetworkID == extNet {
			return rt.ID, true
		}
	}
	return "", false
}
