package loadbalancer

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) lbRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/loadbalancers", "loadbalancer.list", s.listLBs)
	rt.Handle("POST "+base+"/loadbalancers", "loadbalancer.create", s.createLB)
	rt.Handle("GET "+base+"/loadbalancers/{id}", "loadbalancer.get", s.getLB)
	rt.Handle("PUT "+base+"/loadbalancers/{id}", "loadbalancer.update", s.updateLB)
	rt.Handle("DELETE "+base+"/loadbalancers/{id}", "loadbalancer.delete", s.deleteLB)
	rt.Handle("GET "+base+"/loadbalancers/{id}/status", "loadbalancer.status", s.lbStatus)
	rt.Handle("GET "+base+"/loadbalancers/{id}/statuses", "loadbalancer.status", s.lbStatus)
	rt.Handle("GET "+base+"/loadbalancers/{id}/stats", "loadbalancer.stats", s.lbStats)
	rt.Handle("PUT "+base+"/loadbalancers/{id}/failover", "loadbalancer.failover", s.failoverLB)
}

// lbView is a load balancer as the API shows it.
type lbView struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	ProvisioningStatus string   `json:"provisioning_status"`
	OperatingStatus    string   `json:"operating_status"`
	AdminStateUp       bool     `json:"admin_state_up"`
	ProjectID          string   `json:"project_id"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	VipAddress         string   `json:"vip_address"`
	VipPortID          string   `json:"vip_port_id"`
	VipSubnetID        string   `json:"vip_subnet_id"`
	VipNetworkID       string   `json:"vip_network_id"`
	VipQosPolicyID     *string  `json:"vip_qos_policy_id"`
	VipSgIDs           []string `json:"vip_sg_ids"`
	VipVnicType        string   `json:"vip_vnic_type"`
	AdditionalVips     []any    `json:"additional_vips"`
	Listeners          []idOnly `json:"listeners"`
	Pools              []idOnly `json:"pools"`
	Provider           string   `json:"provider"`
	FlavorID           *string  `json:"flavor_id"`
	AvailabilityZone   *string  `json:"availability_zone"`
	Tags               []string `json:"tags"`
}

func viewLB(lb LoadBalancer) lbView {
	return lbView{
		ID: lb.ID, Name: lb.Name, Description: lb.Description,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus,
		AdminStateUp: lb.AdminStateUp, ProjectID: lb.ProjectID,
		CreatedAt: fmtTime(lb.CreatedAt), UpdatedAt: fmtTimePtr(lb.UpdatedAt),
		VipAddress: lb.VipAddress, VipPortID: lb.VipPortID, VipSubnetID: lb.VipSubnetID,
		VipNetworkID: lb.VipNetworkID, VipQosPolicyID: strPtr(lb.VipQosPolicyID),
		VipSgIDs: []string{}, VipVnicType: "normal", AdditionalVips: []any{},
		Listeners: idsOf(lb.ListenerIDs), Pools: idsOf(lb.PoolIDs),
		Provider: lb.Provider, FlavorID: strPtr(lb.FlavorID), AvailabilityZone: strPtr(lb.AvailabilityZone),
		Tags: nonNil(lb.Tags),
	}
}

var lbFields = fields[LoadBalancer]{
	"id":                  func(v *LoadBalancer) string { return v.ID },
	"name":                func(v *LoadBalancer) string { return v.Name },
	"description":         func(v *LoadBalancer) string { return v.Description },
	"project_id":          func(v *LoadBalancer) string { return v.ProjectID },
	"provisioning_status": func(v *LoadBalancer) string { return v.ProvisioningStatus },
	"operating_status":    func(v *LoadBalancer) string { return v.OperatingStatus },
	"admin_state_up":      func(v *LoadBalancer) string { return boolStr(v.AdminStateUp) },
	"vip_address":         func(v *LoadBalancer) string { return v.VipAddress },
	"vip_port_id":         func(v *LoadBalancer) string { return v.VipPortID },
	"vip_subnet_id":       func(v *LoadBalancer) string { return v.VipSubnetID },
	"vip_network_id":      func(v *LoadBalancer) string { return v.VipNetworkID },
	"vip_qos_policy_id":   func(v *LoadBalancer) string { return v.VipQosPolicyID },
	"provider":            func(v *LoadBalancer) string { return v.Provider },
	"flavor_id":           func(v *LoadBalancer) string { return v.FlavorID },
	"availability_zone":   func(v *LoadBalancer) string { return v.AvailabilityZone },
	"created_at":          func(v *LoadBalancer) string { return sortTime(v.CreatedAt) },
	"updated_at": func(v *LoadBalancer) string {
		if v.UpdatedAt == nil {
			return ""
		}
		return sortTime(*v.UpdatedAt)
	},
}

func (s *Service) listLBs(w http.ResponseWriter, r *http.Request) error {
	project, err := listScope(r)
	if err != nil {
		return err
	}
	return writeList(w, r, "loadbalancers", s.lbs, lbFields, func(v *LoadBalancer) []string { return v.Tags },
		func(v *LoadBalancer) bool { return project == "" || v.ProjectID == project }, s.lbCandidates, viewLB)
}

// lookupLB returns the load balancer id if the caller may see it: 404 when it does not exist,
// 403 when it belongs to another project (Octavia's policy check).
func (s *Service) lookupLB(r *http.Request, id string) (LoadBalancer, error) {
	lb, ok := s.lbs.Get(id)
	if !ok {
		return lb, errNotFound("Load Balancer", id)
	}
	return lb, authorize(r, lb.ProjectID)
}

func (s *Service) getLB(w http.ResponseWriter, r *http.Request) error {
	lb, err := s.lookupLB(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"loadbalancer": viewLB(lb)})
	return nil
}

// lbCreate is the body of POST /loadbalancers.
type lbCreate struct {
	Name             opt[string]            `json:"name"`
	Description      opt[string]            `json:"description"`
	AdminStateUp     opt[bool]              `json:"admin_state_up"`
	VipAddress       opt[string]            `json:"vip_address"`
	VipPortID        opt[string]            `json:"vip_port_id"`
	VipSubnetID      opt[string]            `json:"vip_subnet_id"`
	VipNetworkID     opt[string]            `json:"vip_network_id"`
	VipQosPolicyID   opt[string]            `json:"vip_qos_policy_id"`
	VipSgIDs         opt[[]string]          `json:"vip_sg_ids"`
	AdditionalVips   opt[[]any]             `json:"additional_vips"`
	ProjectID        opt[string]            `json:"project_id"`
	TenantID         opt[string]            `json:"tenant_id"`
	Provider         opt[string]            `json:"provider"`
	FlavorID         opt[string]            `json:"flavor_id"`
	AvailabilityZone opt[string]            `json:"availability_zone"`
	Tags             opt[[]string]          `json:"tags"`
	Listeners        opt[[]json.RawMessage] `json:"listeners"`
	Pools            opt[[]json.RawMessage] `json:"pools"`
}

func (b *lbCreate) validate() error {
	return firstErr(
		checkString("name", b.Name, 255), checkString("description", b.Description, 255),
		checkIP("vip_address", b.VipAddress), checkUUID("vip_port_id", b.VipPortID),
		checkUUID("vip_subnet_id", b.VipSubnetID), checkUUID("vip_network_id", b.VipNetworkID),
		checkUUID("vip_qos_policy_id", b.VipQosPolicyID), checkUUID("flavor_id", b.FlavorID),
		checkString("project_id", b.ProjectID, 36), checkString("provider", b.Provider, 64),
		checkString("availability_zone", b.AvailabilityZone, 255), checkTags(b.Tags),
	)
}

// vipPlan is where a new load balancer's VIP goes, as far as it is known before the port exists.
type vipPlan struct {
	portID, networkID, subnetID, address string
}

// planVIP is Octavia's _validate_vip_request_object against what Neutron knows.
func (s *Service) planVIP(b *lbCreate) (vipPlan, error) {
	p := vipPlan{portID: orEmpty(b.VipPortID), networkID: orEmpty(b.VipNetworkID), subnetID: orEmpty(b.VipSubnetID), address: orEmpty(b.VipAddress)}
	if p.portID == "" && p.networkID == "" && p.subnetID == "" {
		return p, httpapi.Errorf(http.StatusBadRequest, "VIPValidationException", "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
	}
	var subnet services.SubnetInfo
	if p.subnetID != "" {
		var ok bool
		if subnet, ok = s.ports.Subnet(p.subnetID); !ok {
			return p, errInvalidSubresource("Subnet", p.subnetID)
		}
	}
	switch {
	case p.portID != "":
		port, ok := s.ports.Port(p.portID)
		if !ok {
			return p, errInvalidSubresource("Port", p.portID)
		}
		p.networkID = port.NetworkID
		switch {
		case p.subnetID != "":
			i := slices.IndexFunc(port.FixedIPs, func(f services.FixedIP) bool { return f.SubnetID == p.subnetID })
			if i < 0 {
				return p, errValidation("No VIP address found on the specified VIP port within the specified subnet.")
			}
			p.address = port.FixedIPs[i].IPAddress
		case p.address != "":
			want := net.ParseIP(p.address)
			i := slices.IndexFunc(port.FixedIPs, func(f services.FixedIP) bool { return net.ParseIP(f.IPAddress).Equal(want) })
			if i < 0 {
				return p, errValidation("Specified VIP address not found on the specified VIP port.")
			}
			p.subnetID = port.FixedIPs[i].SubnetID
		case len(port.FixedIPs) == 1:
			p.subnetID, p.address = port.FixedIPs[0].SubnetID, port.FixedIPs[0].IPAddress
		default:
			return p, errValidation("VIP port's subnet could not be determined. Please specify either a VIP subnet or address.")
		}
	case p.networkID != "":
		if p.subnetID != "" && subnet.NetworkID != p.networkID {
			return p, errInvalidSubresource("Subnet", p.subnetID)
		}
	default:
		p.networkID = subnet.NetworkID
	}
	if p.address != "" && subnet.CIDR != "" {
		if _, cidr, err := net.ParseCIDR(subnet.CIDR); err == nil && !cidr.Contains(net.ParseIP(p.address)) {
			return p, errValidation("VIP address %s is not in subnet %s.", p.address, p.subnetID)
		}
	}
	return p, nil
}

func (s *Service) providerEnabled(name string) bool {
	return slices.ContainsFunc(s.cfg.Providers, func(p Provider) bool { return p.Name == name })
}

func (s *Service) createLB(w http.ResponseWriter, r *http.Request) error {
	var b lbCreate
	if err := decodeRoot(r, "loadbalancer", &b); err != nil {
		return err
	}
	if err := b.validate(); err != nil {
		return err
	}
	asked := orEmpty(b.ProjectID)
	if asked == "" {
		asked = orEmpty(b.TenantID)
	}
	project, err := ownerFor(r, asked)
	if err != nil {
		return err
	}
	if b.AdditionalVips.has() && len(b.AdditionalVips.V) > 0 {
		return errValidation("additional_vips are not supported by this deployment.")
	}
	if b.VipSgIDs.has() && len(b.VipSgIDs.V) > 0 {
		return errValidation("vip_sg_ids are not supported by this deployment.")
	}
	if b.VipQosPolicyID.has() && !s.ports.QoSPolicyExists(b.VipQosPolicyID.V) {
		return errInvalidSubresource("qos_policy", b.VipQosPolicyID.V)
	}
	if b.FlavorID.has() {
		return errValidation("Invalid flavor_id.")
	}
	if b.AvailabilityZone.has() {
		return errValidation("Invalid availability zone.")
	}
	provider := s.cfg.Providers[0].Name
	if b.Provider.has() {
		if b.Provider.V == "octavia" {
			b.Provider.V = defaultProvider
		}
		if !s.providerEnabled(b.Provider.V) {
			return httpapi.Errorf(http.StatusBadRequest, "ProviderNotEnabled", "Provider '%s' is not enabled.", b.Provider.V)
		}
		provider = b.Provider.V
	}
	plan, err := s.planVIP(&b)
	if err != nil {
		return err
	}
	lb := LoadBalancer{
		ID: uuid.NewString(), ProjectID: project, Name: orEmpty(b.Name), Description: orEmpty(b.Description),
		AdminStateUp:       !b.AdminStateUp.has() || b.AdminStateUp.V,
		ProvisioningStatus: StatusPendingCreate, OperatingStatus: OpOffline,
		Provider: provider, Tags: tagsOf(b.Tags), CreatedAt: now(),
	}
	if b.VipQosPolicyID.has() {
		lb.VipQosPolicyID = b.VipQosPolicyID.V
	}
	graph, err := s.buildLBGraph(&b, lb.ID)
	if err != nil {
		return err
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.checkQuota(project, "loadbalancer", 1); err != nil {
			return err
		}
		port, err := s.ports.AttachPort(tx, services.PortRequest{
			Project: project, NetworkID: plan.networkID, SubnetID: plan.subnetID, FixedIP: plan.address,
			PortID: plan.portID, DeviceID: "lb-" + lb.ID, DeviceOwner: vipDeviceOwner, Name: "octavia-lb-" + lb.ID,
			QoSPolicyID: lb.VipQosPolicyID, // Octavia applies the policy to the VIP port
		})
		if err != nil {
			return err
		}
		lb.VipPortID, lb.VipNetworkID, lb.VipPortCreated = port.ID, port.NetworkID, port.Created
		lb.VipSubnetID, lb.VipAddress = plan.subnetID, plan.address
		for _, f := range port.FixedIPs {
			if (plan.subnetID == "" || f.SubnetID == plan.subnetID) && (plan.address == "" || net.ParseIP(f.IPAddress).Equal(net.ParseIP(plan.address))) {
				lb.VipSubnetID, lb.VipAddress = f.SubnetID, f.IPAddress
				break
			}
		}
		if ext, ok := s.ports.ExternalNetwork(); ok && ext == lb.VipNetworkID {
			lb.VipExternal = true
		}
		if err := s.putLBGraph(tx, &lb, graph); err != nil {
			return err
		}
		if err := s.putLB(tx, lb); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", lb.ID, project, "created", "vip "+lb.VipAddress, "")
		return s.schedule(tx, lb)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"loadbalancer": viewLBFull(lb, graph)})
	return nil
}

// lbUpdate is the body of PUT /loadbalancers/{id}.
type lbUpdate struct {
	Name           opt[string]   `json:"name"`
	Description    opt[string]   `json:"description"`
	AdminStateUp   opt[bool]     `json:"admin_state_up"`
	VipQosPolicyID opt[string]   `json:"vip_qos_policy_id"`
	VipSgIDs       opt[[]string] `json:"vip_sg_ids"`
	Tags           opt[[]string] `json:"tags"`
}

func (s *Service) updateLB(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var b lbUpdate
	if err := decodeRoot(r, "loadbalancer", &b); err != nil {
		return err
	}
	if err := firstErr(checkString("name", b.Name, 255), checkString("description", b.Description, 255),
		checkUUID("vip_qos_policy_id", b.VipQosPolicyID), checkTags(b.Tags)); err != nil {
		return err
	}
	if b.AdminStateUp.Set && b.AdminStateUp.Null {
		return errInput("admin_state_up", "None", "Value should be a boolean.")
	}
	var lb LoadBalancer
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		if lb, err = s.lookupLB(r, id); err != nil {
			return err
		}
		if b.VipQosPolicyID.has() && b.VipQosPolicyID.V != lb.VipQosPolicyID && !s.ports.QoSPolicyExists(b.VipQosPolicyID.V) {
			return errInvalidSubresource("qos_policy", b.VipQosPolicyID.V)
		}
		if b.VipSgIDs.has() && len(b.VipSgIDs.V) > 0 {
			return errValidation("vip_sg_ids are not supported by this deployment.")
		}
		// Deviation: Octavia only accepts ACTIVE; an update of an ERROR load balancer
		// re-applies its configuration here.
		if lb.ProvisioningStatus != StatusActive && lb.ProvisioningStatus != StatusError {
			return errPendingState(lb.ProvisioningStatus, id)
		}
		if b.Name.Set {
			lb.Name = b.Name.V
		}
		if b.Description.Set {
			lb.Description = b.Description.V
		}
		if b.AdminStateUp.has() {
			lb.AdminStateUp = b.AdminStateUp.V
		}
		if b.VipQosPolicyID.Null {
			lb.VipQosPolicyID = ""
		} else if b.VipQosPolicyID.has() {
			lb.VipQosPolicyID = b.VipQosPolicyID.V
		}
		if b.VipQosPolicyID.Null || b.VipQosPolicyID.has() {
			if err := s.ports.SetPortQoS(tx, lb.VipPortID, lb.VipQosPolicyID); err != nil {
				return err
			}
		}
		if b.Tags.Set {
			lb.Tags = tagsOf(b.Tags)
		}
		lb.ProvisioningStatus = StatusPendingUpdate
		lb.UpdatedAt = nowPtr()
		if err := s.putLB(tx, lb); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", id, lb.ProjectID, "status", StatusPendingUpdate, "")
		return s.schedule(tx, lb)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"loadbalancer": viewLB(lb)})
	return nil
}

func boolFromString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

func (s *Service) deleteLB(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cascade := boolFromString(r.URL.Query().Get("cascade"))
	err := s.env.DB.Update(func(tx *store.Tx) error {
		lb, err := s.lookupLB(r, id)
		if err != nil {
			return err
		}
		if (len(lb.ListenerIDs) > 0 || len(lb.PoolIDs) > 0) && !cascade {
			return errValidation("Cannot delete Load Balancer %s - it has children", id)
		}
		if lb.ProvisioningStatus != StatusActive && lb.ProvisioningStatus != StatusError {
			return errPendingState(lb.ProvisioningStatus, id)
		}
		lb.ProvisioningStatus = StatusPendingDelete
		lb.UpdatedAt = nowPtr()
		if err := s.putLB(tx, lb); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", id, lb.ProjectID, "status", StatusPendingDelete, "")
		if err := s.markTree(tx, lb, StatusPendingDelete); err != nil {
			return err
		}
		return s.schedule(tx, lb)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// markTree sets the provisioning status of every child of lb.
func (s *Service) markTree(tx *store.Tx, lb LoadBalancer, status string) error {
	for _, id := range lb.ListenerIDs {
		if _, err := s.listeners.Modify(tx, id, func(v *Listener) error { v.ProvisioningStatus = status; return nil }); err != nil {
			return err
		}
	}
	for _, pid := range lb.PoolIDs {
		p, err := s.pools.Modify(tx, pid, func(v *Pool) error { v.ProvisioningStatus = status; return nil })
		if err != nil {
			return err
		}
		for _, mid := range p.MemberIDs {
			if _, err := s.members.Modify(tx, mid, func(v *Member) error { v.ProvisioningStatus = status; return nil }); err != nil {
				return err
			}
		}
		if p.HealthMonitorID != "" {
			if _, err := s.monitors.Modify(tx, p.HealthMonitorID, func(v *HealthMonitor) error { v.ProvisioningStatus = status; return nil }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) failoverLB(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		lb, err := s.lookupLB(r, id)
		if err != nil {
			return err
		}
		if lb.ProvisioningStatus != StatusActive && lb.ProvisioningStatus != StatusError {
			return errPendingState(lb.ProvisioningStatus, id)
		}
		lb.ProvisioningStatus = StatusPendingUpdate
		lb.UpdatedAt = nowPtr()
		if err := s.putLB(tx, lb); err != nil {
			return err
		}
		s.emit(tx, "loadbalancer", id, lb.ProjectID, "status", StatusPendingUpdate, "failover")
		return s.schedule(tx, lb)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type statsView struct {
	BytesIn           int `json:"bytes_in"`
	BytesOut          int `json:"bytes_out"`
	ActiveConnections int `json:"active_connections"`
	TotalConnections  int `json:"total_connections"`
	RequestErrors     int `json:"request_errors"`
}

func (s *Service) lbStats(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.lookupLB(r, r.PathValue("id")); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"stats": statsView{}})
	return nil
}

type memberStatus struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	OperatingStatus    string `json:"operating_status"`
	ProvisioningStatus string `json:"provisioning_status"`
	Address            string `json:"address"`
	ProtocolPort       int    `json:"protocol_port"`
}

type monitorStatus struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Type               string `json:"type"`
	ProvisioningStatus string `json:"provisioning_status"`
	OperatingStatus    string `json:"operating_status"`
}

type poolStatus struct {
	ID                 string         `json:"id"`
	Name               string         `json:"name"`
	ProvisioningStatus string         `json:"provisioning_status"`
	OperatingStatus    string         `json:"operating_status"`
	HealthMonitor      *monitorStatus `json:"health_monitor,omitempty"`
	Members            []memberStatus `json:"members"`
}

type listenerStatus struct {
	ID                 string       `json:"id"`
	Name               string       `json:"name"`
	OperatingStatus    string       `json:"operating_status"`
	ProvisioningStatus string       `json:"provisioning_status"`
	Pools              []poolStatus `json:"pools"`
}

type lbStatusView struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	OperatingStatus    string           `json:"operating_status"`
	ProvisioningStatus string           `json:"provisioning_status"`
	Listeners          []listenerStatus `json:"listeners"`
}

func (s *Service) lbStatus(w http.ResponseWriter, r *http.Request) error {
	lb, err := s.lookupLB(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := lbStatusView{ID: lb.ID, Name: lb.Name, OperatingStatus: lb.OperatingStatus, ProvisioningStatus: lb.ProvisioningStatus, Listeners: []listenerStatus{}}
	for _, lid := range lb.ListenerIDs {
		l, ok := s.listeners.Get(lid)
		if !ok {
			continue
		}
		ls := listenerStatus{ID: l.ID, Name: l.Name, OperatingStatus: l.OperatingStatus, ProvisioningStatus: l.ProvisioningStatus, Pools: []poolStatus{}}
		if p, ok := s.pools.Get(l.DefaultPoolID); ok && l.DefaultPoolID != "" {
			ps := poolStatus{ID: p.ID, Name: p.Name, ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus, Members: []memberStatus{}}
			if hm, ok := s.monitors.Get(p.HealthMonitorID); ok && p.HealthMonitorID != "" {
				ps.HealthMonitor = &monitorStatus{ID: hm.ID, Name: hm.Name, Type: hm.Type, ProvisioningStatus: hm.ProvisioningStatus, OperatingStatus: hm.OperatingStatus}
			}
			for _, mid := range p.MemberIDs {
				if m, ok := s.members.Get(mid); ok {
					ps.Members = append(ps.Members, memberStatus{ID: m.ID, Name: m.Name, OperatingStatus: m.OperatingStatus, ProvisioningStatus: m.ProvisioningStatus, Address: m.Address, ProtocolPort: m.ProtocolPort})
				}
			}
			ls.Pools = append(ls.Pools, ps)
		}
		v.Listeners = append(v.Listeners, ls)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"statuses": map[string]any{"loadbalancer": v}})
	return nil
}
