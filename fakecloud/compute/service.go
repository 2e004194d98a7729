package compute

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Task kinds of the compute service.
const (
	TaskServerBuild  = "compute.server.build"
	TaskServerDelete = "compute.server.delete"
	TaskServerAction = "compute.server.action"
)

// Service is fakecloud's Nova.
type Service struct {
	env     services.Env
	cfg     Config
	ports   services.Ports     // may be nil: servers then get no ports
	images  services.Images    // may be nil: every imageRef is unknown
	metal   services.BareMetal // may be nil: bare-metal flavors find no host
	backend Backend

	servers  *store.Table[Server]
	flavors  *store.Table[Flavor]
	keypairs *store.Table[KeyPair]
	groups   *store.Table[ServerGroup]
	quotas   *store.Table[Quota]

	// usage counts what each project's servers hold, for quota checks without scans. It is
	// changed only inside store updates (which are serialised) and rebuilt on start.
	usageMu sync.Mutex
	usage   map[string]*usage

	rr atomic.Uint64 // round-robin placement

	// byName indexes server ids by name for exact-name list filters ("^name$", as CAPO
	// sends). It is changed after commits; listings re-check every candidate in the store.
	nameMu sync.RWMutex
	byName map[string]map[string]struct{}
}

func (s *Service) indexName(name, id string, add bool) {
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	set := s.byName[name]
	if add {
		if set == nil {
			set = map[string]struct{}{}
			s.byName[name] = set
		}
		set[id] = struct{}{}
		return
	}
	delete(set, id)
	if len(set) == 0 {
		delete(s.byName, name)
	}
}

func (s *Service) idsNamed(name string) []string {
	s.nameMu.RLock()
	defer s.nameMu.RUnlock()
	out := make([]string, 0, len(s.byName[name]))
	for id := range s.byName[name] {
		out = append(out, id)
	}
	return out
}

type usage struct {
	Instances, Cores, RAM int
}

// New creates the compute service: its tables, its usage counters and its task handlers.
// ports, images and metal may be nil (no networking, no images, no bare metal); backend nil
// means MemoryBackend.
func New(env services.Env, ports services.Ports, images services.Images, metal services.BareMetal, backend Backend, cfg Config) (*Service, error) {
	if env.DB == nil || env.Tasks == nil {
		return nil, errors.New("compute: env.DB and env.Tasks are required")
	}
	if backend == nil {
		backend = MemoryBackend{}
	}
	if env.Log == nil {
		env.Log = slog.Default()
	}
	s := &Service{env: env, cfg: cfg.withDefaults(), ports: ports, images: images, metal: metal, backend: backend, usage: map[string]*usage{}, byName: map[string]map[string]struct{}{}}
	var err error
	if s.servers, err = store.NewTable[Server](env.DB, "compute_servers"); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	if s.flavors, err = store.NewTable[Flavor](env.DB, "compute_flavors"); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	if s.keypairs, err = store.NewTable[KeyPair](env.DB, "compute_keypairs"); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	if s.groups, err = store.NewTable[ServerGroup](env.DB, "compute_server_groups"); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	if s.quotas, err = store.NewTable[Quota](env.DB, "compute_quotas"); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	s.servers.Count(func(id string, v *Server) bool {
		s.indexName(v.Name, id, true)
		u := s.usageOf(v.Project)
		u.Instances++
		u.Cores += v.Flavor.quotaCores()
		u.RAM += v.Flavor.quotaRAM()
		return false
	})
	env.Tasks.Register(TaskServerBuild, buildHandler{s})
	env.Tasks.Register(TaskServerDelete, deleteHandler{s})
	env.Tasks.Register(TaskServerAction, actionHandler{s})
	return s, nil
}

// usageOf returns the counters of project; the caller holds usageMu or runs before serving.
func (s *Service) usageOf(project string) *usage {
	u := s.usage[project]
	if u == nil {
		u = &usage{}
		s.usage[project] = u
	}
	return u
}

func (s *Service) addUsage(project string, n, cores, ram int) {
	s.usageMu.Lock()
	u := s.usageOf(project)
	u.Instances += n
	u.Cores += cores
	u.RAM += ram
	s.usageMu.Unlock()
}

func (s *Service) usageFor(project string) usage {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	if u := s.usage[project]; u != nil {
		return *u
	}
	return usage{}
}

// Resources lists servers, key pairs and server groups for `fakecloud state`.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	s.servers.Count(func(id string, v *Server) bool {
		out = append(out, services.Resource{Service: "compute", Kind: "server", ID: id, Name: v.Name, Project: v.Project, Status: v.Status})
		return false
	})
	for _, g := range s.groups.List(nil) {
		out = append(out, services.Resource{Service: "compute", Kind: "server_group", ID: g.ID, Name: g.Name, Project: g.Project, Status: g.Policy})
	}
	for _, k := range s.keypairs.List(nil) {
		out = append(out, services.Resource{Service: "compute", Kind: "keypair", ID: k.UserID + "/" + k.Name, Name: k.Name, Project: k.Project, Status: k.Type})
	}
	for _, f := range s.flavors.List(nil) {
		out = append(out, services.Resource{Service: "compute", Kind: "flavor", ID: f.ID, Name: f.Name, Status: "public=" + fmt.Sprint(f.IsPublic)})
	}
	return out
}

// call is what every compute handler gets: the caller, the microversion, the request.
type call struct {
	w  http.ResponseWriter
	r  *http.Request
	p  *httpapi.Principal
	mv Version
	// base is the URL of the endpoint's root, e.g. http://host:port/compute.
	base string
	// reqID is the request id answered in X-Openstack-Request-Id (and kept in instance actions).
	reqID string
}

type handler func(c *call) error

// Routes registers every compute route under /compute.
func (s *Service) Routes() {
	rt := s.env.Router("compute", "/compute", httpapi.StyleNova)
	h := func(fn handler) httpapi.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			v, err := requestedVersion(r)
			setVersionHeaders(w, v)
			reqID := "req-" + uuid.NewString()
			w.Header().Set("X-Openstack-Request-Id", reqID)
			w.Header().Set("X-Compute-Request-Id", reqID)
			if err != nil {
				return err
			}
			p := httpapi.PrincipalFrom(r.Context())
			if p == nil {
				p = &httpapi.Principal{}
			}
			return fn(&call{w: w, r: r, p: p, mv: v, base: baseURL(r, rt.Prefix), reqID: reqID})
		}
	}
	s.versionRoutes(rt, h)
	s.serverRoutes(rt, h)
	s.flavorRoutes(rt, h)
	s.keypairRoutes(rt, h)
	s.groupRoutes(rt, h)
	s.zoneRoutes(rt, h)
	s.quotaRoutes(rt, h)
}

func baseURL(r *http.Request, prefix string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(prefix, "/")
}

// links returns the self and bookmark links of a resource at path (e.g. "servers/<id>").
func (c *call) links(path string) []map[string]string {
	return []map[string]string{
		{"rel": "self", "href": c.base + "/v2.1/" + path},
		{"rel": "bookmark", "href": c.base + "/" + path},
	}
}

func (c *call) json(status int, v any) error {
	httpapi.WriteJSON(c.w, status, v)
	return nil
}

// requireAdmin refuses a non-admin caller with Nova's policy message.
func (c *call) requireAdmin(rule string) error {
	if !c.p.IsAdmin() {
		return httpapi.Forbidden("Policy doesn't allow %s to be performed.", rule)
	}
	return nil
}

// emit records an event of the compute service.
func emit(tx *store.Tx, kind, id, project, action, detail string) {
	sev := ""
	if action == "error" || strings.Contains(detail, StatusError) {
		sev = "error"
	}
	tx.Emit(store.Event{Service: "compute", Kind: kind, ID: id, Project: project, Action: action, Detail: detail, Severity: sev})
}
