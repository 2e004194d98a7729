package loadbalancer

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// ServiceName is the catalog service type and the event log's service name.
const ServiceName = "load-balancer"

// Prefix is the path prefix of the load-balancer endpoint.
const Prefix = "/load-balancer"

// Task kinds: one per kind of pending state, all run by the same handler, so that faults can
// target creates, updates or deletes.
const (
	TaskCreate = "loadbalancer.create"
	TaskUpdate = "loadbalancer.update"
	TaskDelete = "loadbalancer.delete"
)

// Provider is a load balancer provider driver, as GET /lbaas/providers lists them.
type Provider struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Config tunes the service; the zero value is Octavia's default configuration.
type Config struct {
	// Quotas are the limits of projects without overrides (zero value: all unlimited).
	Quotas *QuotaDefaults
	// Providers are the enabled providers; the first is the default. Default: amphora.
	Providers []Provider
	// HealthInterval is how often Start polls the backend for member health (default 10 s).
	HealthInterval time.Duration
}

// Service is the Octavia service.
type Service struct {
	env     services.Env
	ports   services.Ports
	backend Backend
	cfg     Config
	log     *slog.Logger

	lbs       *store.Table[LoadBalancer]
	listeners *store.Table[Listener]
	pools     *store.Table[Pool]
	members   *store.Table[Member]
	monitors  *store.Table[HealthMonitor]
	quotas    *store.Table[Quota]
	lbNames   *nameIndex
}

// New creates the service's tables and registers its task handlers. ports is Neutron's side of
// the VIP ports; backend makes load balancers real.
func New(env services.Env, ports services.Ports, backend Backend, cfg Config) (*Service, error) {
	if env.DB == nil || env.Tasks == nil {
		return nil, fmt.Errorf("loadbalancer: env needs a DB and a task engine")
	}
	if ports == nil || backend == nil {
		return nil, fmt.Errorf("loadbalancer: ports and backend are required")
	}
	if cfg.Quotas == nil {
		q := UnlimitedQuotas()
		cfg.Quotas = &q
	}
	if len(cfg.Providers) == 0 {
		cfg.Providers = []Provider{{Name: defaultProvider, Description: "The Octavia Amphora driver."}}
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 10 * time.Second
	}
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{env: env, ports: ports, backend: backend, cfg: cfg, log: log}
	var err error
	if s.lbs, err = store.NewTable[LoadBalancer](env.DB, "lbaas_loadbalancers"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	if s.listeners, err = store.NewTable[Listener](env.DB, "lbaas_listeners"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	if s.pools, err = store.NewTable[Pool](env.DB, "lbaas_pools"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	if s.members, err = store.NewTable[Member](env.DB, "lbaas_members"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	if s.monitors, err = store.NewTable[HealthMonitor](env.DB, "lbaas_healthmonitors"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	if s.quotas, err = store.NewTable[Quota](env.DB, "lbaas_quotas"); err != nil {
		return nil, fmt.Errorf("loadbalancer: %w", err)
	}
	s.lbNames = newNameIndex()
	s.lbs.List(func(id string, v *LoadBalancer) bool {
		s.lbNames.set(nil, id, v.Name, true)
		return false
	})
	h := &taskHandler{s: s}
	for _, k := range []string{TaskCreate, TaskUpdate, TaskDelete} {
		env.Tasks.Register(k, h)
	}
	return s, nil
}

// Routes registers the Octavia API under /load-balancer. Octavia serves every collection at
// /v2.0/lbaas/..., /v2/lbaas/..., /v2.0/... and /v2/...; so does fakecloud.
func (s *Service) Routes() {
	rt := routeSet{s.env.Router(ServiceName, Prefix, httpapi.StyleOctavia)}
	rt.HandlePublic("GET /{$}", "versions", s.versions)
	rt.HandlePublic("GET ", "versions", s.versions)
	for _, v := range []string{"/v2.0", "/v2"} {
		rt.HandlePublic("GET "+v+"/{$}", "version", s.version)
		rt.HandlePublic("GET "+v, "version", s.version)
	}
	for _, base := range []string{"/v2.0/lbaas", "/v2/lbaas", "/v2.0", "/v2"} {
		s.lbRoutes(rt, base)
		s.listenerRoutes(rt, base)
		s.poolRoutes(rt, base)
		s.memberRoutes(rt, base)
		s.monitorRoutes(rt, base)
		s.quotaRoutes(rt, base)
		rt.Handle("GET "+base+"/providers", "provider.list", s.listProviders)
		s.emptyRoutes(rt, base)
	}
	rt.Handle("GET /v2.0/octavia/amphorae", "amphora.list", s.listAmphorae)
	rt.Handle("GET /v2/octavia/amphorae", "amphora.list", s.listAmphorae)
}

// routeSet registers routes whose answers carry an x-openstack-request-id, as Octavia's
// oslo middleware adds.
type routeSet struct{ rt *httpapi.Router }

// Handle registers an authenticated route.
func (r routeSet) Handle(pattern, name string, h httpapi.HandlerFunc) {
	r.rt.Handle(pattern, name, withRequestID(h))
}

// HandlePublic registers a route that needs no token.
func (r routeSet) HandlePublic(pattern, name string, h httpapi.HandlerFunc) {
	r.rt.HandlePublic(pattern, name, withRequestID(h))
}

func withRequestID(h httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("X-Openstack-Request-Id", "req-"+uuid.NewString())
		return h(w, r)
	}
}

// Resources lists every object of the service for `fakecloud state`.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	for _, v := range s.lbs.List(nil) {
		out = append(out, services.Resource{Service: ServiceName, Kind: "loadbalancer", ID: v.ID, Name: v.Name, Project: v.ProjectID, Status: v.ProvisioningStatus + "/" + v.OperatingStatus})
	}
	for _, v := range s.listeners.List(nil) {
		out = append(out, services.Resource{Service: ServiceName, Kind: "listener", ID: v.ID, Name: v.Name, Project: v.ProjectID, Status: v.ProvisioningStatus + "/" + v.OperatingStatus})
	}
	for _, v := range s.pools.List(nil) {
		out = append(out, services.Resource{Service: ServiceName, Kind: "pool", ID: v.ID, Name: v.Name, Project: v.ProjectID, Status: v.ProvisioningStatus + "/" + v.OperatingStatus})
	}
	for _, v := range s.members.List(nil) {
		out = append(out, services.Resource{Service: ServiceName, Kind: "member", ID: v.ID, Name: v.Name, Project: v.ProjectID, Status: v.ProvisioningStatus + "/" + v.OperatingStatus})
	}
	for _, v := range s.monitors.List(nil) {
		out = append(out, services.Resource{Service: ServiceName, Kind: "healthmonitor", ID: v.ID, Name: v.Name, Project: v.ProjectID, Status: v.ProvisioningStatus + "/" + v.OperatingStatus})
	}
	return out
}

var _ services.Service = (*Service)(nil)

// ---- errors, in Octavia's words (octavia/common/exceptions.py) ----

func errNotFound(resource, id string) error {
	return httpapi.Errorf(http.StatusNotFound, "NotFound", "%s %s not found.", resource, id)
}

func errInvalidSubresource(resource, id string) error {
	return httpapi.Errorf(http.StatusBadRequest, "InvalidSubresource", "%s %s not found.", resource, id)
}

func errImmutable(resource, id string) error {
	return httpapi.Errorf(http.StatusConflict, "ImmutableObject", "%s %s is immutable and cannot be updated.", resource, id)
}

func errPendingState(state, id string) error {
	return httpapi.Errorf(http.StatusConflict, "LBPendingStateError", "Invalid state %s of loadbalancer resource %s", state, id)
}

func errValidation(format string, args ...any) error {
	return httpapi.Errorf(http.StatusBadRequest, "ValidationException", "Validation failure: %s", fmt.Sprintf(format, args...))
}

func errInvalidOption(value any, option string) error {
	return httpapi.Errorf(http.StatusBadRequest, "InvalidOption", "%v is not a valid option for %s", value, option)
}

func errQuota(resource string) error {
	return httpapi.Errorf(http.StatusForbidden, "QuotaException", "Quota has been met for resources: %s", resource)
}

func errForbidden() error {
	return httpapi.Errorf(http.StatusForbidden, "PolicyForbidden", "Policy does not allow this request to be performed.")
}

// errInput is wsme's complaint about one attribute of a request body.
func errInput(field string, value any, reason string) error {
	return httpapi.Errorf(http.StatusBadRequest, "InvalidInput", "Invalid input for field/attribute %s. Value: '%v'. %s", field, value, reason)
}

// ---- authorization ----

// authorize refuses a caller who may not act on project's objects, as Octavia's policy does
// (403, not 404).
func authorize(r *http.Request, project string) error {
	p := httpapi.PrincipalFrom(r.Context())
	if p == nil || !p.Sees(project) {
		return errForbidden()
	}
	return nil
}

// ownerFor decides the project of a new object: the caller's, or for an admin the one asked.
func ownerFor(r *http.Request, asked string) (string, error) {
	p := httpapi.PrincipalFrom(r.Context())
	if p == nil {
		return "", errForbidden()
	}
	if asked == "" || asked == p.ProjectID {
		if p.ProjectID == "" {
			return "", errValidation("Missing project ID in request where one is required. An administrator should check the keystone settings in the Octavia configuration.")
		}
		return p.ProjectID, nil
	}
	if !p.IsAdmin() {
		return "", errForbidden()
	}
	return asked, nil
}

// ---- small helpers ----

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

func nowPtr() *time.Time { t := now(); return &t }

func (s *Service) emit(tx *store.Tx, kind, id, project, action, detail, severity string) {
	tx.Emit(store.Event{Service: ServiceName, Kind: kind, ID: id, Project: project, Action: action, Detail: detail, Severity: severity})
}

// taskKindFor returns the task kind that resolves a load balancer's pending status.
func taskKindFor(status string) string {
	switch status {
	case StatusPendingCreate:
		return TaskCreate
	case StatusPendingDelete:
		return TaskDelete
	default:
		return TaskUpdate
	}
}

// schedule enqueues the task that resolves lb's pending state, unless one is pending already.
func (s *Service) schedule(tx *store.Tx, lb LoadBalancer) error {
	kind := taskKindFor(lb.ProvisioningStatus)
	if err := s.env.Tasks.Cancel(tx, "", lb.ID); err != nil {
		return fmt.Errorf("cancelling tasks of load balancer %s: %w", lb.ID, err)
	}
	if _, err := s.env.Tasks.Enqueue(tx, kind, lb.ID, lb.ProjectID, s.env.Timing.LoadBalancerBuild, nil); err != nil {
		return fmt.Errorf("enqueueing %s for load balancer %s: %w", kind, lb.ID, err)
	}
	return nil
}

// lockForChild is Octavia's test_and_set for a change to a child: the load balancer must be
// ACTIVE (and the pool, when poolID is given and checkPool is set); it goes PENDING_UPDATE with
// the listeners given, and the update task is scheduled. Call inside an update.
func (s *Service) lockForChild(tx *store.Tx, lbID string, listenerIDs []string, poolID string) (LoadBalancer, error) {
	if poolID != "" {
		p, ok := s.pools.Get(poolID)
		if ok && p.ProvisioningStatus != StatusActive {
			return LoadBalancer{}, errImmutable("Pool", poolID)
		}
	}
	lb, ok := s.lbs.Get(lbID)
	if !ok {
		return lb, errNotFound("Load Balancer", lbID)
	}
	if lb.ProvisioningStatus != StatusActive {
		return lb, errImmutable("Load Balancer", lbID)
	}
	lb.ProvisioningStatus = StatusPendingUpdate
	lb.UpdatedAt = nowPtr()
	if err := s.putLB(tx, lb); err != nil {
		return lb, err
	}
	s.emit(tx, "loadbalancer", lb.ID, lb.ProjectID, "status", StatusPendingUpdate, "")
	for _, id := range listenerIDs {
		if _, err := s.listeners.Modify(tx, id, func(l *Listener) error {
			l.ProvisioningStatus = StatusPendingUpdate
			return nil
		}); err != nil {
			return lb, err
		}
	}
	if poolID != "" {
		if _, err := s.pools.Modify(tx, poolID, func(p *Pool) error {
			p.ProvisioningStatus = StatusPendingUpdate
			return nil
		}); err != nil {
			return lb, err
		}
	}
	return lb, s.schedule(tx, lb)
}

// quotaLimit returns the effective limit of resource for project (-1: unlimited): the stored
// or configured quota, lowered by an injected fault limit.
func (s *Service) quotaLimit(project, resource string) int {
	d := *s.cfg.Quotas
	q, _ := s.quotas.Get(project)
	pick := func(v *int, def int) int {
		if v != nil {
			return *v
		}
		return def
	}
	var limit int
	switch resource {
	case "loadbalancer":
		limit = pick(q.LoadBalancer, d.LoadBalancer)
	case "listener":
		limit = pick(q.Listener, d.Listener)
	case "pool":
		limit = pick(q.Pool, d.Pool)
	case "healthmonitor":
		limit = pick(q.HealthMonitor, d.HealthMonitor)
	case "member":
		limit = pick(q.Member, d.Member)
	default:
		limit = quotaUnlimited
	}
	if s.env.Quotas != nil {
		if n, ok := s.env.Quotas.Limit(project, resource); ok && (limit < 0 || n < limit) {
			limit = n
		}
	}
	return limit
}

// checkQuota refuses creating n more objects of resource in project when that exceeds the
// limit. Call inside the update that creates them.
func (s *Service) checkQuota(project, resource string, n int) error {
	limit := s.quotaLimit(project, resource)
	if limit < 0 {
		return nil
	}
	var used int
	switch resource {
	case "loadbalancer":
		used = s.lbs.Count(func(_ string, v *LoadBalancer) bool { return v.ProjectID == project })
	case "listener":
		used = s.listeners.Count(func(_ string, v *Listener) bool { return v.ProjectID == project })
	case "pool":
		used = s.pools.Count(func(_ string, v *Pool) bool { return v.ProjectID == project })
	case "healthmonitor":
		used = s.monitors.Count(func(_ string, v *HealthMonitor) bool { return v.ProjectID == project })
	case "member":
		used = s.members.Count(func(_ string, v *Member) bool { return v.ProjectID == project })
	}
	if used+n > limit {
		return errQuota(quotaResourceName[resource])
	}
	return nil
}

var quotaResourceName = map[string]string{
	"loadbalancer":  "Load Balancer",
	"listener":      "Listener",
	"pool":          "Pool",
	"healthmonitor": "Health Monitor",
	"member":        "Member",
}
