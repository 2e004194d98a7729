package network

import (
	"encoding/json"
	"net/http"
	"net/netip"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type fipFields struct {
	FloatingNetworkID *string         `json:"floating_network_id"`
	FloatingIP        *string         `json:"floating_ip_address"`
	SubnetID          *string         `json:"subnet_id"`
	PortID            json.RawMessage `json:"port_id"` // absent: unchanged; null: disassociate
	FixedIP           *string         `json:"fixed_ip_address"`
	Description       *string         `json:"description"`
	ProjectID         string          `json:"project_id"`
	TenantID          string          `json:"tenant_id"`
	Tags              []string        `json:"tags"`
}

func (s *Service) fipView(f FloatingIP) map[string]any {
	var details any
	if f.PortID != "" {
		if p, ok := s.ports.Get(f.PortID); ok {
			details = map[string]any{"name": p.Name, "network_id": p.NetworkID, "mac_address": p.MACAddress,
				"admin_state_up": p.AdminStateUp, "status": p.Status, "device_id": p.DeviceID, "device_owner": p.DeviceOwner}
		}
	}
	return map[string]any{
		"id": f.ID, "description": f.Description, "project_id": f.Project, "tenant_id": f.Project,
		"floating_network_id": f.FloatingNetworkID, "floating_ip_address": f.FloatingIP,
		"port_id": nullable(f.PortID), "fixed_ip_address": nullable(f.FixedIP), "router_id": nullable(f.RouterID),
		"status": f.Status, "port_details": details, "dns_name": "", "dns_domain": "", "qos_policy_id": nil,
		"port_forwardings": []any{},
		"tags":             nonNil(f.Tags), "revision_number": f.Revision, "created_at": ts(f.Created), "updated_at": ts(f.Updated),
	}
}

func (s *Service) visibleFIP(p *httpapi.Principal, id string) (FloatingIP, error) {
	f, ok := s.fips.Get(id)
	if !ok || !p.Sees(f.Project) {
		return FloatingIP{}, httpapi.NotFound("Floating IP", id)
	}
	return f, nil
}

var fipFilters = fieldsOfT[FloatingIP]{
	"id": func(v *FloatingIP) string { return v.ID }, "description": func(v *FloatingIP) string { return v.Description },
	"project_id": func(v *FloatingIP) string { return v.Project }, "tenant_id": func(v *FloatingIP) string { return v.Project },
	"floating_ip_address": func(v *FloatingIP) string { return v.FloatingIP },
	"floating_network_id": func(v *FloatingIP) string { return v.FloatingNetworkID },
	"port_id":             func(v *FloatingIP) string { return v.PortID }, "fixed_ip_address": func(v *FloatingIP) string { return v.FixedIP },
	"router_id": func(v *FloatingIP) string { return v.RouterID }, "status": func(v *FloatingIP) string { return v.Status },
}

func (s *Service) listFloatingIPs(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	sees := visible(p)
	m := newMatcher(r, fipFilters, func(v *FloatingIP) []string { return v.Tags })
	list := s.fips.List(func(_ string, v *FloatingIP) bool { return sees(v.Project) && m.match(v) })
	views := make([]map[string]any, len(list))
	for i, v := range list {
		views[i] = s.fipView(v)
	}
	return writeList(w, r, "floatingips", views)
}

func (s *Service) getFloatingIP(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Floating IP")
	if err != nil {
		return err
	}
	f, err := s.visibleFIP(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "floatingip", s.fipView(f))
}

// portIDArg reads the port_id of a floating IP body: given reports presence, "" is null.
func portIDArg(raw json.RawMessage) (id string, given bool, err error) {
	if len(raw) == 0 {
		return "", false, nil
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, httpapi.BadRequest("Invalid input for port_id: %s is not a string or null.", string(raw))
	}
	if v == nil || *v == "" {
		return "", true, nil
	}
	if err := httpapi.RequireUUID("port_id", *v); err != nil {
		return "", true, err
	}
	return *v, true, nil
}

func (s *Service) createFloatingIP(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "floatingip", "floatingips", false, s.stageFloatingIP, nil)
}

func (s *Service) stageFloatingIP(p *httpapi.Principal, b *fipFields) (staged, error) {
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	if b.FloatingNetworkID == nil {
		return staged{}, httpapi.BadRequest("Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	if err := httpapi.RequireUUID("floating_network_id", *b.FloatingNetworkID); err != nil {
		return staged{}, err
	}
	portID, _, err := portIDArg(b.PortID)
	if err != nil {
		return staged{}, err
	}
	if b.FixedIP != nil && *b.FixedIP != "" && portID == "" {
		return staged{}, httpapi.BadRequest("Bad floatingip request: fixed_ip_address cannot be specified without a port_id.")
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
	}
	t := now()
	f := FloatingIP{ID: newID(), Project: project, FloatingNetworkID: *b.FloatingNetworkID, Status: "DOWN",
		Tags: dedupTags(b.Tags), Revision: 1, Created: t, Updated: t}
	if b.Description != nil {
		f.Description = *b.Description
	}
	put := func(tx *store.Tx) error {
		n, ok := s.networks.Get(f.FloatingNetworkID)
		if !ok || !canSeeNetwork(p, &n) {
			return httpapi.NotFound("Network", f.FloatingNetworkID)
		}
		if !n.External {
			return httpapi.BadRequest("Bad floatingip request: Network %s is not a valid external network.", n.ID)
		}
		if err := s.checkQuota(project, "floatingip", 1); err != nil {
			return err
		}
		req := fixedIPReq{}
		if b.SubnetID != nil {
			req.SubnetID = *b.SubnetID
		}
		if b.FloatingIP != nil {
			if _, err := netip.ParseAddr(*b.FloatingIP); err != nil {
				return httpapi.BadRequest("Invalid input for floating_ip_address. Reason: '%s' is not a valid IP address.", *b.FloatingIP)
			}
			req.IPAddress = *b.FloatingIP
		}
		pf := &portFields{}
		if req.SubnetID != "" || req.IPAddress != "" {
			pf.FixedIPs = &[]fixedIPReq{req}
		}
		owner, dev := OwnerFloatingIP, f.ID
		pf.DeviceOwner, pf.DeviceID = &owner, &dev
		port, err := s.newPortInternal(tx, "", n, pf)
		if err != nil {
			return err
		}
		if len(port.FixedIPs) == 0 {
			return httpapi.Errorf(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", n.ID)
		}
		f.FIPPortID = port.ID
		f.FloatingIP = port.FixedIPs[0].IPAddress
		f.FloatingSubnetID = port.FixedIPs[0].SubnetID
		if portID != "" {
			fixed := ""
			if b.FixedIP != nil {
				fixed = *b.FixedIP
			}
			if err := s.associate(p, &f, portID, fixed); err != nil {
				return err
			}
		}
		if err := s.fips.Put(tx, f.ID, f); err != nil {
			return err
		}
		s.emit(tx, "floatingip", f.ID, project, "created", f.FloatingIP)
		if f.PortID != "" {
			return s.reconcile(tx, taskFIPSync, f.ID, project)
		}
		return nil
	}
	return staged{put: put, view: func() map[string]any { return s.fipView(f) }}, nil
}

// associate points f at a port's fixed IP, checking the port is reachable from f's external
// network through a router with a gateway on it.
func (s *Service) associate(p *httpapi.Principal, f *FloatingIP, portID, fixedIP string) error {
	port, ok := s.ports.Get(portID)
	if !ok || !p.Sees(port.Project) || port.Project != f.Project && !p.IsAdmin() {
		return httpapi.NotFound("Port", portID)
	}
	if port.NetworkID == f.FloatingNetworkID {
		return httpapi.BadRequest("Bad floatingip request: Port %s is on the floating IP's own external network.", portID)
	}
	var chosen FixedIP
	if fixedIP != "" {
		for _, ip := range port.FixedIPs {
			if ip.IPAddress == fixedIP {
				chosen = ip
			}
		}
		if chosen.IPAddress == "" {
			return httpapi.BadRequest("Bad floatingip request: Port %s does not have fixed ip %s.", portID, fixedIP)
		}
	} else {
		var v4 []FixedIP
		for _, ip := range port.FixedIPs {
			if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
				v4 = append(v4, ip)
			}
		}
		switch len(v4) {
		case 0:
			return httpapi.BadRequest("Bad floatingip request: Port %s does not have any IPv4 address; cannot associate a floating IP.", portID)
		case 1:
			chosen = v4[0]
		default:
			return httpapi.BadRequest("Bad floatingip request: Port %s has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP.", portID)
		}
	}
	for _, other := range s.fips.List(func(_ string, v *FloatingIP) bool {
		return v.ID != f.ID && v.PortID == portID && v.FixedIP == chosen.IPAddress
	}) {
		return httpapi.Errorf(http.StatusConflict, "FloatingIPPortAlreadyAssociated",
			"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
			f.FloatingIP, f.ID, portID, chosen.IPAddress, other.FloatingNetworkID)
	}
	rid, ok := s.routerFor(port.NetworkID, f.FloatingNetworkID)
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.",
			f.FloatingNetworkID, chosen.SubnetID, portID)
	}
	f.PortID, f.FixedIP, f.RouterID, f.Status = portID, chosen.IPAddress, rid, "ACTIVE"
	return nil
}

func (s *Service) updateFloatingIP(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Floating IP")
	if err != nil {
		return err
	}
	var body struct {
		FloatingIP json.RawMessage `json:"floatingip"`
	}
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	var b *fipFields
	var attrs map[string]json.RawMessage
	if err := httpapi.Unmarshal(body.FloatingIP, &b); len(body.FloatingIP) > 0 && err != nil {
		return err
	}
	if b == nil {
		return httpapi.BadRequest("Resource body required: 'floatingip'.")
	}
	_ = json.Unmarshal(body.FloatingIP, &attrs) // an object, since it decoded into b
	if b.FloatingNetworkID != nil || b.FloatingIP != nil || b.SubnetID != nil || b.ProjectID != "" || b.TenantID != "" {
		return httpapi.BadRequest("Cannot update read-only attributes of a floating IP.")
	}
	portID, given, err := portIDArg(b.PortID)
	if err != nil {
		return err
	}
	if b.FixedIP != nil && *b.FixedIP != "" && portID == "" {
		return httpapi.BadRequest("Bad floatingip request: fixed_ip_address cannot be specified without a port_id.")
	}
	// As Neutron: an update without port_id keeps the association, unless the body is empty
	// ({"floatingip": {}}), which disassociates like port_id null. gophercloud sends that for
	// UpdateOpts{PortID: nil}, and CAPO disassociates so, then waits for DOWN.
	if !given && len(attrs) == 0 {
		given = true
	}
	p := caller(r)
	var f FloatingIP
	err = s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		f, err = s.visibleFIP(p, id)
		if err != nil {
			return err
		}
		prev := f.Status
		if b.Description != nil {
			f.Description = *b.Description
		}
		if b.Tags != nil {
			if err := checkTags(b.Tags); err != nil {
				return err
			}
			f.Tags = dedupTags(b.Tags)
		}
		if given {
			if portID == "" {
				f.PortID, f.FixedIP, f.RouterID, f.Status = "", "", "", "DOWN"
			} else {
				fixed := ""
				if b.FixedIP != nil {
					fixed = *b.FixedIP
				}
				if err := s.associate(p, &f, portID, fixed); err != nil {
					return err
				}
			}
		}
		f.Revision++
		f.Updated = now()
		if err := s.fips.Put(tx, id, f); err != nil {
			return err
		}
		if f.Status != prev {
			s.emit(tx, "floatingip", id, f.Project, "status", f.Status)
		} else {
			s.emit(tx, "floatingip", id, f.Project, "updated", f.FloatingIP)
		}
		if given {
			return s.reconcile(tx, taskFIPSync, id, f.Project)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "floatingip", s.fipView(f))
}

func (s *Service) deleteFloatingIP(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Floating IP")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		f, err := s.visibleFIP(p, id)
		if err != nil {
			return err
		}
		if port, ok := s.ports.Get(f.FIPPortID); ok {
			if err := s.removePort(tx, port); err != nil {
				return err
			}
		}
		if err := s.fips.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "floatingip", id, f.Project, "deleted", f.FloatingIP)
		return s.reconcile(tx, taskFIPSync, id, f.Project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
