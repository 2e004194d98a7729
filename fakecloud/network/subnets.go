package network

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"sort"
	"strconv"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type subnetFields struct {
	Name            *string           `json:"name"`
	Description     *string           `json:"description"`
	NetworkID       *string           `json:"network_id"`
	IPVersion       *flexInt          `json:"ip_version"`
	CIDR            *string           `json:"cidr"`
	GatewayIP       json.RawMessage   `json:"gateway_ip"` // absent: default; null: none
	AllocationPools *[]AllocationPool `json:"allocation_pools"`
	DNSNameservers  *[]string         `json:"dns_nameservers"`
	HostRoutes      *[]HostRoute      `json:"host_routes"`
	EnableDHCP      *bool             `json:"enable_dhcp"`
	IPv6AddressMode *string           `json:"ipv6_address_mode"`
	IPv6RAMode      *string           `json:"ipv6_ra_mode"`
	SubnetPoolID    *string           `json:"subnetpool_id"`
	ProjectID       string            `json:"project_id"`
	TenantID        string            `json:"tenant_id"`
	Tags            []string          `json:"tags"`
}

type subnetBody struct {
	Subnet *subnetFields `json:"subnet"`
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Service) subnetView(sn Subnet) map[string]any {
	return map[string]any{
		"id": sn.ID, "name": sn.Name, "description": sn.Description, "network_id": sn.NetworkID,
		"project_id": sn.Project, "tenant_id": sn.Project, "ip_version": sn.IPVersion, "cidr": sn.CIDR,
		"gateway_ip": nullable(sn.GatewayIP), "allocation_pools": nonNil(sn.AllocationPools),
		"dns_nameservers": nonNil(sn.DNSNameservers), "host_routes": nonNil(sn.HostRoutes),
		"enable_dhcp": sn.EnableDHCP, "ipv6_address_mode": nullable(sn.IPv6AddressMode), "ipv6_ra_mode": nullable(sn.IPv6RAMode),
		"subnetpool_id": nil, "service_types": []string{}, "segment_id": nil, "dns_publish_fixed_ip": false,
		"tags": nonNil(sn.Tags), "revision_number": sn.Revision, "created_at": ts(sn.Created), "updated_at": ts(sn.Updated),
	}
}

// visibleSubnet returns the subnet if the caller sees it (its own, or on a shared or
// external network), else a 404.
func (s *Service) visibleSubnet(p *httpapi.Principal, id string) (Subnet, error) {
	sn, ok := s.subnets.Get(id)
	if ok && !p.Sees(sn.Project) {
		n, nok := s.networks.Get(sn.NetworkID)
		ok = nok && canSeeNetwork(p, &n)
	}
	if !ok {
		return Subnet{}, httpapi.NotFound("Subnet", id)
	}
	return sn, nil
}

var subnetFilters = fieldsOfT[Subnet]{
	"id": func(v *Subnet) string { return v.ID }, "name": func(v *Subnet) string { return v.Name },
	"description": func(v *Subnet) string { return v.Description },
	"project_id":  func(v *Subnet) string { return v.Project }, "tenant_id": func(v *Subnet) string { return v.Project },
	"network_id": func(v *Subnet) string { return v.NetworkID }, "cidr": func(v *Subnet) string { return v.CIDR },
	"ip_version":        func(v *Subnet) string { return strconv.Itoa(v.IPVersion) },
	"gateway_ip":        func(v *Subnet) string { return v.GatewayIP },
	"enable_dhcp":       func(v *Subnet) string { return fmtBool(v.EnableDHCP) },
	"ipv6_address_mode": func(v *Subnet) string { return v.IPv6AddressMode },
	"ipv6_ra_mode":      func(v *Subnet) string { return v.IPv6RAMode },
}

func (s *Service) listSubnets(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	m := newMatcher(r, subnetFilters, func(v *Subnet) []string { return v.Tags })
	open := map[string]bool{} // networks shared or external
	if !p.IsAdmin() {
		for _, n := range s.networks.List(func(_ string, n *Network) bool { return n.Shared || n.External }) {
			open[n.ID] = true
		}
	}
	subs := s.subnets.List(func(_ string, sn *Subnet) bool {
		return (p.Sees(sn.Project) || open[sn.NetworkID]) && m.match(sn)
	})
	views := make([]map[string]any, len(subs))
	for i, sn := range subs {
		views[i] = s.subnetView(sn)
	}
	return writeList(w, r, "subnets", views)
}

func (s *Service) getSubnet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Subnet")
	if err != nil {
		return err
	}
	sn, err := s.visibleSubnet(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "subnet", s.subnetView(sn))
}

func (s *Service) createSubnet(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "subnet", "subnets", true, s.stageSubnet, nil)
}

func (s *Service) stageSubnet(p *httpapi.Principal, b *subnetFields) (staged, error) {
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
	if b.SubnetPoolID != nil && *b.SubnetPoolID != "" {
		return staged{}, httpapi.BadRequest("Subnet pools are not supported by this cloud.")
	}
	if b.CIDR == nil {
		return staged{}, httpapi.BadRequest("Bad subnets request: a cidr must be specified in the absence of a subnet pool")
	}
	version := 4
	if b.IPVersion != nil {
		version = int(*b.IPVersion)
		if version != 4 && version != 6 {
			return staged{}, httpapi.BadRequest("Invalid input for ip_version. Reason: %d is not in [4, 6].", version)
		}
	}
	info, err := s.subnetCIDR(*b.CIDR, version)
	if err != nil {
		return staged{}, err
	}
	t := now()
	sn := Subnet{ID: newID(), Project: project, NetworkID: *b.NetworkID, IPVersion: version, CIDR: info.prefix.String(),
		EnableDHCP: true, DNSNameservers: []string{}, HostRoutes: []HostRoute{}, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	// The default gateway is the first host, unless told otherwise (null: no gateway).
	sn.GatewayIP = info.firstHost.String()
	if err := applySubnet(&sn, b, info, true); err != nil {
		return staged{}, err
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
		sn.Tags = dedupTags(b.Tags)
	}
	put := func(tx *store.Tx) error {
		n, err := s.visibleNetwork(p, sn.NetworkID)
		if err != nil {
			return err
		}
		if !p.Sees(n.Project) {
			return httpapi.Forbidden("create_subnet on a network of another project is disallowed by policy")
		}
		if err := s.checkQuota(project, "subnet", 1); err != nil {
			return err
		}
		for _, sid := range n.Subnets {
			other, ok := s.subnets.Get(sid)
			if !ok {
				continue
			}
			op, err := netip.ParsePrefix(other.CIDR)
			if err == nil && overlaps(op, info.prefix) {
				return httpapi.BadRequest("Invalid input for operation: Requested subnet with cidr: %s for network: %s overlaps with another subnet.", sn.CIDR, n.ID)
			}
		}
		if err := s.subnets.Put(tx, sn.ID, sn); err != nil {
			return err
		}
		if _, err := s.networks.Modify(tx, n.ID, func(v *Network) error {
			v.Subnets = append(v.Subnets, sn.ID)
			v.Revision++
			return nil
		}); err != nil {
			return err
		}
		s.emit(tx, "subnet", sn.ID, project, "created", sn.CIDR)
		return s.reconcile(tx, taskNetworkSync, n.ID, n.Project)
	}
	return staged{put: put, view: func() map[string]any { return s.subnetView(sn) }}, nil
}

// applySubnet validates and applies the changeable attributes of b to sn. On create, pools
// default to the whole cidr minus the gateway.
func applySubnet(sn *Subnet, b *subnetFields, info cidrInfo, create bool) error {
	if b.Name != nil {
		if len(*b.Name) > 255 {
			return httpapi.BadRequest("Invalid input for name. Reason: exceeds maximum length of 255.")
		}
		sn.Name = *b.Name
	}
	if b.Description != nil {
		sn.Description = *b.Description
	}
	if b.EnableDHCP != nil {
		sn.EnableDHCP = *b.EnableDHCP
	}
	if b.IPv6AddressMode != nil || b.IPv6RAMode != nil {
		if sn.IPVersion != 6 {
			return httpapi.BadRequest("Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False or on an IPv4 subnet.")
		}
		for _, m := range []*string{b.IPv6AddressMode, b.IPv6RAMode} {
			if m != nil && *m != "" && *m != "slaac" && *m != "dhcpv6-stateful" && *m != "dhcpv6-stateless" {
				return httpapi.BadRequest("Invalid input for ipv6 mode. Reason: '%s' is not in ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'].", *m)
			}
		}
		if b.IPv6AddressMode != nil {
			sn.IPv6AddressMode = *b.IPv6AddressMode
		}
		if b.IPv6RAMode != nil {
			sn.IPv6RAMode = *b.IPv6RAMode
		}
	}
	if len(b.GatewayIP) > 0 {
		var gw *string
		if err := json.Unmarshal(b.GatewayIP, &gw); err != nil {
			return httpapi.BadRequest("Invalid input for gateway_ip. Reason: '%s' is not a valid IP address.", string(b.GatewayIP))
		}
		if gw == nil || *gw == "" {
			sn.GatewayIP = ""
		} else {
			a, err := netip.ParseAddr(*gw)
			if err != nil {
				return httpapi.BadRequest("Invalid input for gateway_ip. Reason: '%s' is not a valid IP address.", *gw)
			}
			if !info.prefix.Contains(a) || a == info.prefix.Addr() || (sn.IPVersion == 4 && a == lastAddr(info.prefix)) {
				return httpapi.BadRequest("Invalid input for operation: Gateway IP %s is not in subnet %s or is its network or broadcast address.", *gw, sn.CIDR)
			}
			sn.GatewayIP = a.String()
		}
	}
	if b.DNSNameservers != nil {
		seen := map[string]bool{}
		for _, d := range *b.DNSNameservers {
			if _, err := netip.ParseAddr(d); err != nil {
				return httpapi.BadRequest("Invalid input for dns_nameservers. Reason: '%s' is not a valid nameserver.", d)
			}
			if seen[d] {
				return httpapi.BadRequest("Invalid input for dns_nameservers. Reason: Duplicate nameserver '%s'.", d)
			}
			seen[d] = true
		}
		sn.DNSNameservers = append([]string{}, *b.DNSNameservers...)
	}
	if b.HostRoutes != nil {
		for _, hr := range *b.HostRoutes {
			if _, err := netip.ParsePrefix(hr.Destination); err != nil {
				return httpapi.BadRequest("Invalid input for host_routes. Reason: '%s' is not a valid IP subnet.", hr.Destination)
			}
			if _, err := netip.ParseAddr(hr.NextHop); err != nil {
				return httpapi.BadRequest("Invalid input for host_routes. Reason: '%s' is not a valid IP address.", hr.NextHop)
			}
		}
		sn.HostRoutes = append([]HostRoute{}, *b.HostRoutes...)
	}
	switch {
	case b.AllocationPools != nil:
		pools, err := checkPools(*b.AllocationPools, info)
		if err != nil {
			return err
		}
		sn.AllocationPools = pools
	case create:
		sn.AllocationPools = defaultPools(info, sn.GatewayIP)
	}
	if sn.GatewayIP != "" {
		gw := netip.MustParseAddr(sn.GatewayIP)
		for _, p := range sn.AllocationPools {
			if gw.Compare(netip.MustParseAddr(p.Start)) >= 0 && gw.Compare(netip.MustParseAddr(p.End)) <= 0 {
				return httpapi.Errorf(http.StatusConflict, "GatewayConflictWithAllocationPools",
					"Gateway ip %s conflicts with allocation pool %s-%s.", sn.GatewayIP, p.Start, p.End)
			}
		}
	}
	return nil
}

// defaultPools is the host range of the cidr without the gateway.
func defaultPools(info cidrInfo, gateway string) []AllocationPool {
	first, last := info.firstHost, info.lastHost
	if info.reserved.IsValid() && last.Compare(info.reserved.Addr()) >= 0 {
		last = info.reserved.Addr().Prev()
	}
	gw, err := netip.ParseAddr(gateway)
	if err != nil || gw.Compare(first) < 0 || gw.Compare(last) > 0 {
		return []AllocationPool{{Start: first.String(), End: last.String()}}
	}
	var out []AllocationPool
	if gw != first {
		out = append(out, AllocationPool{Start: first.String(), End: gw.Prev().String()})
	}
	if gw != last {
		out = append(out, AllocationPool{Start: gw.Next().String(), End: last.String()})
	}
	return out
}

// checkPools validates user-given pools: addresses inside the cidr's hosts, start <= end,
// not overlapping.
func checkPools(in []AllocationPool, info cidrInfo) ([]AllocationPool, error) {
	type rng struct{ a, b netip.Addr }
	var rs []rng
	for _, p := range in {
		a, err1 := netip.ParseAddr(p.Start)
		b, err2 := netip.ParseAddr(p.End)
		if err1 != nil || err2 != nil || a.BitLen() != info.prefix.Addr().BitLen() || b.BitLen() != a.BitLen() {
			return nil, httpapi.BadRequest("Invalid input for allocation_pools. Reason: '%s-%s' is not a valid IP range.", p.Start, p.End)
		}
		if a.Compare(b) > 0 {
			return nil, httpapi.BadRequest("Invalid input for operation: The allocation pool %s-%s is not valid: start is after end.", p.Start, p.End)
		}
		if a.Compare(info.firstHost) < 0 || b.Compare(info.lastHost) > 0 {
			return nil, httpapi.BadRequest("The allocation pool %s-%s spans beyond the subnet cidr %s.", p.Start, p.End, info.prefix)
		}
		if r := info.reserved; r.IsValid() && b.Compare(r.Addr()) >= 0 && a.Compare(lastAddr(r)) <= 0 {
			return nil, httpapi.BadRequest("The allocation pool %s-%s overlaps %s, which this cloud keeps for its routers and load balancers.", p.Start, p.End, r)
		}
		rs = append(rs, rng{a, b})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].a.Less(rs[j].a) })
	for i := 1; i < len(rs); i++ {
		if rs[i].a.Compare(rs[i-1].b) <= 0 {
			return nil, httpapi.BadRequest("Found overlapping allocation pools: %s-%s and %s-%s for subnet %s.",
				rs[i-1].a, rs[i-1].b, rs[i].a, rs[i].b, info.prefix)
		}
	}
	out := make([]AllocationPool, len(rs))
	for i, r := range rs {
		out[i] = AllocationPool{Start: r.a.String(), End: r.b.String()}
	}
	return out, nil
}

func (s *Service) updateSubnet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Subnet")
	if err != nil {
		return err
	}
	var body subnetBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Subnet == nil {
		return httpapi.BadRequest("Resource body required: 'subnet'.")
	}
	b := body.Subnet
	if b.CIDR != nil || b.NetworkID != nil || b.IPVersion != nil || b.ProjectID != "" || b.TenantID != "" || b.SubnetPoolID != nil {
		return httpapi.BadRequest("Cannot update read-only attribute: cidr, network_id, ip_version and project_id are fixed.")
	}
	p := caller(r)
	var sn Subnet
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, err := s.visibleSubnet(p, id)
		if err != nil {
			return err
		}
		if !p.Sees(cur.Project) {
			return httpapi.Forbidden("update_subnet is disallowed by policy")
		}
		info, err := s.subnetCIDR(cur.CIDR, cur.IPVersion)
		if err != nil {
			return err
		}
		sn, err = s.subnets.Modify(tx, id, func(v *Subnet) error {
			if err := applySubnet(v, b, info, false); err != nil {
				return err
			}
			v.Revision++
			v.Updated = now()
			return nil
		})
		if err != nil {
			return err
		}
		s.emit(tx, "subnet", id, sn.Project, "updated", sn.Name)
		return s.reconcile(tx, taskNetworkSync, sn.NetworkID, sn.Project)
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "subnet", s.subnetView(sn))
}

func (s *Service) deleteSubnet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Subnet")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		sn, err := s.visibleSubnet(p, id)
		if err != nil {
			return err
		}
		if !p.Sees(sn.Project) {
			return httpapi.Forbidden("delete_subnet is disallowed by policy")
		}
		if s.ipam.count(id) > 0 {
			inUse := s.ports.Count(func(_ string, v *Port) bool {
				if v.DeviceOwner == OwnerDHCP {
					return false
				}
				for _, ip := range v.FixedIPs {
					if ip.SubnetID == id {
						return true
					}
				}
				return false
			})
			if inUse > 0 {
				return httpapi.Errorf(http.StatusConflict, "SubnetInUse",
					"Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", id)
			}
		}
		if err := s.subnets.Delete(tx, id); err != nil {
			return err
		}
		s.ipam.dropSubnet(tx, id)
		if _, err := s.networks.Modify(tx, sn.NetworkID, func(v *Network) error {
			out := v.Subnets[:0]
			for _, x := range v.Subnets {
				if x != id {
					out = append(out, x)
				}
			}
			v.Subnets = out
			v.Revision++
			return nil
		}); err != nil {
			return err
		}
		s.emit(tx, "subnet", id, sn.Project, "deleted", sn.CIDR)
		return s.reconcile(tx, taskNetworkSync, sn.NetworkID, sn.Project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
