package loadbalancer

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) memberRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/pools/{pool}/members", "member.list", s.listMembers)
	rt.Handle("POST "+base+"/pools/{pool}/members", "member.create", s.createMember)
	rt.Handle("PUT "+base+"/pools/{pool}/members", "member.batch_update", s.batchMembers)
	rt.Handle("GET "+base+"/pools/{pool}/members/{id}", "member.get", s.getMember)
	rt.Handle("PUT "+base+"/pools/{pool}/members/{id}", "member.update", s.updateMember)
	rt.Handle("DELETE "+base+"/pools/{pool}/members/{id}", "member.delete", s.deleteMember)
}

type memberView struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	OperatingStatus    string   `json:"operating_status"`
	ProvisioningStatus string   `json:"provisioning_status"`
	AdminStateUp       bool     `json:"admin_state_up"`
	Address            string   `json:"address"`
	ProtocolPort       int      `json:"protocol_port"`
	Weight             int      `json:"weight"`
	Backup             bool     `json:"backup"`
	SubnetID           *string  `json:"subnet_id"`
	ProjectID          string   `json:"project_id"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	MonitorAddress     *string  `json:"monitor_address"`
	MonitorPort        *int     `json:"monitor_port"`
	Tags               []string `json:"tags"`
	VnicType           string   `json:"vnic_type"`
}

func viewMember(m Member) memberView {
	return memberView{
		ID: m.ID, Name: m.Name, OperatingStatus: m.OperatingStatus, ProvisioningStatus: m.ProvisioningStatus,
		AdminStateUp: m.AdminStateUp, Address: m.Address, ProtocolPort: m.ProtocolPort, Weight: m.Weight,
		Backup: m.Backup, SubnetID: strPtr(m.SubnetID), ProjectID: m.ProjectID,
		CreatedAt: fmtTime(m.CreatedAt), UpdatedAt: fmtTimePtr(m.UpdatedAt),
		MonitorAddress: strPtr(m.MonitorAddress), MonitorPort: m.MonitorPort, Tags: nonNil(m.Tags), VnicType: "normal",
	}
}

var memberFields = fields[Member]{
	"id":                  func(v *Member) string { return v.ID },
	"name":                func(v *Member) string { return v.Name },
	"project_id":          func(v *Member) string { return v.ProjectID },
	"address":             func(v *Member) string { return v.Address },
	"protocol_port":       func(v *Member) string { return strconv.Itoa(v.ProtocolPort) },
	"weight":              func(v *Member) string { return strconv.Itoa(v.Weight) },
	"backup":              func(v *Member) string { return boolStr(v.Backup) },
	"subnet_id":           func(v *Member) string { return v.SubnetID },
	"admin_state_up":      func(v *Member) string { return boolStr(v.AdminStateUp) },
	"provisioning_status": func(v *Member) string { return v.ProvisioningStatus },
	"operating_status":    func(v *Member) string { return v.OperatingStatus },
	"monitor_address":     func(v *Member) string { return v.MonitorAddress },
	"monitor_port": func(v *Member) string {
		if v.MonitorPort == nil {
			return ""
		}
		return strconv.Itoa(*v.MonitorPort)
	},
	"created_at": func(v *Member) string { return sortTime(v.CreatedAt) },
}

// memberPool returns the pool of a member route if the caller may see it.
func (s *Service) memberPool(r *http.Request) (Pool, error) {
	return s.lookupPool(r, r.PathValue("pool"))
}

func (s *Service) listMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := s.memberPool(r)
	if err != nil {
		return err
	}
	return writeList(w, r, "members", s.members, memberFields, func(v *Member) []string { return v.Tags },
		func(v *Member) bool { return v.PoolID == p.ID }, nil, viewMember)
}

func (s *Service) lookupMember(r *http.Request) (Pool, Member, error) {
	p, err := s.memberPool(r)
	if err != nil {
		return p, Member{}, err
	}
	id := r.PathValue("id")
	m, ok := s.members.Get(id)
	if !ok || m.PoolID != p.ID {
		return p, m, errNotFound("Member", id)
	}
	return p, m, nil
}

func (s *Service) getMember(w http.ResponseWriter, r *http.Request) error {
	_, m, err := s.lookupMember(r)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"member": viewMember(m)})
	return nil
}

// memberBody holds the attributes of a member create or update.
type memberBody struct {
	Name           opt[string]   `json:"name"`
	AdminStateUp   opt[bool]     `json:"admin_state_up"`
	Address        opt[string]   `json:"address"`
	ProtocolPort   opt[int]      `json:"protocol_port"`
	Weight         opt[int]      `json:"weight"`
	Backup         opt[bool]     `json:"backup"`
	SubnetID       opt[string]   `json:"subnet_id"`
	ProjectID      opt[string]   `json:"project_id"`
	TenantID       opt[string]   `json:"tenant_id"`
	MonitorPort    opt[int]      `json:"monitor_port"`
	MonitorAddress opt[string]   `json:"monitor_address"`
	Tags           opt[[]string] `json:"tags"`
	RequestSRIOV   opt[bool]     `json:"request_sriov"`
}

func (b *memberBody) validate(create bool) error {
	if create {
		if !b.Address.has() {
			return errInput("address", "None", "Mandatory field missing.")
		}
		if !b.ProtocolPort.has() {
			return errInput("protocol_port", "None", "Mandatory field missing.")
		}
	}
	if err := firstErr(
		checkString("name", b.Name, 255), checkIP("address", b.Address), checkRange("protocol_port", b.ProtocolPort, 1, 65535),
		checkRange("weight", b.Weight, 0, maxWeight), checkUUID("subnet_id", b.SubnetID),
		checkString("project_id", b.ProjectID, 36), checkRange("monitor_port", b.MonitorPort, 1, 65535),
		checkIP("monitor_address", b.MonitorAddress), checkTags(b.Tags),
	); err != nil {
		return err
	}
	if b.RequestSRIOV.has() && b.RequestSRIOV.V {
		return httpapi.Errorf(http.StatusBadRequest, "MemberSRIOVDisabled", "The load balancer flavor does not allow SR-IOV member ports.")
	}
	return nil
}

// apply copies the attributes given onto m; null resets weight and backup to their defaults.
func (b *memberBody) apply(m *Member) {
	if b.Name.Set {
		m.Name = b.Name.V
	}
	if b.AdminStateUp.has() {
		m.AdminStateUp = b.AdminStateUp.V
	}
	if b.Weight.Set {
		m.Weight = defaultWeight
		if b.Weight.has() {
			m.Weight = b.Weight.V
		}
	}
	if b.Backup.Set {
		m.Backup = b.Backup.has() && b.Backup.V
	}
	if b.MonitorPort.Set {
		m.MonitorPort = nil
		if b.MonitorPort.has() {
			v := b.MonitorPort.V
			m.MonitorPort = &v
		}
	}
	if b.MonitorAddress.Set {
		m.MonitorAddress = b.MonitorAddress.V
	}
	if b.Tags.Set {
		m.Tags = tagsOf(b.Tags)
	}
}

func (s *Service) newMember(b *memberBody, p Pool) Member {
	m := Member{
		ID: uuid.NewString(), PoolID: p.ID, LoadBalancerID: p.LoadBalancerID, ProjectID: p.ProjectID,
		Address: net.ParseIP(b.Address.V).String(), ProtocolPort: b.ProtocolPort.V, Weight: defaultWeight,
		AdminStateUp: true, SubnetID: orEmpty(b.SubnetID),
		ProvisioningStatus: StatusPendingCreate, OperatingStatus: OpNoMonitor, CreatedAt: now(),
	}
	if p.HealthMonitorID != "" {
		m.OperatingStatus = OpOffline
	}
	b.apply(&m)
	return m
}

func (s *Service) checkMemberSubnet(b *memberBody) error {
	if b.SubnetID.has() {
		if _, ok := s.ports.Subnet(b.SubnetID.V); !ok {
			return errNotFound("Subnet", b.SubnetID.V)
		}
	}
	return nil
}

func (s *Service) memberTaken(p Pool, self, address string, port int) error {
	want := net.ParseIP(address)
	for _, id := range p.MemberIDs {
		o, ok := s.members.Get(id)
		if ok && o.ID != self && o.ProtocolPort == port && net.ParseIP(o.Address).Equal(want) {
			return httpapi.Errorf(http.StatusConflict, "DuplicateMemberEntry", "Another member on this pool is already using ip %s on protocol_port %d", address, port)
		}
	}
	return nil
}

func (s *Service) createMember(w http.ResponseWriter, r *http.Request) error {
	var b memberBody
	if err := decodeRoot(r, "member", &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	var m Member
	err := s.env.DB.Update(func(tx *store.Tx) error {
		p, err := s.memberPool(r)
		if err != nil {
			return err
		}
		if err := s.checkMemberSubnet(&b); err != nil {
			return err
		}
		if err := s.checkQuota(p.ProjectID, "member", 1); err != nil {
			return err
		}
		m = s.newMember(&b, p)
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		if err := s.memberTaken(p, "", m.Address, m.ProtocolPort); err != nil {
			return err
		}
		if err := s.members.Put(tx, m.ID, m); err != nil {
			return err
		}
		if _, err := s.pools.Modify(tx, p.ID, func(v *Pool) error { v.MemberIDs = withID(v.MemberIDs, m.ID); return nil }); err != nil {
			return err
		}
		s.emit(tx, "member", m.ID, m.ProjectID, "created", m.Address+":"+strconv.Itoa(m.ProtocolPort), "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"member": viewMember(m)})
	return nil
}

func (s *Service) updateMember(w http.ResponseWriter, r *http.Request) error {
	var b memberBody
	if err := decodeRoot(r, "member", &b); err != nil {
		return err
	}
	if b.Address.Set || b.ProtocolPort.Set || b.SubnetID.Set {
		return errInput("address", orEmpty(b.Address), "address, protocol_port and subnet_id cannot be updated.")
	}
	if err := b.validate(false); err != nil {
		return err
	}
	var m Member
	err := s.env.DB.Update(func(tx *store.Tx) error {
		p, cur, err := s.lookupMember(r)
		if err != nil {
			return err
		}
		m = cur
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		b.apply(&m)
		m.ProvisioningStatus = StatusPendingUpdate
		m.UpdatedAt = nowPtr()
		if err := s.members.Put(tx, m.ID, m); err != nil {
			return err
		}
		s.emit(tx, "member", m.ID, m.ProjectID, "status", StatusPendingUpdate, "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"member": viewMember(m)})
	return nil
}

func (s *Service) deleteMember(w http.ResponseWriter, r *http.Request) error {
	err := s.env.DB.Update(func(tx *store.Tx) error {
		p, m, err := s.lookupMember(r)
		if err != nil {
			return err
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		m.ProvisioningStatus = StatusPendingDelete
		m.UpdatedAt = nowPtr()
		if err := s.members.Put(tx, m.ID, m); err != nil {
			return err
		}
		s.emit(tx, "member", m.ID, m.ProjectID, "status", StatusPendingDelete, "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// batchMembers is PUT /pools/{pool}/members: the body's list becomes the pool's members
// (members are matched by address and port); with additive_only, absent members stay.
func (s *Service) batchMembers(w http.ResponseWriter, r *http.Request) error {
	var root struct {
		Members opt[[]json.RawMessage] `json:"members"`
	}
	if err := httpapi.Decode(r, &root); err != nil {
		return err
	}
	if !root.Members.has() {
		return errInput("members", "None", "Mandatory field missing.")
	}
	bodies := make([]memberBody, len(root.Members.V))
	for i, raw := range root.Members.V {
		if err := json.Unmarshal(raw, &bodies[i]); err != nil {
			return httpapi.BadRequest("Invalid input for members[%d]: %v", i, err)
		}
		if err := bodies[i].validate(true); err != nil {
			return err
		}
	}
	additive := boolFromString(r.URL.Query().Get("additive_only"))
	err := s.env.DB.Update(func(tx *store.Tx) error {
		p, err := s.memberPool(r)
		if err != nil {
			return err
		}
		type key struct {
			addr string
			port int
		}
		old := map[key]Member{}
		for _, id := range p.MemberIDs {
			if m, ok := s.members.Get(id); ok {
				old[key{net.ParseIP(m.Address).String(), m.ProtocolPort}] = m
			}
		}
		var created, updated []Member
		seen := map[key]bool{}
		for i := range bodies {
			b := &bodies[i]
			k := key{net.ParseIP(b.Address.V).String(), b.ProtocolPort.V}
			if seen[k] {
				return errValidation("Member must be updated only once in the same request.")
			}
			seen[k] = true
			if m, ok := old[k]; ok {
				// Octavia renders the POST defaults of unset attributes on update.
				m.AdminStateUp = !b.AdminStateUp.has() || b.AdminStateUp.V
				m.Weight, m.Backup = defaultWeight, false
				b.apply(&m)
				m.ProvisioningStatus = StatusPendingUpdate
				m.UpdatedAt = nowPtr()
				updated = append(updated, m)
				continue
			}
			if err := s.checkMemberSubnet(b); err != nil {
				return err
			}
			created = append(created, s.newMember(b, p))
		}
		var deleted []Member
		if !additive {
			for k, m := range old {
				if !seen[k] {
					deleted = append(deleted, m)
				}
			}
		}
		if len(created)+len(updated)+len(deleted) == 0 {
			return nil
		}
		if n := len(created) - len(deleted); n > 0 {
			if err := s.checkQuota(p.ProjectID, "member", n); err != nil {
				return err
			}
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		ids := slices.Clone(p.MemberIDs)
		for _, m := range created {
			if err := s.members.Put(tx, m.ID, m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
			s.emit(tx, "member", m.ID, m.ProjectID, "created", m.Address+":"+strconv.Itoa(m.ProtocolPort), "")
		}
		for _, m := range updated {
			if err := s.members.Put(tx, m.ID, m); err != nil {
				return err
			}
			s.emit(tx, "member", m.ID, m.ProjectID, "status", StatusPendingUpdate, "")
		}
		for _, m := range deleted {
			m.ProvisioningStatus = StatusPendingDelete
			if err := s.members.Put(tx, m.ID, m); err != nil {
				return err
			}
			s.emit(tx, "member", m.ID, m.ProjectID, "status", StatusPendingDelete, "")
		}
		_, err = s.pools.Modify(tx, p.ID, func(v *Pool) error { v.MemberIDs = ids; return nil })
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
