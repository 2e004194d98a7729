package loadbalancer

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) monitorRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/healthmonitors", "healthmonitor.list", s.listMonitors)
	rt.Handle("POST "+base+"/healthmonitors", "healthmonitor.create", s.createMonitor)
	rt.Handle("GET "+base+"/healthmonitors/{id}", "healthmonitor.get", s.getMonitor)
	rt.Handle("PUT "+base+"/healthmonitors/{id}", "healthmonitor.update", s.updateMonitor)
	rt.Handle("DELETE "+base+"/healthmonitors/{id}", "healthmonitor.delete", s.deleteMonitor)
}

type monitorView struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Type               string   `json:"type"`
	Delay              int      `json:"delay"`
	Timeout            int      `json:"timeout"`
	MaxRetries         int      `json:"max_retries"`
	MaxRetriesDown     int      `json:"max_retries_down"`
	HTTPMethod         *string  `json:"http_method"`
	URLPath            *string  `json:"url_path"`
	ExpectedCodes      *string  `json:"expected_codes"`
	AdminStateUp       bool     `json:"admin_state_up"`
	ProjectID          string   `json:"project_id"`
	Pools              []idOnly `json:"pools"`
	ProvisioningStatus string   `json:"provisioning_status"`
	OperatingStatus    string   `json:"operating_status"`
	CreatedAt          string   `json:"created_at"`
	UpdatedAt          *string  `json:"updated_at"`
	Tags               []string `json:"tags"`
	HTTPVersion        *float64 `json:"http_version"`
	DomainName         *string  `json:"domain_name"`
}

func viewMonitor(h HealthMonitor) monitorView {
	return monitorView{
		ID: h.ID, Name: h.Name, Type: h.Type, Delay: h.Delay, Timeout: h.Timeout,
		MaxRetries: h.MaxRetries, MaxRetriesDown: h.MaxRetriesDown,
		HTTPMethod: strPtr(h.HTTPMethod), URLPath: strPtr(h.URLPath), ExpectedCodes: strPtr(h.ExpectedCodes),
		AdminStateUp: h.AdminStateUp, ProjectID: h.ProjectID, Pools: []idOnly{{h.PoolID}},
		ProvisioningStatus: h.ProvisioningStatus, OperatingStatus: h.OperatingStatus,
		CreatedAt: fmtTime(h.CreatedAt), UpdatedAt: fmtTimePtr(h.UpdatedAt), Tags: nonNil(h.Tags),
		HTTPVersion: h.HTTPVersion, DomainName: strPtr(h.DomainName),
	}
}

var monitorFields = fields[HealthMonitor]{
	"id":                  func(v *HealthMonitor) string { return v.ID },
	"name":                func(v *HealthMonitor) string { return v.Name },
	"project_id":          func(v *HealthMonitor) string { return v.ProjectID },
	"pool_id":             func(v *HealthMonitor) string { return v.PoolID },
	"type":                func(v *HealthMonitor) string { return v.Type },
	"delay":               func(v *HealthMonitor) string { return strconv.Itoa(v.Delay) },
	"timeout":             func(v *HealthMonitor) string { return strconv.Itoa(v.Timeout) },
	"max_retries":         func(v *HealthMonitor) string { return strconv.Itoa(v.MaxRetries) },
	"max_retries_down":    func(v *HealthMonitor) string { return strconv.Itoa(v.MaxRetriesDown) },
	"http_method":         func(v *HealthMonitor) string { return v.HTTPMethod },
	"url_path":            func(v *HealthMonitor) string { return v.URLPath },
	"expected_codes":      func(v *HealthMonitor) string { return v.ExpectedCodes },
	"admin_state_up":      func(v *HealthMonitor) string { return boolStr(v.AdminStateUp) },
	"provisioning_status": func(v *HealthMonitor) string { return v.ProvisioningStatus },
	"operating_status":    func(v *HealthMonitor) string { return v.OperatingStatus },
	"created_at":          func(v *HealthMonitor) string { return sortTime(v.CreatedAt) },
}

func (s *Service) listMonitors(w http.ResponseWriter, r *http.Request) error {
	project, err := listScope(r)
	if err != nil {
		return err
	}
	return writeList(w, r, "healthmonitors", s.monitors, monitorFields, func(v *HealthMonitor) []string { return v.Tags },
		func(v *HealthMonitor) bool { return project == "" || v.ProjectID == project }, nil, viewMonitor)
}

func (s *Service) lookupMonitor(r *http.Request, id string) (HealthMonitor, error) {
	h, ok := s.monitors.Get(id)
	if !ok {
		return h, errNotFound("Health Monitor", id)
	}
	return h, authorize(r, h.ProjectID)
}

func (s *Service) getMonitor(w http.ResponseWriter, r *http.Request) error {
	h, err := s.lookupMonitor(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"healthmonitor": viewMonitor(h)})
	return nil
}

// monitorBody holds the attributes of a health monitor create or update.
type monitorBody struct {
	Name           opt[string]   `json:"name"`
	Type           opt[string]   `json:"type"`
	Delay          opt[int]      `json:"delay"`
	Timeout        opt[int]      `json:"timeout"`
	MaxRetries     opt[int]      `json:"max_retries"`
	MaxRetriesDown opt[int]      `json:"max_retries_down"`
	HTTPMethod     opt[string]   `json:"http_method"`
	URLPath        opt[string]   `json:"url_path"`
	ExpectedCodes  opt[string]   `json:"expected_codes"`
	AdminStateUp   opt[bool]     `json:"admin_state_up"`
	ProjectID      opt[string]   `json:"project_id"`
	TenantID       opt[string]   `json:"tenant_id"`
	PoolID         opt[string]   `json:"pool_id"`
	Tags           opt[[]string] `json:"tags"`
	HTTPVersion    opt[float64]  `json:"http_version"`
	DomainName     opt[string]   `json:"domain_name"`
}

var domainNameRe = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

func (b *monitorBody) validate(create bool) error {
	if create {
		for _, f := range []struct {
			name string
			set  bool
		}{{"type", b.Type.has()}, {"delay", b.Delay.has()}, {"timeout", b.Timeout.has()}, {"max_retries", b.MaxRetries.has()}} {
			if !f.set {
				return errInput(f.name, "None", "Mandatory field missing.")
			}
		}
	}
	if err := firstErr(
		checkString("name", b.Name, 255), checkEnum("type", b.Type, hmTypes),
		checkRange("delay", b.Delay, 0, -1), checkRange("timeout", b.Timeout, 0, -1),
		checkRange("max_retries", b.MaxRetries, 1, 10), checkRange("max_retries_down", b.MaxRetriesDown, 1, 10),
		checkEnum("http_method", b.HTTPMethod, hmHTTPMethods), checkUUID("pool_id", b.PoolID),
		checkString("project_id", b.ProjectID, 36), checkTags(b.Tags),
	); err != nil {
		return err
	}
	if b.URLPath.has() && !strings.HasPrefix(b.URLPath.V, "/") {
		return httpapi.Errorf(http.StatusBadRequest, "InvalidURLPath", "Not a valid URLPath: %s", b.URLPath.V)
	}
	if b.ExpectedCodes.has() && !expectedCodesRe.MatchString(b.ExpectedCodes.V) {
		return errInput("expected_codes", b.ExpectedCodes.V, `Value should match the pattern ^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$`)
	}
	if b.HTTPVersion.has() && b.HTTPVersion.V != 1.0 && b.HTTPVersion.V != 1.1 {
		return errInput("http_version", b.HTTPVersion.V, "Value should be one of: 1.0, 1.1")
	}
	if b.DomainName.has() && (len(b.DomainName.V) > 255 || !domainNameRe.MatchString(b.DomainName.V)) {
		return errInput("domain_name", b.DomainName.V, "Value should be a valid domain name.")
	}
	return nil
}

func isHTTPMonitor(t string) bool { return t == "HTTP" || t == "HTTPS" }

// checkMonitorForPool is Octavia's check of a monitor type against its pool's protocol.
func checkMonitorForPool(typ string, delay int, poolProtocol string) error {
	if poolProtocol == "UDP" || poolProtocol == "SCTP" {
		if typ != "UDP-CONNECT" && typ != "SCTP" && typ != "TCP" && typ != "HTTP" {
			return errValidation("The associated pool protocol is %s, so only a UDP-CONNECT/SCTP/TCP/HTTP health monitor is supported.", poolProtocol)
		}
		if typ == "UDP-CONNECT" && delay < udpConnectMinDelay {
			return errValidation("The request delay value %d should be larger than %d for UDP-CONNECT health monitor type.", delay, udpConnectMinDelay)
		}
		return nil
	}
	if typ == "UDP-CONNECT" || typ == "SCTP" {
		return errValidation("The %s type is only supported for pools of type UDP/SCTP.", typ)
	}
	return nil
}

// newMonitor builds a PENDING_CREATE monitor of pool poolID from a validated create body,
// with Octavia's HTTP defaults, refusing HTTP attributes on other types.
func newMonitor(b *monitorBody, poolID string) (HealthMonitor, error) {
	h := HealthMonitor{
		ID: uuid.NewString(), PoolID: poolID, Name: orEmpty(b.Name), Type: b.Type.V,
		Delay: b.Delay.V, Timeout: b.Timeout.V, MaxRetries: b.MaxRetries.V, MaxRetriesDown: defaultMaxRetriesDown,
		AdminStateUp: !b.AdminStateUp.has() || b.AdminStateUp.V, Tags: tagsOf(b.Tags), DomainName: orEmpty(b.DomainName),
		ProvisioningStatus: StatusPendingCreate, OperatingStatus: OpOffline, CreatedAt: now(),
	}
	if b.MaxRetriesDown.has() {
		h.MaxRetriesDown = b.MaxRetriesDown.V
	}
	if b.HTTPVersion.has() {
		v := b.HTTPVersion.V
		h.HTTPVersion = &v
	}
	if !isHTTPMonitor(h.Type) {
		for _, f := range []struct {
			name string
			set  bool
		}{{"http_method", b.HTTPMethod.has()}, {"url_path", b.URLPath.has()}, {"expected_codes", b.ExpectedCodes.has()}} {
			if f.set {
				return h, errInvalidOption(f.name, "health monitors of type "+h.Type)
			}
		}
	} else {
		h.HTTPMethod, h.URLPath, h.ExpectedCodes = "GET", "/", "200"
		if b.HTTPMethod.has() {
			h.HTTPMethod = b.HTTPMethod.V
		}
		if b.URLPath.has() {
			h.URLPath = b.URLPath.V
		}
		if b.ExpectedCodes.has() {
			h.ExpectedCodes = b.ExpectedCodes.V
		}
	}
	if h.DomainName != "" && h.HTTPVersion == nil {
		return h, errValidation("'http_version' must be specified when 'domain_name' is provided.")
	}
	if h.DomainName != "" && *h.HTTPVersion < 1.1 {
		return h, errInvalidOption(fmt.Sprintf("http_version %v", *h.HTTPVersion), "health monitors HTTP 1.1 domain name health check")
	}
	return h, nil
}

func (s *Service) createMonitor(w http.ResponseWriter, r *http.Request) error {
	var b monitorBody
	if err := decodeRoot(r, "healthmonitor", &b); err != nil {
		return err
	}
	if err := b.validate(true); err != nil {
		return err
	}
	if !b.PoolID.has() {
		return errInput("pool_id", "None", "Mandatory field missing.")
	}
	h, err := newMonitor(&b, b.PoolID.V)
	if err != nil {
		return err
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		p, err := s.lookupPool(r, h.PoolID)
		if err != nil {
			return err
		}
		h.LoadBalancerID, h.ProjectID = p.LoadBalancerID, p.ProjectID
		if err := checkMonitorForPool(h.Type, h.Delay, p.Protocol); err != nil {
			return err
		}
		if err := s.checkQuota(p.ProjectID, "healthmonitor", 1); err != nil {
			return err
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		if p.HealthMonitorID != "" {
			return httpapi.Errorf(http.StatusConflict, "DuplicateHealthMonitor", "This pool already has a health monitor")
		}
		if err := s.monitors.Put(tx, h.ID, h); err != nil {
			return err
		}
		if _, err := s.pools.Modify(tx, p.ID, func(v *Pool) error { v.HealthMonitorID = h.ID; return nil }); err != nil {
			return err
		}
		s.emit(tx, "healthmonitor", h.ID, h.ProjectID, "created", h.Type, "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"healthmonitor": viewMonitor(h)})
	return nil
}

func (s *Service) updateMonitor(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var b monitorBody
	if err := decodeRoot(r, "healthmonitor", &b); err != nil {
		return err
	}
	if b.Type.Set || b.PoolID.Set {
		return errInput("type", orEmpty(b.Type), "type and pool_id cannot be updated.")
	}
	if err := b.validate(false); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		null bool
	}{{"delay", b.Delay.Null}, {"max_retries", b.MaxRetries.Null}, {"timeout", b.Timeout.Null}} {
		if f.null {
			return errInvalidOption("None", f.name)
		}
	}
	var h HealthMonitor
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		if h, err = s.lookupMonitor(r, id); err != nil {
			return err
		}
		if !isHTTPMonitor(h.Type) {
			for _, f := range []struct {
				name string
				set  bool
			}{{"http_method", b.HTTPMethod.Set}, {"url_path", b.URLPath.Set}, {"expected_codes", b.ExpectedCodes.Set}} {
				if f.set {
					return errInvalidOption(f.name, "health monitors of type "+h.Type)
				}
			}
		}
		p, ok := s.pools.Get(h.PoolID)
		if !ok {
			return errNotFound("Pool", h.PoolID)
		}
		if b.Name.Set {
			h.Name = b.Name.V
		}
		if b.Delay.has() {
			h.Delay = b.Delay.V
		}
		if b.Timeout.has() {
			h.Timeout = b.Timeout.V
		}
		if b.MaxRetries.has() {
			h.MaxRetries = b.MaxRetries.V
		}
		if b.MaxRetriesDown.Set {
			h.MaxRetriesDown = defaultMaxRetriesDown
			if b.MaxRetriesDown.has() {
				h.MaxRetriesDown = b.MaxRetriesDown.V
			}
		}
		if isHTTPMonitor(h.Type) {
			if b.HTTPMethod.Set {
				h.HTTPMethod = "GET"
				if b.HTTPMethod.has() {
					h.HTTPMethod = b.HTTPMethod.V
				}
			}
			if b.URLPath.Set {
				h.URLPath = "/"
				if b.URLPath.has() {
					h.URLPath = b.URLPath.V
				}
			}
			if b.ExpectedCodes.Set {
				h.ExpectedCodes = "200"
				if b.ExpectedCodes.has() {
					h.ExpectedCodes = b.ExpectedCodes.V
				}
			}
		}
		if b.AdminStateUp.has() {
			h.AdminStateUp = b.AdminStateUp.V
		}
		if b.Tags.Set {
			h.Tags = tagsOf(b.Tags)
		}
		if b.HTTPVersion.Set {
			h.HTTPVersion = nil
			if b.HTTPVersion.has() {
				v := b.HTTPVersion.V
				h.HTTPVersion = &v
			}
		}
		if b.DomainName.Set {
			h.DomainName = b.DomainName.V
		}
		if h.DomainName != "" && h.HTTPVersion == nil {
			return errValidation("'http_version' must be specified when 'domain_name' is provided.")
		}
		if err := checkMonitorForPool(h.Type, h.Delay, p.Protocol); err != nil {
			return err
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		h.ProvisioningStatus = StatusPendingUpdate
		h.UpdatedAt = nowPtr()
		if err := s.monitors.Put(tx, id, h); err != nil {
			return err
		}
		s.emit(tx, "healthmonitor", id, h.ProjectID, "status", StatusPendingUpdate, "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"healthmonitor": viewMonitor(h)})
	return nil
}

func (s *Service) deleteMonitor(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		h, err := s.lookupMonitor(r, id)
		if err != nil {
			return err
		}
		p, ok := s.pools.Get(h.PoolID)
		if !ok {
			return errNotFound("Pool", h.PoolID)
		}
		if _, err := s.lockForChild(tx, p.LoadBalancerID, p.ListenerIDs, p.ID); err != nil {
			return err
		}
		h.ProvisioningStatus = StatusPendingDelete
		h.UpdatedAt = nowPtr()
		if err := s.monitors.Put(tx, id, h); err != nil {
			return err
		}
		s.emit(tx, "healthmonitor", id, h.ProjectID, "status", StatusPendingDelete, "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
