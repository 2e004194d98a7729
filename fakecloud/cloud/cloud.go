// Package cloud assembles fakecloud: the store, the task engine, fault injection, Keystone and
// every service on one HTTP handler, seeded with what a fresh region has.
package cloud

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/identity"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// Config is everything fakecloud is started with.
type Config struct {
	DataDir   string        // holds state.db
	Sync      bool          // fsync every update (host-crash durability)
	PublicURL string        // base URL for the catalog; "" = the Host of each request
	TokenTTL  time.Duration // Keystone token lifetime
	Timing    services.Timing
	Seed      Seed
	Backends  Backends
	Workers   int // concurrent async tasks
	Log       *slog.Logger
}

// MemoryTiming is the memory backend's default timing: quick, but visibly asynchronous.
var MemoryTiming = services.Timing{
	ServerBuild:       2 * time.Second,
	ServerDelete:      500 * time.Millisecond,
	LoadBalancerBuild: 3 * time.Second,
	NodeDeploy:        3 * time.Second,
	NodeClean:         2 * time.Second,
}

// Cloud is a running fakecloud.
type Cloud struct {
	cfg      Config
	DB       *store.DB
	Tasks    *tasks.Engine
	Faults   *faults.Injector
	Identity *identity.Service
	services []services.Service
	svc      serviceSet
	mux      *http.ServeMux
	creds    []Credential
}

// New opens the state in cfg.DataDir, builds every service and seeds a fresh region.
func New(cfg Config) (*Cloud, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "state.db"), store.Options{Sync: cfg.Sync})
	if err != nil {
		return nil, err
	}
	c := &Cloud{cfg: cfg, DB: db, mux: http.NewServeMux()}
	if err := c.build(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cloud) build() error {
	var err error
	if c.Faults, err = faults.New(c.DB); err != nil {
		return err
	}
	if c.Tasks, err = tasks.New(c.DB, tasks.Options{Workers: c.cfg.Workers, Log: c.cfg.Log, Staller: c.Faults}); err != nil {
		return err
	}
	env := services.Env{DB: c.DB, Tasks: c.Tasks, Log: c.cfg.Log, Quotas: c.Faults, Timing: c.cfg.Timing}
	env.Router = func(service, prefix string, style httpapi.Style) *httpapi.Router {
		return &httpapi.Router{Mux: c.mux, Service: service, Prefix: prefix, Style: style, Auth: c.Identity, Gate: c.Faults, Log: c.cfg.Log}
	}
	if c.Identity, err = identity.New(env, identity.Options{TokenTTL: c.cfg.TokenTTL, PublicURL: c.cfg.PublicURL}); err != nil {
		return err
	}
	c.services = append(c.services, c.Identity)
	if err := c.buildServices(env); err != nil {
		return err
	}
	for _, s := range c.services {
		s.Routes()
	}
	c.adminRoutes(env)
	c.mux.HandleFunc("GET /{$}", c.root)
	return c.seed()
}

// Handler is the HTTP handler serving every service.
func (c *Cloud) Handler() http.Handler { return c.mux }

// Start runs the task engine and housekeeping until ctx ends.
func (c *Cloud) Start(ctx context.Context) {
	if w := c.cfg.Backends.World; w != nil {
		c.reconcileWorld(ctx, w)
	}
	c.Tasks.Start(ctx)
	c.startServices(ctx)
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := c.Faults.Expire(); err != nil {
					c.cfg.Log.Error("expiring faults", "err", err)
				}
				if err := c.Identity.PruneRevoked(); err != nil {
					c.cfg.Log.Error("pruning revoked tokens", "err", err)
				}
			}
		}
	}()
}

// Close closes the state file. Stop the context given to Start first.
func (c *Cloud) Close() error { return c.DB.Close() }

// Resources lists every resource of every service, sorted by project, service, kind and name.
func (c *Cloud) Resources() []services.Resource {
	var out []services.Resource
	for _, s := range c.services {
		out = append(out, s.Resources()...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Project != b.Project {
			return a.Project < b.Project
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name+a.ID < b.Name+b.ID
	})
	return out
}

func (c *Cloud) root(w http.ResponseWriter, r *http.Request) {
	var eps []map[string]string
	for _, e := range identity.Catalog() {
		eps = append(eps, map[string]string{"type": e.Type, "name": e.Name, "path": e.Path})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"fakecloud": map[string]any{"services": eps, "auth_url": "/identity/v3"}})
}
