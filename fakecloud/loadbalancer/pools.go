package loadbalancer

import (
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) poolRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/pools", "pool.list", s.listPools)
	rt.Handle("POST "+base+"/pools", "pool.create", s.createPool)
	rt.Handle("GET "+base+"/pools/{id}", "pool.get", s.getPool)
	rt.Handle("PUT "+base+"/pools/{id}", "pool.update", s.updatePool)
	rt.Handle("DELETE "+base+"/pools/{id}", "pool.delete", s.deletePool)
}

type poolView struct {
	ID                 string              `json:"id"`
	Name               string              `json:"name"`
	Description        string              `json:"description"`
	ProvisioningStatus string              `json:"provisioning_status"`
	OperatingStatus    string              `json:"operating_status"`
	AdminStateUp       bool                `json:"admin_state_up"`
	Protocol           string              `json:"protocol"`
	LBAlgorithm        string              `json:"lb_algorithm"`
	SessionPersistence *SessionPersistence `json:"session_persistence"`
	ProjectID          string              `json:"project_id"`
	LoadBalancers      []idOnly            `json:"loadbalancers"`
	Listeners          []idOnly            `json:"listeners"`
	CreatedAt          string              `json:"created_at"`
	UpdatedAt          *string             `json:"updated_at"`
	HealthMonitorID    *string             `json:"healthmonitor_id"`
	Members            []idOnly            `json:"members"`
	Tags               []string            `json:"tags"`
	TLSContainerRef    *string             `json:"tls_container_ref"`
	CATLSContainerRef  *string             `json:"ca_tls_container_ref"`
	CRLContainerRef    *string             `json:"crl_container_ref"`
	TLSEnabled         bool                `json:"tls_enabled"`
	TLSCiphers         *string             `json:"tls_ciphers"`
	TLSVersions        []string            `json:"tls_versions"`
	ALPNProtocols      []string            `json:"alpn_protocols"`
}

func viewPool(p Pool) poolView {
	return poolView{
		ID: p.ID, Name: p.Name, Description: p.Description,
		ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus,
		AdminStateUp: p.AdminStateUp, Protocol: p.Protocol, LBAlgorithm: p.LBAlgorithm,
		SessionPersistence: p.SessionPersistence, ProjectID: p.ProjectID,
		LoadBalancers: []idOnly{{p.LoadBalancerID}}, Listeners: idsOf(p.ListenerIDs),
		CreatedAt: fmtTime(p.CreatedAt), UpdatedAt: fmtTimePtr(p.UpdatedAt),
		HealthMonitorID: strPtr(p.HealthMonitorID), Members: idsOf(p.MemberIDs), Tags: nonNil(p.Tags),
		TLSContainerRef: strPtr(p.TLSContainerRef), CATLSContainerRef: strPtr(p.CATLSContainerRef),
		CRLContainerRef: strPtr(p.CRLContainerRef), TLSEnabled: p.TLSEnabled, TLSCiphers: strPtr(p.TLSCiphers),
		TLSVersions: p.TLSVersions, ALPNProtocols: p.ALPNProtocols,
	}
}

var poolFields = fields[Pool]{
	"id":                  func(v *Pool) string { return v.ID },
	"name":                func(v *Pool) string { return v.Name },
	"description":         func(v *Pool) string { return v.Description },
	"project_id":          func(v *Pool) string { return v.ProjectID },
	"loadbalancer_id":     func(v *Pool) string { return v.LoadBalancerID },
	"protocol":            func(v *Pool) string { return v.Protocol },
	"lb_algorithm":        func(v *Pool) string { return v.LBAlgorithm },
	"admin_state_up":      func(v *Pool) string { return boolStr(v.AdminStateUp) },
	"provisioning_status": func(v *Pool) string { return v.ProvisioningStatus },
	"operating_status":    func(v *Pool) string { return v.OperatingStatus },
	"healthmonitor_id":    func(v *Pool) string { return v.HealthMonitorID },
	"tls_enabled":         func(v *Pool) string { return boolStr(v.TLSEnabled) },
	"created_at":          func(v *Pool) string { return sortTime(v.CreatedAt) },
}

func (s *Service) listPools(w http.ResponseWriter, r *http.Request) error {
	project, err := listScope(r)
	if err != nil {
		return err
	}
	return writeList(w, r, "pools", s.pools, poolFields, func(v *Pool) []string { return v.Tags },
		func(v *Pool) bool { return project == "" || v.ProjectID == project }, nil, viewPool)
}

func (s *Service) lookupPool(r *http.Request, id string) (Pool, error) {
	p, ok := s.pools.Get(id)
	if !ok {
		return p, errNotFound("Pool", id)
	}
	return p, authorize(r, p.ProjectID)
}

func (s *Service) getPool(w http.ResponseWriter, r *http.Request) error {
	p, err := s.lookupPool(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"pool": viewPool(p)})
	return nil
}

// spBody is a session_persistence attribute.
type spBody struct {
	Type                   opt[string] `json:"type"`
	CookieName             opt[string] `json:"cookie_name"`
	PersistenceTimeout     opt[int]    `json:"persistence_timeout"`
	PersistenceGranularity opt[string] `json:"persistence_granularity"`
}

// poolBody holds the attributes of a pool create or update.
type poolBody struct {
	Name               opt[string]            `json:"name"`
	Description        opt[string]            `json:"description"`
	AdminStateUp       opt[bool]              `json:"admin_state_up"`
	ListenerID         opt[string]            `json:"listener_id"`
	LoadBalancerID     opt[string]            `json:"loadbalancer_id"`
	Protocol           opt[string]            `json:"protocol"`
	LBAlgorithm        opt[string]            `json:"lb_algorithm"`
	SessionPersistence opt[spBody]            `json:"session_persistence"`
	ProjectID          opt[string]            `json:"project_id"`
	TenantID           opt[string]            `json:"tenant_id"`
	HealthMonitor      opt[json.RawMessage]   `json:"healthmonitor"`
	Members            opt[[]json.RawMessage] `json:"members"`
	Tags               opt[[]string]          `json:"tags"`
	TLSContainerRef    opt[string]            `json:"tls_container_ref"`
	CATLSContainerRef  opt[string]            `json:"ca_tls_container_ref"`
	CRLContainerRef    opt[string]            `json:"crl_container_ref"`
	TLSEnabled         opt[bool]              `json:"tls_enabled"`
	TLSCiphers         opt[string]            `json:"tls_ciphers"`
	TLSVersions        opt[[]string]          `json:"tls_versions"`
	ALPNProtocols      opt[[]string]          `json:"alpn_protocols"`
}

var badCookieRe = regexp.MustCompile(`[\x00-\x20\x22\x28-\x29\x2c\x2f\x3a-\x40\x5b-\x5d\x7b\x7d\x7f]+`)

func (b *poolBody) validate(create bool) error {
	if create {
		if !b.Protocol.has() {
			return errInput("protocol", "None", "Mandatory field missing.")
		}
		if !b.LBAlgorithm.has() {
			return errInput("lb_algorithm", "None", "Mandatory field missing.")
		}
	}
	if err := firstErr(
		checkString("name", b.Name, 255), checkString("description", b.Description, 255),
		checkUUID("listener_id", b.ListenerID), checkUUID("loadbalancer_id", b.LoadBalancerID),
		checkEnum("protocol", b.Protocol, poolProtocols), checkEnum("lb_algorithm", b.LBAlgorithm, lbAlgorithms),
		checkString("project_id", b.ProjectID, 36), checkTags(b.Tags),
		checkString("tls_container_ref", b.TLSContainerRef, 255),
		checkString("ca_tls_container_ref", b.CATLSContainerRef, 255),
		checkString("crl_container_ref", b.CRLContainerRef, 255),
	); err != nil {
		return err
	}
	if sp := b.SessionPersistence; sp.has() {
		if create && !sp.V.Type.has() {
			return errInput("session_persistence.type", "None", "Mandatory field missing.")
		}
		if err := checkEnum("type", sp.V.Type, spTypes); err != nil {
			return err
		}
		if sp.V.CookieName.has() && (len(sp.V.CookieName.V) > 255 || !cookieNameRe.MatchString(sp.V.CookieName.V)) {
			return errInput("cookie_name", sp.V.CookieName.V, "Value should match the pattern ^[^\\s,;\\\\]+$")
		}
		if sp.V.PersistenceGranularity.has() && net.ParseIP(sp.V.PersistenceGranularity.V) == nil {
			return errInput("persistence_granularity", sp.V.PersistenceGranularity.V, "Value should be IPv4 or IPv6 format")
		}
	}
	return nil
}

// checkPersistence is Octavia's pool session persistence validation for a pool of protocol.
func checkPersistence(protocol string, sp *SessionPersistence) error {
	if sp == nil {
		return nil
	}
	cookie := sp.CookieName != nil && *sp.CookieName != ""
	if protocol == "UDP" || protocol == "SCTP" {
		if cookie {
			return errValidation("Cookie names are not supported for UDP/SCTP pools.")
		}
		if sp.Type == "HTTP_COOKIE" || sp.Type == "APP_COOKIE" {
			return errValidation("Session persistence of type %s is not supported for UDP/SCTP protocol pools.", sp.Type)
		}
	} else if sp.PersistenceTimeout != nil || sp.PersistenceGranularity != nil {
		return errValidation("persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.")
	}
	if cookie {
		if sp.Type != "APP_COOKIE" {
			return errValidation(`Field "cookie_name" can only be specified with session persistence of type "APP_COOKIE".`)
		}
		if badCookieRe.MatchString(*sp.CookieName) {
			return errValidation(`Supplied "cookie_name" is invalid.`)
		}
	}
	if sp.Type == "APP_COOKIE" && !cookie {
		return errValidation(`Field "cookie_name" must be specified when using the "APP_COOKIE" session persistence type.`)
	}
	return nil
}

// applySP merges a session_persistence attribute onto the current value.
func applySP(cur *SessionPersistence, o opt[spBody]) *SessionPersistence {
	if !o.Set {
		return cur
	}
	if o.Null {
		return nil
	}
	sp := &SessionPersistence{}
	if cur != nil {
		sp.Type = cur.Type
	}
	if o.V.Type.has() {
		sp.Type = o.V.Type.V
	}
	if o.V.CookieName.has() {
		v := o.V.CookieName.V
		sp.CookieName = &v
	}
	if o.V.PersistenceTimeout.has() {
		v := o.V.PersistenceTimeout.V
		sp.PersistenceTimeout = &v
	}
	if o.V.PersistenceGranularity.has() {
		v := o.V.PersistenceGranularity.V
		sp.PersistenceGranularity = &v
	}
	return sp
}

func (b *poolBody) apply(p *Pool) {
	if b.Name.Set {
		p.Name = b.Name.V
	}
	if b.Description.Set {
		p.Description = b.Description.V
	}
	if b.AdminStateUp.has() {
		p.AdminStateUp = b.AdminStateUp.V
	}
	if b.LBAlgorithm.has() {
		p.LBAlgorithm = b.LBAlgorithm.V
	}
	p.SessionPersistence = applySP(p.SessionPersistence, b.SessionPersistence)
	if b.Tags.Set {
		p.Tags = tagsOf(b.Tags)
	}
	if b.TLSContainerRef.Set {
		p.TLSContainerRef = b.TLSContainerRef.V
	}
	if b.CATLSContainerRef.Set {
		p.CATLSContainerRef = b.CATLSContainerRef.V
	}
	if b.CRLContainerRef.Set {
		p.CRLContainerRef = b.CRLContainerRef.V
	}
	if b.TLSEnabled.has() {
		p.TLSEnabled = b.TLSEnabled.V
	}
	if b.TLSCiphers.Set {
		p.TLSCiphers = b.TLSCiphers.V
	}
	if b.TLSVersions.Set {
		p.TLSVersions = slices.Clone(b.TLSVersions.V)
	}
	if b.ALPNProtocols.Set {
		p.ALPNProtocols = slices.Clone(b.ALPNProtocols.V)
	}
}

func (s *Service) createPool(w http.ResponseWriter, r *http.Request) error {
	var b poolBody
	if err := decodeRoot(r, "pool", &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	g, err := s.buildPoolGraph(&b)
	if err != nil {
		return err
	}
	p := g.pool
	err = s.env.DB.Update(func(tx *store.Tx) error {
		var lb LoadBalancer
		var listener *Listener
		var err error
		switch {
		case b.LoadBalancerID.has():
			if lb, err = s.lookupLB(r, b.LoadBalancerID.V); err != nil {
				return err
			}
		case b.ListenerID.has():
			l, ok := s.listeners.Get(b.ListenerID.V)
			if !ok {
				return errNotFound("Listener", b.ListenerID.V)
			}
			if lb, err = s.lookupLB(r, l.LoadBalancerID); err != nil {
				return err
			}
		default:
			return errValidation("Must provide at least one of: loadbalancer_id, listener_id")
		}
		if b.ListenerID.has() {
			l, ok := s.listeners.Get(b.ListenerID.V)
			if !ok || l.LoadBalancerID != lb.ID {
				return errNotFound("Listener", b.ListenerID.V)
			}
			if l.Protocol == "PROMETHEUS" {
				return httpapi.Errorf(http.StatusBadRequest, "ListenerNoChildren", "Protocol PROMETHEUS listeners cannot have child objects.")
			}
			if err := checkProtocols(l.Protocol, p.Protocol); err != nil {
				return err
			}
			listener = &l
		}
		g.bind(lb.ID, lb.ProjectID)
		if err := s.checkQuota(lb.ProjectID, "pool", 1); err != nil {
			return err
		}
		if err := s.graphQuota(lb.ProjectID, []poolGraph{g}); err != nil {
			return err
		}
		var listenerIDs []string
		if listener != nil {
			if listener.DefaultPoolID != "" {
				return httpapi.Errorf(http.StatusConflict, "DuplicatePoolEntry", "This listener already has a default pool")
			}
			listenerIDs = []string{listener.ID}
		}
		if lb, err = s.lockForChild(tx, lb.ID, listenerIDs, ""); err != nil {
			return err
		}
		if listener != nil {
			g.pool.ListenerIDs = []string{listener.ID}
			if _, err := s.listeners.Modify(tx, listener.ID, func(l *Listener) error { l.DefaultPoolID = g.pool.ID; return nil }); err != nil {
				return err
			}
		}
		if err := s.putPoolGraph(tx, g); err != nil {
			return err
		}
		lb.PoolIDs = withID(lb.PoolIDs, g.pool.ID)
		return s.putLB(tx, lb)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"pool": viewPool(g.pool)})
	return nil
}

func (s *Service) updatePool(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var b poolBody
	if err := decodeRoot(r, "pool", &b); err != nil {
		return err
	}
	if b.Protocol.Set || b.ListenerID.Set || b.LoadBalancerID.Set {
		return errInput("protocol", orEmpty(b.Protocol), "protocol, listener_id and loadbalancer_id cannot be updated.")
	}
	if err := b.validate(false); err != nil {
		return err
	}
	var p Pool
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		if p, err = s.lookupPool(r, id); err != nil {
			return err
		}
		b.apply(&p)
		if err := checkPersistence(p.Protocol, p.SessionPersistence); err != nil {
			return err
		}
		if p.CRLContainerRef != "" && p.CATLSContainerRef == "" {
			return errValidation("A CA reference is required to specify a certificate revocation list.")
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, ""); err != nil {
			return err
		}
		p.ProvisioningStatus = StatusPendingUpdate
		p.UpdatedAt = nowPtr()
		if err := s.pools.Put(tx, id, p); err != nil {
			return err
		}
		s.emit(tx, "pool", id, p.ProjectID, "status", StatusPendingUpdate, "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"pool": viewPool(p)})
	return nil
}

func (s *Service) deletePool(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		p, err := s.lookupPool(r, id)
		if err != nil {
			return err
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, ""); err != nil {
			return err
		}
		p.ProvisioningStatus = StatusPendingDelete
		p.UpdatedAt = nowPtr()
		if err := s.pools.Put(tx, id, p); err != nil {
			return err
		}
		for _, mid := range p.MemberIDs {
			if _, err := s.members.Modify(tx, mid, func(m *Member) error { m.ProvisioningStatus = StatusPendingDelete; return nil }); err != nil {
				return err
			}
		}
		if p.HealthMonitorID != "" {
			if _, err := s.monitors.Modify(tx, p.HealthMonitorID, func(h *HealthMonitor) error { h.ProvisioningStatus = StatusPendingDelete; return nil }); err != nil {
				return err
			}
		}
		s.emit(tx, "pool", id, p.ProjectID, "status", StatusPendingDelete, "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
