package network

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type fixedIPReq struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

type portFields struct {
	Name                *string         `json:"name"`
	Description         *string         `json:"description"`
	NetworkID           *string         `json:"network_id"`
	AdminStateUp        *bool           `json:"admin_state_up"`
	MACAddress          *string         `json:"mac_address"`
	FixedIPs            *[]fixedIPReq   `json:"fixed_ips"`
	DeviceID            *string         `json:"device_id"`
	DeviceOwner         *string         `json:"device_owner"`
	SecurityGroups      *[]string       `json:"security_groups"`
	AllowedAddressPairs *[]AddressPair  `json:"allowed_address_pairs"`
	PortSecurity        *bool           `json:"port_security_enabled"`
	HostID              *string         `json:"binding:host_id"`
	VNICType            *string         `json:"binding:vnic_type"`
	QoSPolicyID         json.RawMessage `json:"qos_policy_id"`
	ProjectID           string          `json:"project_id"`
	TenantID            string          `json:"tenant_id"`
	Tags                []string        `json:"tags"`
}

type portBody struct {
	Port *portFields `json:"port"`
}

var macRe = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`)

var vnicTypes = map[string]bool{"normal": true, "direct": true, "macvtap": true, "baremetal": true, "direct-physical": true, "virtio-forwarder": true, "smart-nic": true, "remote-managed": true}

func (s *Service) portView(p Port) map[string]any {
	vif := "unbound"
	if p.HostID != "" {
		vif = "ovs"
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "description": p.Description, "network_id": p.NetworkID,
		"project_id": p.Project, "tenant_id": p.Project, "admin_state_up": p.AdminStateUp,
		"mac_address": p.MACAddress, "fixed_ips": nonNil(p.FixedIPs), "device_id": p.DeviceID, "device_owner": p.DeviceOwner,
		"security_groups": nonNil(p.SecurityGroups), "allowed_address_pairs": nonNil(p.AllowedAddressPairs),
		"port_security_enabled": p.PortSecurity, "status": p.Status,
		"binding:host_id": p.HostID, "binding:vnic_type": p.VNICType, "binding:vif_type": vif,
		"binding:vif_details": map[string]any{}, "binding:profile": map[string]any{},
		"extra_dhcp_opts": []any{}, "dns_name": "", "dns_assignment": []any{}, "qos_policy_id": nullable(p.QoSPolicyID),
		"qos_network_policy_id": nullable(s.networkQoS(p.NetworkID)), "propagate_uplink_status": false, "ip_allocation": "immediate",
		"tags": nonNil(p.Tags), "revision_number": p.Revision, "created_at": ts(p.Created), "updated_at": ts(p.Updated),
	}
}

// visiblePort returns the port if the caller's project owns it (or the caller is admin).
func (s *Service) visiblePort(p *httpapi.Principal, id string) (Port, error) {
	port, ok := s.ports.Get(id)
	if !ok || !p.Sees(port.Project) {
		return Port{}, httpapi.NotFound("Port", id)
	}
	return port, nil
}

// fixedIPFilter parses Neutron's fixed_ips=ip_address=X / fixed_ips=subnet_id=Y filters.
func fixedIPFilter(r *http.Request) (ips, subnets map[string]bool) {
	for _, v := range r.URL.Query()["fixed_ips"] {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			continue
		}
		switch k {
		case "ip_address":
			if ips == nil {
				ips = map[string]bool{}
			}
			ips[val] = true
		case "subnet_id":
			if subnets == nil {
				subnets = map[string]bool{}
			}
			subnets[val] = true
		}
	}
	return ips, subnets
}

var portFilters = fieldsOfT[Port]{
	"id": func(v *Port) string { return v.ID }, "name": func(v *Port) string { return v.Name },
	"description": func(v *Port) string { return v.Description },
	"project_id":  func(v *Port) string { return v.Project }, "tenant_id": func(v *Port) string { return v.Project },
	"network_id": func(v *Port) string { return v.NetworkID }, "device_id": func(v *Port) string { return v.DeviceID },
	"device_owner": func(v *Port) string { return v.DeviceOwner }, "mac_address": func(v *Port) string { return v.MACAddress },
	"status": func(v *Port) string { return v.Status }, "admin_state_up": func(v *Port) string { return fmtBool(v.AdminStateUp) },
	"binding:host_id": func(v *Port) string { return v.HostID }, "binding:vnic_type": func(v *Port) string { return v.VNICType },
	"port_security_enabled": func(v *Port) string { return fmtBool(v.PortSecurity) },
	"qos_policy_id":         func(v *Port) string { return v.QoSPolicyID },
}

func (s *Service) listPorts(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	sees := visible(p)
	m := newMatcher(r, portFilters, func(v *Port) []string { return v.Tags })
	if ips, subnets := fixedIPFilter(r); ips != nil || subnets != nil {
		m.add(func(v *Port) bool {
			for _, ip := range v.FixedIPs {
				if (ips == nil || ips[ip.IPAddress]) && (subnets == nil || subnets[ip.SubnetID]) {
					return true
				}
			}
			return false
		})
	}
	for _, g := range r.URL.Query()["security_groups"] {
		m.add(func(v *Port) bool { return slices.Contains(v.SecurityGroups, g) })
	}
	keep := func(_ string, v *Port) bool { return sees(v.Project) && m.match(v) }
	var ports []Port
	if cands, ok := s.portCandidates(r); ok {
		for _, id := range cands {
			if v, found := s.ports.Get(id); found && keep(id, &v) {
				ports = append(ports, v)
			}
		}
	} else {
		ports = s.ports.List(keep)
	}
	views := make([]map[string]any, len(ports))
	for i, port := range ports {
		views[i] = s.portView(port)
	}
	return writeList(w, r, "ports", views)
}

// portCandidates narrows a port listing through the indexes: the smallest set among the
// indexed fields asked for (device_id, name, network_id, device_owner), the mac_address
// values, or the fixed_ips ip_address values. ok is false when a scan is cheaper: nothing
// indexed is asked for, or the best set is a large part of the table (each candidate is
// decoded, which costs some fifty times a scanned row).
func (s *Service) portCandidates(r *http.Request) ([]string, bool) {
	q := r.URL.Query()
	if macs, ok := q["mac_address"]; ok {
		var out []string
		for _, mac := range macs {
			if id, ok := s.ipam.portWithMAC(strings.ToLower(mac)); ok {
				out = append(out, id)
			}
		}
		return dedupTags(out), true
	}
	if ips, _ := fixedIPFilter(r); ips != nil {
		var out []string
		for ip := range ips {
			out = append(out, s.ipam.portsWithAddr(ip)...)
		}
		return dedupTags(out), true
	}
	best, bestN := "", -1
	for f := range indexedFields {
		vals, ok := q[f]
		if !ok || slices.Contains(vals, "") {
			continue // an empty value matches unset fields, which are not indexed
		}
		if n := s.ipam.countOf(f, vals); bestN < 0 || n < bestN {
			best, bestN = f, n
		}
	}
	if bestN < 0 || bestN > 64+s.ports.Len()/50 {
		return nil, false
	}
	return dedupTags(s.ipam.portsOf(best, q[best])), true
}

func (s *Service) getPort(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Port")
	if err != nil {
		return err
	}
	port, err := s.visiblePort(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "port", s.portView(port))
}

func (s *Service) createPort(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "port", "ports", true, s.stagePort, nil)
}

func (s *Service) stagePort(p *httpapi.Principal, b *portFields) (staged, error) {
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	if b.NetworkID == nil {
		return staged{}, httpapi.BadRequest("Failed to parse request. Required attribute 'network_id' not specified")
	}
	if err := httpapi.RequireUUID("network_id", *b.NetworkID); err != nil {
		return staged{}, err
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
	}
	var port Port
	put := func(tx *store.Tx) error {
		n, err := s.visibleNetwork(p, *b.NetworkID)
		if err != nil {
			return err
		}
		if !p.IsAdmin() && n.Project != project && !n.Shared {
			return httpapi.Forbidden("create_port on network %s is disallowed by policy", n.ID)
		}
		port, err = s.newPort(tx, project, p.IsAdmin(), n, b)
		return err
	}
	return staged{put: put, view: func() map[string]any { return s.portView(port) }}, nil
}

// newPort validates b and creates a port on n for project, as part of tx.
func (s *Service) newPort(tx *store.Tx, project string, admin bool, n Network, b *portFields) (Port, error) {
	return s.buildPort(tx, project, admin, n, b, true, false)
}

// newPortInternal creates a port Neutron owns (router interface and gateway, floating IP),
// outside quotas.
func (s *Service) newPortInternal(tx *store.Tx, project string, n Network, b *portFields) (Port, error) {
	return s.buildPort(tx, project, true, n, b, false, false)
}

// buildPort creates a port as part of tx; quota says whether it counts against the
// project's port quota, autoCreated marks ports made by AttachPort for their device.
func (s *Service) buildPort(tx *store.Tx, project string, admin bool, n Network, b *portFields, quota, autoCreated bool) (Port, error) {
	if quota {
		if err := s.checkQuota(project, "port", 1); err != nil {
			return Port{}, err
		}
	}
	t := now()
	port := Port{ID: newID(), Project: project, NetworkID: n.ID, AdminStateUp: true, PortSecurity: n.PortSecurity,
		VNICType: "normal", Status: "DOWN", AutoCreated: autoCreated, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	if err := s.applyPortScalars(&port, b, admin); err != nil {
		return Port{}, err
	}
	if b.Tags != nil {
		port.Tags = dedupTags(b.Tags)
	}
	// MAC address.
	if b.MACAddress != nil && *b.MACAddress != "" {
		mac := strings.ToLower(*b.MACAddress)
		if !macRe.MatchString(mac) {
			return Port{}, httpapi.BadRequest("Invalid input for mac_address. Reason: '%s' is not a valid MAC address.", *b.MACAddress)
		}
		if !s.ipam.takeMAC(tx, mac, port.ID) {
			return Port{}, httpapi.Errorf(http.StatusConflict, "MacAddressInUse",
				"Unable to complete operation for network %s. The mac address %s is in use.", n.ID, mac)
		}
		port.MACAddress = mac
	} else {
		mac, err := s.ipam.newMAC(tx, port.ID)
		if err != nil {
			return Port{}, err
		}
		port.MACAddress = mac
	}
	var reqs []fixedIPReq
	if b.FixedIPs != nil {
		reqs = *b.FixedIPs
	}
	ips, err := s.assignIPs(tx, n, &port, reqs, b.FixedIPs == nil, nil)
	if err != nil {
		return Port{}, err
	}
	port.FixedIPs = ips
	if err := s.applyPortSecurity(tx, &port, b, true); err != nil {
		return Port{}, err
	}
	if err := s.applyPortQoS(&port, b, admin); err != nil {
		return Port{}, err
	}
	if err := s.ports.Put(tx, port.ID, port); err != nil {
		return Port{}, err
	}
	s.ipam.reindex(tx, port.ID, nil, &port)
	s.emit(tx, "port", port.ID, project, "created", port.Status)
	if boundToDevice(&port) {
		if err := s.reconcile(tx, taskPortSync, port.ID, project); err != nil {
			return Port{}, err
		}
	}
	return port, nil
}

// applyPortScalars applies the simple attributes of b.
func (s *Service) applyPortScalars(port *Port, b *portFields, admin bool) error {
	if b.Name != nil {
		if len(*b.Name) > 255 {
			return httpapi.BadRequest("Invalid input for name. Reason: exceeds maximum length of 255.")
		}
		port.Name = *b.Name
	}
	if b.Description != nil {
		port.Description = *b.Description
	}
	if b.AdminStateUp != nil {
		port.AdminStateUp = *b.AdminStateUp
	}
	if b.DeviceID != nil {
		if len(*b.DeviceID) > 255 {
			return httpapi.BadRequest("Invalid input for device_id. Reason: exceeds maximum length of 255.")
		}
		port.DeviceID = *b.DeviceID
	}
	if b.DeviceOwner != nil {
		if len(*b.DeviceOwner) > 255 {
			return httpapi.BadRequest("Invalid input for device_owner. Reason: exceeds maximum length of 255.")
		}
		port.DeviceOwner = *b.DeviceOwner
	}
	if b.HostID != nil {
		if !admin {
			return httpapi.Forbidden("Setting binding:host_id is disallowed by policy")
		}
		port.HostID = *b.HostID
	}
	if b.VNICType != nil {
		if !vnicTypes[*b.VNICType] {
			return httpapi.BadRequest("Invalid input for binding:vnic_type. Reason: '%s' is not a valid vnic type.", *b.VNICType)
		}
		port.VNICType = *b.VNICType
	}
	port.Status = "DOWN"
	if port.DeviceID != "" && port.AdminStateUp {
		port.Status = "ACTIVE"
	}
	return nil
}

// applyPortSecurity applies port_security_enabled, security_groups and allowed_address_pairs.
func (s *Service) applyPortSecurity(tx *store.Tx, port *Port, b *portFields, create bool) error {
	if b.PortSecurity != nil {
		port.PortSecurity = *b.PortSecurity
	}
	switch {
	case b.SecurityGroups != nil:
		seen := map[string]bool{}
		groups := []string{}
		for _, g := range *b.SecurityGroups {
			if !httpapi.IsUUID(g) {
				if id := s.sgByName(port.Project, g); id != "" {
					g = id
				} else {
					return httpapi.NotFound("Security group", g)
				}
			}
			sg, ok := s.sgs.Get(g)
			if !ok || sg.Project != port.Project {
				return httpapi.NotFound("Security group", g)
			}
			if !seen[g] {
				seen[g] = true
				groups = append(groups, g)
			}
		}
		port.SecurityGroups = groups
	case create && port.PortSecurity && !strings.HasPrefix(port.DeviceOwner, "network:"):
		id, err := s.ensureDefaultSG(tx, port.Project)
		if err != nil {
			return err
		}
		port.SecurityGroups = []string{id}
	case create:
		port.SecurityGroups = []string{}
	}
	if b.PortSecurity != nil && !*b.PortSecurity && b.SecurityGroups == nil && !create {
		if len(port.SecurityGroups) > 0 {
			return httpapi.Errorf(http.StatusConflict, "PortSecurityPortHasSecurityGroup",
				"Port has security group associated. Cannot disable port security or ip address until security group is removed")
		}
	}
	if !port.PortSecurity && len(port.SecurityGroups) > 0 {
		if create && b.SecurityGroups == nil {
			port.SecurityGroups = []string{}
		} else {
			return httpapi.BadRequest("Port security must be enabled and port must have an IP address in order to use security groups.")
		}
	}
	if b.AllowedAddressPairs != nil {
		pairs := []AddressPair{}
		seen := map[string]bool{}
		for _, ap := range *b.AllowedAddressPairs {
			if ap.IPAddress == "" {
				return httpapi.BadRequest("Allowed address pairs must contain ip_address")
			}
			if _, err := netip.ParseAddr(ap.IPAddress); err != nil {
				if _, err := netip.ParsePrefix(ap.IPAddress); err != nil {
					return httpapi.BadRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a valid IP address or CIDR.", ap.IPAddress)
				}
			}
			if ap.MACAddress == "" {
				ap.MACAddress = port.MACAddress
			} else if !macRe.MatchString(ap.MACAddress) {
				return httpapi.BadRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a valid MAC address.", ap.MACAddress)
			}
			key := ap.IPAddress + "|" + strings.ToLower(ap.MACAddress)
			if seen[key] {
				return httpapi.BadRequest("Request contains duplicate address pair: mac_address %s ip_address %s.", ap.MACAddress, ap.IPAddress)
			}
			seen[key] = true
			pairs = append(pairs, ap)
		}
		port.AllowedAddressPairs = pairs
	}
	if port.AllowedAddressPairs == nil {
		port.AllowedAddressPairs = []AddressPair{}
	}
	if !port.PortSecurity && len(port.AllowedAddressPairs) > 0 {
		return httpapi.Errorf(http.StatusConflict, "AddressPairAndPortSecurityRequired",
			"Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	return nil
}

// isRouterOwner reports whether a device owner may hold a subnet's gateway address.
// applyPortQoS sets the port's qos_policy_id (null clears it).
func (s *Service) applyPortQoS(port *Port, b *portFields, admin bool) error {
	id, given, err := qosPolicyArg(b.QoSPolicyID)
	if err != nil || !given {
		return err
	}
	if id != "" {
		if err := s.checkQoSFor(port.Project, admin, id); err != nil {
			return err
		}
	}
	port.QoSPolicyID = id
	return nil
}

// networkQoS is the QoS policy of a network, "" for none. Without any policy it reads no
// network, so port lists cost what they did before QoS.
func (s *Service) networkQoS(id string) string {
	if s.qos.Len() == 0 {
		return ""
	}
	n, _ := s.networks.Get(id)
	return n.QoSPolicyID
}

func isRouterOwner(owner string) bool {
	return strings.HasPrefix(owner, "network:router_interface") || owner == OwnerRouterGateway || owner == "network:ha_router_replicated_interface"
}

// assignIPs resolves the requested fixed IPs of port on n (auto: one address from the first
// IPv4 subnet with room), recording them in the allocation index. keep lists addresses the
// port already holds (on update), which are reused rather than taken again.
func (s *Service) assignIPs(tx *store.Tx, n Network, port *Port, reqs []fixedIPReq, auto bool, keep map[string]bool) ([]FixedIP, error) {
	out := []FixedIP{}
	if auto {
		// As Neutron: one address from the first IPv4 subnet with room, one from the first
		// stateful IPv6 subnet with room, and one from every SLAAC/stateless IPv6 subnet.
		var lastErr error
		gotV4, gotV6, hadV4, hadV6 := false, false, false, false
		for _, sid := range n.Subnets {
			sn, ok := s.subnets.Get(sid)
			if !ok {
				continue
			}
			auto6 := sn.IPVersion == 6 && (sn.IPv6AddressMode == "slaac" || sn.IPv6AddressMode == "dhcpv6-stateless")
			hadV4 = hadV4 || sn.IPVersion == 4
			hadV6 = hadV6 || (sn.IPVersion == 6 && !auto6)
			if (sn.IPVersion == 4 && gotV4) || (sn.IPVersion == 6 && !auto6 && gotV6) {
				continue
			}
			a, err := s.ipam.allocate(tx, &sn, port.ID)
			if err != nil {
				if auto6 {
					return nil, err
				}
				lastErr = err
				continue
			}
			out = append(out, FixedIP{SubnetID: sid, IPAddress: a.String()})
			if sn.IPVersion == 4 {
				gotV4 = true
			} else if !auto6 {
				gotV6 = true
			}
		}
		if (hadV4 && !gotV4) || (hadV6 && !gotV6) {
			return nil, lastErr
		}
		return out, nil
	}
	onNet := map[string]bool{}
	for _, sid := range n.Subnets {
		onNet[sid] = true
	}
	seen := map[string]bool{}
	for _, req := range reqs {
		var sn Subnet
		if req.SubnetID != "" {
			var ok bool
			if httpapi.IsUUID(req.SubnetID) {
				sn, ok = s.subnets.Get(req.SubnetID)
			}
			if !ok || !onNet[req.SubnetID] {
				return nil, httpapi.BadRequest("Invalid input for operation: Failed to create port on network %s, because fixed_ips included invalid subnet %s.", n.ID, req.SubnetID)
			}
		}
		if req.IPAddress == "" {
			if req.SubnetID == "" {
				return nil, httpapi.BadRequest("Invalid input for fixed_ips: each entry needs a subnet_id or an ip_address.")
			}
			a, err := s.ipam.allocate(tx, &sn, port.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, FixedIP{SubnetID: sn.ID, IPAddress: a.String()})
			continue
		}
		a, err := netip.ParseAddr(req.IPAddress)
		if err != nil {
			return nil, httpapi.BadRequest("Invalid input for ip_address. Reason: '%s' is not a valid IP address.", req.IPAddress)
		}
		if req.SubnetID == "" {
			found := false
			for _, sid := range n.Subnets {
				cand, ok := s.subnets.Get(sid)
				if !ok {
					continue
				}
				if pfx, err := netip.ParsePrefix(cand.CIDR); err == nil && pfx.Contains(a) {
					sn, found = cand, true
					break
				}
			}
			if !found {
				return nil, httpapi.BadRequest("Invalid input for operation: IP address %s is not a valid IP for any of the subnets on the specified network.", a)
			}
		}
		pfx, _ := netip.ParsePrefix(sn.CIDR)
		if !pfx.Contains(a) || a == pfx.Addr() || (sn.IPVersion == 4 && a == lastAddr(pfx)) {
			return nil, httpapi.BadRequest("IP address %s is not a valid IP for the specified subnet.", a)
		}
		if r := s.reservedBlock(pfx); r.IsValid() && r.Contains(a) && !isRouterOwner(port.DeviceOwner) {
			return nil, httpapi.BadRequest("IP address %s is not a valid IP for the specified subnet: %s is kept by this cloud for its routers and load balancers.", a, r)
		}
		key := sn.ID + "|" + a.String()
		if seen[key] {
			return nil, httpapi.BadRequest("Duplicate IP address %s in fixed_ips.", a)
		}
		seen[key] = true
		if holder, ok := s.ipam.holder(sn.ID, a); ok && holder != port.ID {
			return nil, httpapi.Errorf(http.StatusConflict, "IpAddressAlreadyAllocated",
				"IP address %s already allocated in subnet %s", a, sn.ID)
		}
		if a.String() == sn.GatewayIP && !isRouterOwner(port.DeviceOwner) {
			return nil, httpapi.Errorf(http.StatusConflict, "IpAddressAlreadyAllocated",
				"IP address %s already allocated in subnet %s: it is the subnet's gateway.", a, sn.ID)
		}
		if !keep[key] {
			s.ipam.take(tx, sn.ID, a, port.ID)
		}
		out = append(out, FixedIP{SubnetID: sn.ID, IPAddress: a.String()})
	}
	return out, nil
}

func (s *Service) updatePort(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Port")
	if err != nil {
		return err
	}
	var body portBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Port == nil {
		return httpapi.BadRequest("Resource body required: 'port'.")
	}
	b := body.Port
	p := caller(r)
	if b.NetworkID != nil || b.ProjectID != "" || b.TenantID != "" {
		return httpapi.BadRequest("Cannot update read-only attribute network_id or project_id")
	}
	var port Port
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, err := s.visiblePort(p, id)
		if err != nil {
			return err
		}
		port, err = s.changePort(tx, cur, b, p.IsAdmin())
		return err
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "port", s.portView(port))
}

// changePort applies an update to a port as part of tx.
func (s *Service) changePort(tx *store.Tx, cur Port, b *portFields, admin bool) (Port, error) {
	port := cur
	if err := s.applyPortScalars(&port, b, admin); err != nil {
		return Port{}, err
	}
	if b.MACAddress != nil && strings.ToLower(*b.MACAddress) != port.MACAddress {
		if !admin {
			return Port{}, httpapi.Forbidden("Updating mac_address is disallowed by policy")
		}
		mac := strings.ToLower(*b.MACAddress)
		if !macRe.MatchString(mac) {
			return Port{}, httpapi.BadRequest("Invalid input for mac_address. Reason: '%s' is not a valid MAC address.", *b.MACAddress)
		}
		if !s.ipam.takeMAC(tx, mac, port.ID) {
			return Port{}, httpapi.Errorf(http.StatusConflict, "MacAddressInUse", "The mac address %s is in use.", mac)
		}
		port.MACAddress = mac
	}
	if b.FixedIPs != nil {
		n, ok := s.networks.Get(port.NetworkID)
		if !ok {
			return Port{}, httpapi.NotFound("Network", port.NetworkID)
		}
		keep := map[string]bool{}
		for _, ip := range cur.FixedIPs {
			keep[ip.SubnetID+"|"+ip.IPAddress] = true
		}
		// Requests naming a current address keep it; a bare subnet_id already served keeps its address.
		reqs := make([]fixedIPReq, 0, len(*b.FixedIPs))
		used := map[string]bool{}
		for _, req := range *b.FixedIPs {
			if req.IPAddress == "" && req.SubnetID != "" {
				for _, ip := range cur.FixedIPs {
					k := ip.SubnetID + "|" + ip.IPAddress
					if ip.SubnetID == req.SubnetID && !used[k] {
						req.IPAddress = ip.IPAddress
						break
					}
				}
			}
			if req.IPAddress != "" {
				used[req.SubnetID+"|"+req.IPAddress] = true
			}
			reqs = append(reqs, req)
		}
		ips, err := s.assignIPs(tx, n, &port, reqs, false, keep)
		if err != nil {
			return Port{}, err
		}
		kept := map[string]bool{}
		for _, ip := range ips {
			kept[ip.SubnetID+"|"+ip.IPAddress] = true
		}
		for _, ip := range cur.FixedIPs {
			if !kept[ip.SubnetID+"|"+ip.IPAddress] {
				if a, err := netip.ParseAddr(ip.IPAddress); err == nil {
					s.ipam.release(tx, ip.SubnetID, a, port.ID)
				}
			}
		}
		port.FixedIPs = ips
	}
	if err := s.applyPortSecurity(tx, &port, b, false); err != nil {
		return Port{}, err
	}
	if err := s.applyPortQoS(&port, b, admin); err != nil {
		return Port{}, err
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return Port{}, err
		}
		port.Tags = dedupTags(b.Tags)
	}
	port.Revision++
	port.Updated = now()
	if err := s.ports.Put(tx, port.ID, port); err != nil {
		return Port{}, err
	}
	s.ipam.reindex(tx, port.ID, &cur, &port)
	if port.Status != cur.Status {
		s.emit(tx, "port", port.ID, port.Project, "status", port.Status)
	} else {
		s.emit(tx, "port", port.ID, port.Project, "updated", port.Name)
	}
	if boundToDevice(&port) || boundToDevice(&cur) {
		if err := s.reconcile(tx, taskPortSync, port.ID, port.Project); err != nil {
			return Port{}, err
		}
	}
	return port, nil
}

func (s *Service) deletePort(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Port")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		port, err := s.visiblePort(p, id)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(port.DeviceOwner, "network:router_interface"), port.DeviceOwner == OwnerRouterGateway, port.DeviceOwner == OwnerFloatingIP:
			return httpapi.Errorf(http.StatusConflict, "ServicePortInUse",
				"Port %s cannot be deleted directly via the port API: has device owner %s.", id, port.DeviceOwner)
		}
		return s.removePort(tx, port)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removePort deletes a port as part of tx, disassociating its floating IPs.
func (s *Service) removePort(tx *store.Tx, port Port) error {
	for _, f := range s.fips.List(func(_ string, v *FloatingIP) bool { return v.PortID == port.ID }) {
		if _, err := s.fips.Modify(tx, f.ID, func(v *FloatingIP) error {
			v.PortID, v.FixedIP, v.RouterID, v.Status = "", "", "", "DOWN"
			v.Revision++
			v.Updated = now()
			return nil
		}); err != nil {
			return err
		}
		s.emit(tx, "floatingip", f.ID, f.Project, "status", "DOWN")
		if err := s.reconcile(tx, taskFIPSync, f.ID, f.Project); err != nil {
			return err
		}
	}
	s.ipam.releasePort(tx, port)
	if err := s.ports.Delete(tx, port.ID); err != nil {
		return err
	}
	s.ipam.reindex(tx, port.ID, &port, nil)
	s.emit(tx, "port", port.ID, port.Project, "deleted", port.Name)
	return nil
}
