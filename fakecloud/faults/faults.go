// Package faults injects failures into fakecloud, the way a real cloud fails: HTTP errors at a
// rate, added latency, a whole service out (503, or connections dropped), asynchronous work
// stuck and then ERROR (an Octavia load balancer that stays PENDING_CREATE), and quota limits.
// Rules are stored, so they survive a restart, and every change is written to the event log.
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Types of fault.
const (
	TypeError   = "error"   // answer Status with a service-shaped error body, at Rate
	TypeLatency = "latency" // delay the request by Latency, at Rate
	TypeOutage  = "outage"  // the whole service is down: 503, or the connection dropped (Mode "drop")
	TypeStuck   = "stuck"   // async tasks of Operation hang for StuckFor, then go to ERROR
	TypeQuota   = "quota"   // the project may have at most Limit of Resource
)

// Rule is one injected fault.
type Rule struct {
	ID        string        `json:"id"`
	Type      string        `json:"type"`
	Service   string        `json:"service"`             // compute, network, load-balancer, image, baremetal, identity, or "*"
	Operation string        `json:"operation,omitempty"` // a glob on the operation or task kind, e.g. "server.*"; "" = all
	Project   string        `json:"project,omitempty"`   // a project id; "" = every project
	Rate      float64       `json:"rate,omitempty"`      // 0 < rate <= 1; 0 means 1
	Status    int           `json:"status,omitempty"`    // error: the HTTP status (default 500)
	Message   string        `json:"message,omitempty"`   // error: the message
	Latency   time.Duration `json:"latency,omitempty"`   // latency: the delay
	Mode      string        `json:"mode,omitempty"`      // outage: "503" (default) or "drop"
	StuckFor  time.Duration `json:"stuck_for,omitempty"` // stuck: how long before ERROR
	Resource  string        `json:"resource,omitempty"`  // quota: instances, ports, loadbalancer...
	Limit     int           `json:"limit,omitempty"`     // quota: the limit
	// Seed, for an error or latency rule with a rate below 1, makes the rule's draws repeat:
	// the same seed picks the same requests among those the rule sees, in order. Without it
	// the draws are random. The sequence starts over when fakecloud restarts.
	Seed    *int64     `json:"seed,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"` // switched off by itself after this time
}

// Validate checks a rule and fills defaults.
func (r *Rule) Validate() error {
	switch r.Type {
	case TypeError:
		if r.Status == 0 {
			r.Status = http.StatusInternalServerError
		}
		if r.Status < 400 || r.Status > 599 {
			return fmt.Errorf("status %d is not an HTTP error status (400-599)", r.Status)
		}
	case TypeLatency:
		if r.Latency <= 0 || r.Latency > 10*time.Minute {
			return fmt.Errorf("latency must be between 0 and 10m, got %s", r.Latency)
		}
	case TypeOutage:
		if r.Mode == "" {
			r.Mode = "503"
		}
		if r.Mode != "503" && r.Mode != "drop" {
			return fmt.Errorf("outage mode must be 503 or drop, got %q", r.Mode)
		}
	case TypeStuck:
		if r.StuckFor <= 0 {
			return fmt.Errorf("stuck needs a positive stuck_for duration")
		}
		if r.Operation == "" {
			return fmt.Errorf("stuck needs an operation: a task kind such as loadbalancer.create")
		}
	case TypeQuota:
		if r.Resource == "" || r.Limit < 0 {
			return fmt.Errorf("quota needs a resource and a limit >= 0")
		}
	default:
		return fmt.Errorf("unknown fault type %q (want error, latency, outage, stuck or quota)", r.Type)
	}
	if r.Service == "" {
		r.Service = "*"
	}
	if r.Rate < 0 || r.Rate > 1 {
		return fmt.Errorf("rate must be between 0 and 1, got %g", r.Rate)
	}
	if _, err := path.Match(r.Operation, ""); err != nil {
		return fmt.Errorf("operation %q is not a valid glob: %w", r.Operation, err)
	}
	return nil
}

// Injector holds the rules and applies them. It implements httpapi.Gate, tasks.Staller and
// services.QuotaOverrides.
type Injector struct {
	db    *store.DB
	rules *store.Table[Rule]
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	draws map[string]*rand.Rand // a seeded rule's generator, by rule id
}

// New loads the stored rules.
func New(db *store.DB) (*Injector, error) {
	t, err := store.NewTable[Rule](db, "_faults")
	if err != nil {
		return nil, err
	}
	return &Injector{db: db, rules: t, sleep: sleepCtx, draws: map[string]*rand.Rand{}}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Add validates and stores a rule, and returns it with its id.
func (in *Injector) Add(r Rule) (Rule, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.ID = uuid.NewString()
	r.Created = time.Now().UTC()
	err := in.db.Update(func(tx *store.Tx) error {
		tx.Emit(store.Event{Service: "fault", Kind: r.Type, ID: r.ID, Project: r.Project, Action: "fault-on", Detail: r.Describe(), Severity: "warning"})
		return in.rules.Put(tx, r.ID, r)
	})
	return r, err
}

// Remove switches a rule off; "all" removes every rule.
func (in *Injector) Remove(id string) (int, error) {
	var gone []Rule
	if id == "all" {
		gone = in.rules.List(nil)
	} else if r, ok := in.rules.Get(id); ok {
		gone = []Rule{r}
	} else {
		return 0, fmt.Errorf("fault %s: %w", id, store.ErrNotFound)
	}
	err := in.db.Update(func(tx *store.Tx) error {
		for _, r := range gone {
			in.forget(r.ID)
			tx.Emit(store.Event{Service: "fault", Kind: r.Type, ID: r.ID, Project: r.Project, Action: "fault-off", Detail: r.Describe()})
			if err := in.rules.Delete(tx, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return len(gone), err
}

// forget drops a removed rule's generator.
func (in *Injector) forget(id string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.draws, id)
}

// List returns the active rules.
func (in *Injector) List() []Rule {
	return in.rules.List(func(_ string, r *Rule) bool { return r.active(time.Now()) })
}

// Describe says what a rule does, in one line.
func (r Rule) Describe() string {
	scope := r.Service
	if r.Operation != "" {
		scope += ":" + r.Operation
	}
	if r.Project != "" {
		scope += " in project " + r.Project
	}
	rate := ""
	if r.Rate > 0 && r.Rate < 1 {
		rate = fmt.Sprintf(" for %.0f%% of requests", r.Rate*100)
	}
	switch r.Type {
	case TypeError:
		return fmt.Sprintf("%s answers %d%s", scope, r.Status, rate)
	case TypeLatency:
		return fmt.Sprintf("%s delayed by %s%s", scope, r.Latency, rate)
	case TypeOutage:
		return fmt.Sprintf("%s is down (%s)", scope, r.Mode)
	case TypeStuck:
		return fmt.Sprintf("%s tasks stuck, ERROR after %s", scope, r.StuckFor)
	case TypeQuota:
		where := "every project"
		if r.Project != "" {
			where = "project " + r.Project
		}
		return fmt.Sprintf("quota %s limited to %d in %s", r.Resource, r.Limit, where)
	}
	return r.Type
}

func (r *Rule) active(now time.Time) bool { return r.Expires == nil || now.Before(*r.Expires) }

func (r *Rule) matches(service, op, project string) bool {
	if service != "" && r.Service != "*" && r.Service != service {
		return false
	}
	if r.Project != "" && project != "" && r.Project != project {
		return false
	}
	if r.Operation != "" {
		if ok, _ := path.Match(r.Operation, op); !ok {
			return false
		}
	}
	return true
}

// fires draws whether a rule applies to this request: always at rate 0 or 1, else at random,
// from the rule's own generator when it has a seed.
func (in *Injector) fires(r *Rule) bool {
	if r.Rate == 0 || r.Rate >= 1 {
		return true
	}
	if r.Seed == nil {
		return rand.Float64() < r.Rate
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	g, ok := in.draws[r.ID]
	if !ok {
		g = rand.New(rand.NewPCG(uint64(*r.Seed), 0x6661756c7473)) // "faults"
		in.draws[r.ID] = g
	}
	return g.Float64() < r.Rate
}

func (in *Injector) matching(types map[string]bool, service, op, project string) []Rule {
	now := time.Now()
	return in.rules.List(func(_ string, r *Rule) bool {
		return types[r.Type] && r.active(now) && r.matches(service, op, project)
	})
}

var httpTypes = map[string]bool{TypeError: true, TypeLatency: true, TypeOutage: true}

// Intercept implements httpapi.Gate.
func (in *Injector) Intercept(w http.ResponseWriter, r *http.Request, op httpapi.Op, style httpapi.Style) bool {
	if in.rules.Len() == 0 {
		return false
	}
	for _, rule := range in.matching(httpTypes, op.Service, op.Name, "") {
		switch rule.Type {
		case TypeOutage:
			if rule.Mode == "drop" {
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return true
					}
				}
			}
			httpapi.WriteError(w, style, httpapi.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "The %s service is unavailable (injected outage).", op.Service))
			return true
		case TypeLatency:
			if in.fires(&rule) {
				if err := in.sleep(r.Context(), rule.Latency); err != nil {
					return true // the client went away
				}
			}
		case TypeError:
			if in.fires(&rule) {
				msg := rule.Message
				if msg == "" {
					msg = fmt.Sprintf("Injected fault: %s failed with %d.", op, rule.Status)
				}
				httpapi.WriteError(w, style, httpapi.Errorf(rule.Status, "InjectedFault", "%s", msg))
				return true
			}
		}
	}
	return false
}

var stuckTypes = map[string]bool{TypeStuck: true}

// Stall implements tasks.Staller: task kinds are matched against stuck rules' operations.
func (in *Injector) Stall(kind, project string) (time.Duration, bool) {
	if in.rules.Len() == 0 {
		return 0, false
	}
	for _, r := range in.matching(stuckTypes, "", kind, project) {
		return r.StuckFor, true
	}
	return 0, false
}

// Limit implements services.QuotaOverrides.
func (in *Injector) Limit(project, resource string) (int, bool) {
	if in.rules.Len() == 0 {
		return 0, false
	}
	now := time.Now()
	best, found := 0, false
	for _, r := range in.rules.List(func(_ string, r *Rule) bool {
		return r.Type == TypeQuota && r.active(now) && r.Resource == resource && (r.Project == "" || r.Project == project)
	}) {
		if !found || r.Limit < best {
			best, found = r.Limit, true
		}
	}
	return best, found
}

// Expire removes rules whose time is up, logging each; call it periodically.
func (in *Injector) Expire() error {
	now := time.Now()
	old := in.rules.List(func(_ string, r *Rule) bool { return !r.active(now) })
	for _, r := range old {
		if _, err := in.Remove(r.ID); err != nil {
			return err
		}
	}
	return nil
}
