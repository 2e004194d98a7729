package loadbalancer

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) listenerRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/listeners", "listener.list", s.listListeners)
	rt.Handle("POST "+base+"/listeners", "listener.create", s.createListener)
	rt.Handle("GET "+base+"/listeners/{id}", "listener.get", s.getListener)
	rt.Handle("PUT "+base+"/listeners/{id}", "listener.update", s.updateListener)
	rt.Handle("DELETE "+base+"/listeners/{id}", "listener.delete", s.deleteListener)
	rt.Handle("GET "+base+"/listeners/{id}/stats", "listener.stats", s.listenerStats)
}

type listenerView struct {
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	Description             string            `json:"description"`
	ProvisioningStatus      string            `json:"provisioning_status"`
	OperatingStatus         string            `json:"operating_status"`
	AdminStateUp            bool              `json:"admin_state_up"`
	Protocol                string            `json:"protocol"`
	ProtocolPort            int               `json:"protocol_port"`
	ConnectionLimit         int               `json:"connection_limit"`
	DefaultTLSContainerRef  *string           `json:"default_tls_container_ref"`
	SNIContainerRefs        []string          `json:"sni_container_refs"`
	ProjectID               string            `json:"project_id"`
	DefaultPoolID           *string           `json:"default_pool_id"`
	L7Policies              []idOnly          `json:"l7policies"`
	InsertHeaders           map[string]string `json:"insert_headers"`
	CreatedAt               string            `json:"created_at"`
	UpdatedAt               *string           `json:"updated_at"`
	LoadBalancers           []idOnly          `json:"loadbalancers"`
	TimeoutClientData       int               `json:"timeout_client_data"`
	TimeoutMemberConnect    int               `json:"timeout_member_connect"`
	TimeoutMemberData       int               `json:"timeout_member_data"`
	TimeoutTCPInspect       int               `json:"timeout_tcp_inspect"`
	Tags                    []string          `json:"tags"`
	ClientCATLSContainerRef *string           `json:"client_ca_tls_container_ref"`
	ClientAuthentication    string            `json:"client_authentication"`
	ClientCRLContainerRef   *string           `json:"client_crl_container_ref"`
	AllowedCIDRs            []string          `json:"allowed_cidrs"`
	TLSCiphers              *string           `json:"tls_ciphers"`
	TLSVersions             []string          `json:"tls_versions"`
	ALPNProtocols           []string          `json:"alpn_protocols"`
	HSTSMaxAge              *int              `json:"hsts_max_age"`
	HSTSIncludeSubdomains   bool              `json:"hsts_include_subdomains"`
	HSTSPreload             bool              `json:"hsts_preload"`
}

func viewListener(l Listener) listenerView {
	h := l.InsertHeaders
	if h == nil {
		h = map[string]string{}
	}
	return listenerView{
		ID: l.ID, Name: l.Name, Description: l.Description,
		ProvisioningStatus: l.ProvisioningStatus, OperatingStatus: l.OperatingStatus,
		AdminStateUp: l.AdminStateUp, Protocol: l.Protocol, ProtocolPort: l.ProtocolPort,
		ConnectionLimit: l.ConnectionLimit, DefaultTLSContainerRef: strPtr(l.DefaultTLSContainerRef),
		SNIContainerRefs: nonNil(l.SNIContainerRefs), ProjectID: l.ProjectID,
		DefaultPoolID: strPtr(l.DefaultPoolID), L7Policies: []idOnly{}, InsertHeaders: h,
		CreatedAt: fmtTime(l.CreatedAt), UpdatedAt: fmtTimePtr(l.UpdatedAt),
		LoadBalancers:     []idOnly{{l.LoadBalancerID}},
		TimeoutClientData: l.TimeoutClientData, TimeoutMemberConnect: l.TimeoutMemberConnect,
		TimeoutMemberData: l.TimeoutMemberData, TimeoutTCPInspect: l.TimeoutTCPInspect,
		Tags: nonNil(l.Tags), ClientCATLSContainerRef: strPtr(l.ClientCATLSContainerRef),
		ClientAuthentication: l.ClientAuthentication, ClientCRLContainerRef: strPtr(l.ClientCRLContainerRef),
		AllowedCIDRs: l.AllowedCIDRs, TLSCiphers: strPtr(l.TLSCiphers), TLSVersions: l.TLSVersions,
		ALPNProtocols: l.ALPNProtocols, HSTSMaxAge: l.HSTSMaxAge,
		HSTSIncludeSubdomains: l.HSTSIncludeSubdomains, HSTSPreload: l.HSTSPreload,
	}
}

var listenerFields = fields[Listener]{
	"id":                     func(v *Listener) string { return v.ID },
	"name":                   func(v *Listener) string { return v.Name },
	"description":            func(v *Listener) string { return v.Description },
	"project_id":             func(v *Listener) string { return v.ProjectID },
	"loadbalancer_id":        func(v *Listener) string { return v.LoadBalancerID },
	"default_pool_id":        func(v *Listener) string { return v.DefaultPoolID },
	"protocol":               func(v *Listener) string { return v.Protocol },
	"protocol_port":          func(v *Listener) string { return strconv.Itoa(v.ProtocolPort) },
	"connection_limit":       func(v *Listener) string { return strconv.Itoa(v.ConnectionLimit) },
	"admin_state_up":         func(v *Listener) string { return boolStr(v.AdminStateUp) },
	"provisioning_status":    func(v *Listener) string { return v.ProvisioningStatus },
	"operating_status":       func(v *Listener) string { return v.OperatingStatus },
	"timeout_client_data":    func(v *Listener) string { return strconv.Itoa(v.TimeoutClientData) },
	"timeout_member_connect": func(v *Listener) string { return strconv.Itoa(v.TimeoutMemberConnect) },
	"timeout_member_data":    func(v *Listener) string { return strconv.Itoa(v.TimeoutMemberData) },
	"timeout_tcp_inspect":    func(v *Listener) string { return strconv.Itoa(v.TimeoutTCPInspect) },
	"created_at":             func(v *Listener) string { return sortTime(v.CreatedAt) },
}

func (s *Service) listListeners(w http.ResponseWriter, r *http.Request) error {
	project, err := listScope(r)
	if err != nil {
		return err
	}
	return writeList(w, r, "listeners", s.listeners, listenerFields, func(v *Listener) []string { return v.Tags },
		func(v *Listener) bool { return project == "" || v.ProjectID == project }, nil, viewListener)
}

func (s *Service) lookupListener(r *http.Request, id string) (Listener, error) {
	l, ok := s.listeners.Get(id)
	if !ok {
		return l, errNotFound("Listener", id)
	}
	return l, authorize(r, l.ProjectID)
}

func (s *Service) getListener(w http.ResponseWriter, r *http.Request) error {
	l, err := s.lookupListener(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"listener": viewListener(l)})
	return nil
}

func (s *Service) listenerStats(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.lookupListener(r, r.PathValue("id")); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"stats": statsView{}})
	return nil
}

// listenerBody holds the attributes of a listener create or update.
type listenerBody struct {
	Name                    opt[string]            `json:"name"`
	Description             opt[string]            `json:"description"`
	AdminStateUp            opt[bool]              `json:"admin_state_up"`
	Protocol                opt[string]            `json:"protocol"`
	ProtocolPort            opt[int]               `json:"protocol_port"`
	ConnectionLimit         opt[int]               `json:"connection_limit"`
	DefaultTLSContainerRef  opt[string]            `json:"default_tls_container_ref"`
	SNIContainerRefs        opt[[]string]          `json:"sni_container_refs"`
	ProjectID               opt[string]            `json:"project_id"`
	TenantID                opt[string]            `json:"tenant_id"`
	DefaultPoolID           opt[string]            `json:"default_pool_id"`
	DefaultPool             opt[json.RawMessage]   `json:"default_pool"`
	L7Policies              opt[[]any]             `json:"l7policies"`
	InsertHeaders           opt[map[string]string] `json:"insert_headers"`
	LoadBalancerID          opt[string]            `json:"loadbalancer_id"`
	TimeoutClientData       opt[int]               `json:"timeout_client_data"`
	TimeoutMemberConnect    opt[int]               `json:"timeout_member_connect"`
	TimeoutMemberData       opt[int]               `json:"timeout_member_data"`
	TimeoutTCPInspect       opt[int]               `json:"timeout_tcp_inspect"`
	Tags                    opt[[]string]          `json:"tags"`
	ClientCATLSContainerRef opt[string]            `json:"client_ca_tls_container_ref"`
	ClientAuthentication    opt[string]            `json:"client_authentication"`
	ClientCRLContainerRef   opt[string]            `json:"client_crl_container_ref"`
	AllowedCIDRs            opt[[]string]          `json:"allowed_cidrs"`
	TLSCiphers              opt[string]            `json:"tls_ciphers"`
	TLSVersions             opt[[]string]          `json:"tls_versions"`
	ALPNProtocols           opt[[]string]          `json:"alpn_protocols"`
	HSTSMaxAge              opt[int]               `json:"hsts_max_age"`
	HSTSIncludeSubdomains   opt[bool]              `json:"hsts_include_subdomains"`
	HSTSPreload             opt[bool]              `json:"hsts_preload"`
}

func (b *listenerBody) validate(create bool) error {
	if create {
		if !b.Protocol.has() {
			return errInput("protocol", "None", "Mandatory field missing.")
		}
		if !b.ProtocolPort.has() {
			return errInput("protocol_port", "None", "Mandatory field missing.")
		}
	}
	return firstErr(
		checkString("name", b.Name, 255), checkString("description", b.Description, 255),
		checkEnum("protocol", b.Protocol, listenerProtocols), checkRange("protocol_port", b.ProtocolPort, 1, 65535),
		checkRange("connection_limit", b.ConnectionLimit, -1, -2), checkUUID("default_pool_id", b.DefaultPoolID),
		checkUUID("loadbalancer_id", b.LoadBalancerID), checkString("project_id", b.ProjectID, 36),
		checkRange("timeout_client_data", b.TimeoutClientData, 0, maxTimeout),
		checkRange("timeout_member_connect", b.TimeoutMemberConnect, 0, maxTimeout),
		checkRange("timeout_member_data", b.TimeoutMemberData, 0, maxTimeout),
		checkRange("timeout_tcp_inspect", b.TimeoutTCPInspect, 0, maxTimeout),
		checkTags(b.Tags), checkEnum("client_authentication", b.ClientAuthentication, clientAuthModes),
		checkString("default_tls_container_ref", b.DefaultTLSContainerRef, 255),
		checkCIDRs(b.AllowedCIDRs), checkRange("hsts_max_age", b.HSTSMaxAge, 0, -1),
	)
}

// apply copies the attributes given in b onto l; null resets to Octavia's default.
func (b *listenerBody) apply(l *Listener) {
	setStr := func(o opt[string], dst *string) {
		if o.Set {
			*dst = o.V
		}
	}
	setInt := func(o opt[int], dst *int, def int) {
		if o.Set {
			*dst = def
			if !o.Null {
				*dst = o.V
			}
		}
	}
	setStr(b.Name, &l.Name)
	setStr(b.Description, &l.Description)
	if b.AdminStateUp.has() {
		l.AdminStateUp = b.AdminStateUp.V
	}
	setInt(b.ConnectionLimit, &l.ConnectionLimit, defaultConnectionLimit)
	setStr(b.DefaultTLSContainerRef, &l.DefaultTLSContainerRef)
	if b.SNIContainerRefs.Set {
		l.SNIContainerRefs = slices.Clone(b.SNIContainerRefs.V)
	}
	if b.InsertHeaders.Set {
		l.InsertHeaders = maps.Clone(b.InsertHeaders.V)
	}
	setInt(b.TimeoutClientData, &l.TimeoutClientData, defaultTimeoutClientData)
	setInt(b.TimeoutMemberConnect, &l.TimeoutMemberConnect, defaultTimeoutMemberConnect)
	setInt(b.TimeoutMemberData, &l.TimeoutMemberData, defaultTimeoutMemberData)
	setInt(b.TimeoutTCPInspect, &l.TimeoutTCPInspect, defaultTimeoutTCPInspect)
	if b.Tags.Set {
		l.Tags = tagsOf(b.Tags)
	}
	setStr(b.ClientCATLSContainerRef, &l.ClientCATLSContainerRef)
	if b.ClientAuthentication.Set {
		l.ClientAuthentication = "NONE"
		if b.ClientAuthentication.has() {
			l.ClientAuthentication = b.ClientAuthentication.V
		}
	}
	setStr(b.ClientCRLContainerRef, &l.ClientCRLContainerRef)
	if b.AllowedCIDRs.Set {
		l.AllowedCIDRs = slices.Clone(b.AllowedCIDRs.V)
	}
	setStr(b.TLSCiphers, &l.TLSCiphers)
	if b.TLSVersions.Set {
		l.TLSVersions = slices.Clone(b.TLSVersions.V)
	}
	if b.ALPNProtocols.Set {
		l.ALPNProtocols = slices.Clone(b.ALPNProtocols.V)
	}
	if b.HSTSMaxAge.Set {
		l.HSTSMaxAge = nil
		if b.HSTSMaxAge.has() {
			v := b.HSTSMaxAge.V
			l.HSTSMaxAge = &v
		}
	}
	if b.HSTSIncludeSubdomains.has() {
		l.HSTSIncludeSubdomains = b.HSTSIncludeSubdomains.V
	}
	if b.HSTSPreload.has() {
		l.HSTSPreload = b.HSTSPreload.V
	}
}

// checkListenerTLS is Octavia's _validate_create_listener checks of protocol against TLS
// settings.
func checkListenerTLS(l *Listener) error {
	hasRefs := l.DefaultTLSContainerRef != "" || len(l.SNIContainerRefs) > 0
	tlsOffload := l.Protocol == "TERMINATED_HTTPS"
	if len(l.InsertHeaders) > 0 && l.Protocol != "HTTP" && l.Protocol != "TERMINATED_HTTPS" {
		return errInvalidOption("insert-headers", "a "+l.Protocol+" protocol listener.")
	}
	if (l.Protocol == "UDP" || l.Protocol == "SCTP") && hasRefs {
		return errValidation("%s protocol listener does not support TLS.", l.Protocol)
	}
	if !tlsOffload && hasRefs {
		return errValidation("Certificate container references are not allowed on %s protocol listeners.", l.Protocol)
	}
	if tlsOffload && !hasRefs {
		return errValidation("An SNI or default certificate container reference must be provided for %s protocol listeners.", l.Protocol)
	}
	if l.ClientCATLSContainerRef != "" && !hasRefs {
		return errValidation("An SNI or default certificate container reference must be provided with a client CA container reference.")
	}
	if l.ClientAuthentication != "NONE" && l.ClientCATLSContainerRef == "" {
		return errValidation("Client authentication setting %s requires a client CA container reference.", l.ClientAuthentication)
	}
	if l.ClientCRLContainerRef != "" && l.ClientCATLSContainerRef == "" {
		return errValidation("A client authentication CA reference is required to specify a client authentication revocation list.")
	}
	return nil
}

// checkDefaultPool verifies that pool id can be the default pool of a listener of protocol on lb.
func (s *Service) checkDefaultPool(lbID, poolID, protocol string) error {
	p, ok := s.pools.Get(poolID)
	if !ok || p.LoadBalancerID != lbID {
		return errNotFound("Pool", poolID)
	}
	if protocol == "PROMETHEUS" {
		return httpapi.Errorf(http.StatusBadRequest, "ListenerNoChildren", "Protocol PROMETHEUS listeners cannot have child objects.")
	}
	return checkProtocols(protocol, p.Protocol)
}

func checkProtocols(listenerProto, poolProto string) error {
	if !slices.Contains(validListenerPoolProtocols[listenerProto], poolProto) {
		return errValidation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", poolProto, listenerProto)
	}
	return nil
}

// checkPortFree refuses a second listener on the same L4 protocol and port of a load balancer.
func (s *Service) checkPortFree(lb LoadBalancer, self string, protocol string, port int) error {
	for _, id := range lb.ListenerIDs {
		o, ok := s.listeners.Get(id)
		if !ok || o.ID == self || o.ProtocolPort != port {
			continue
		}
		if l4Protocol[o.Protocol] == l4Protocol[protocol] {
			return httpapi.Errorf(http.StatusConflict, "DuplicateListenerEntry", "Another Listener on this Load Balancer is already using protocol %s and protocol_port %d", o.Protocol, port)
		}
	}
	return nil
}

// newListener builds a PENDING_CREATE listener of lbID from a validated create body.
func newListener(b *listenerBody, lbID string) Listener {
	l := Listener{
		ID: uuid.NewString(), LoadBalancerID: lbID, Protocol: b.Protocol.V, ProtocolPort: b.ProtocolPort.V,
		AdminStateUp: true, ConnectionLimit: defaultConnectionLimit, ClientAuthentication: "NONE",
		TimeoutClientData: defaultTimeoutClientData, TimeoutMemberConnect: defaultTimeoutMemberConnect,
		TimeoutMemberData: defaultTimeoutMemberData, TimeoutTCPInspect: defaultTimeoutTCPInspect,
		ProvisioningStatus: StatusPendingCreate, OperatingStatus: OpOffline, CreatedAt: now(),
	}
	b.apply(&l)
	if l.Protocol == "TERMINATED_HTTPS" && l.TLSVersions == nil {
		l.TLSVersions = []string{"TLSv1.2", "TLSv1.3"}
		if l.ALPNProtocols == nil {
			l.ALPNProtocols = []string{"h2", "http/1.1", "http/1.0"}
		}
	}
	return l
}

func (s *Service) createListener(w http.ResponseWriter, r *http.Request) error {
	var b listenerBody
	if err := decodeRoot(r, "listener", &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	if !b.LoadBalancerID.has() {
		return errInput("loadbalancer_id", "None", "Mandatory field missing.")
	}
	if b.DefaultPool.has() || (b.L7Policies.has() && len(b.L7Policies.V) > 0) {
		return errValidation("default_pool and l7policies in a listener create are not supported by this deployment; create the pool with listener_id.")
	}
	l := newListener(&b, b.LoadBalancerID.V)
	err := s.env.DB.Update(func(tx *store.Tx) error {
		lb, err := s.lookupLB(r, l.LoadBalancerID)
		if err != nil {
			return err
		}
		l.ProjectID = lb.ProjectID
		if err := s.checkQuota(lb.ProjectID, "listener", 1); err != nil {
			return err
		}
		if b.DefaultPoolID.has() {
			if err := s.checkDefaultPool(lb.ID, b.DefaultPoolID.V, l.Protocol); err != nil {
				return err
			}
			l.DefaultPoolID = b.DefaultPoolID.V
		}
		if lb, err = s.lockForChild(tx, lb.ID, nil, ""); err != nil {
			return err
		}
		if err := checkListenerTLS(&l); err != nil {
			return err
		}
		if err := s.checkPortFree(lb, "", l.Protocol, l.ProtocolPort); err != nil {
			return err
		}
		if err := s.listeners.Put(tx, l.ID, l); err != nil {
			return err
		}
		lb.ListenerIDs = withID(lb.ListenerIDs, l.ID)
		if err := s.putLB(tx, lb); err != nil {
			return err
		}
		if l.DefaultPoolID != "" {
			if _, err := s.pools.Modify(tx, l.DefaultPoolID, func(p *Pool) error {
				p.ListenerIDs = withID(p.ListenerIDs, l.ID)
				p.ProvisioningStatus = StatusPendingUpdate
				return nil
			}); err != nil {
				return err
			}
		}
		s.emit(tx, "listener", l.ID, l.ProjectID, "created", l.Protocol+":"+strconv.Itoa(l.ProtocolPort), "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"listener": viewListener(l)})
	return nil
}

func (s *Service) updateListener(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var b listenerBody
	if err := decodeRoot(r, "listener", &b); err != nil {
		return err
	}
	if b.Protocol.Set || b.ProtocolPort.Set || b.LoadBalancerID.Set {
		return errInput("protocol", orEmpty(b.Protocol), "protocol, protocol_port and loadbalancer_id cannot be updated.")
	}
	if err := b.validate(false); err != nil {
		return err
	}
	var l Listener
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		if l, err = s.lookupListener(r, id); err != nil {
			return err
		}
		oldPool := l.DefaultPoolID
		if b.DefaultPoolID.has() && b.DefaultPoolID.V != oldPool {
			if err := s.checkDefaultPool(l.LoadBalancerID, b.DefaultPoolID.V, l.Protocol); err != nil {
				return err
			}
		}
		if _, err := s.lockForChild(tx, l.LoadBalancerID, nil, ""); err != nil {
			return err
		}
		b.apply(&l)
		if b.DefaultPoolID.Set {
			l.DefaultPoolID = b.DefaultPoolID.V
		}
		if err := checkListenerTLS(&l); err != nil {
			return err
		}
		l.ProvisioningStatus = StatusPendingUpdate
		l.UpdatedAt = nowPtr()
		if err := s.listeners.Put(tx, id, l); err != nil {
			return err
		}
		if oldPool != l.DefaultPoolID {
			if oldPool != "" {
				if _, err := s.pools.Modify(tx, oldPool, func(p *Pool) error { p.ListenerIDs = without(p.ListenerIDs, id); return nil }); err != nil {
					return err
				}
			}
			if l.DefaultPoolID != "" {
				if _, err := s.pools.Modify(tx, l.DefaultPoolID, func(p *Pool) error { p.ListenerIDs = withID(p.ListenerIDs, id); return nil }); err != nil {
					return err
				}
			}
		}
		s.emit(tx, "listener", id, l.ProjectID, "status", StatusPendingUpdate, "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"listener": viewListener(l)})
	return nil
}

func (s *Service) deleteListener(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		l, err := s.lookupListener(r, id)
		if err != nil {
			return err
		}
		if _, err := s.lockForChild(tx, l.LoadBalancerID, nil, ""); err != nil {
			return err
		}
		l.ProvisioningStatus = StatusPendingDelete
		l.UpdatedAt = nowPtr()
		if err := s.listeners.Put(tx, id, l); err != nil {
			return err
		}
		s.emit(tx, "listener", id, l.ProjectID, "status", StatusPendingDelete, "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
