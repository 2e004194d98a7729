package cloud

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// adminRoutes registers fakecloud's own admin API under /admin (admin tokens only): faults,
// the event log, and the state of every resource.
func (c *Cloud) adminRoutes(env services.Env) {
	rt := env.Router("admin", "/admin", httpapi.StyleKeystone)
	rt.Gate = nil // faults never block their own switch
	admin := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if !httpapi.PrincipalFrom(r.Context()).IsAdmin() {
				return httpapi.Forbidden("fakecloud's admin API needs the admin role.")
			}
			return h(w, r)
		}
	}
	rt.Handle("GET /faults", "fault.list", admin(func(w http.ResponseWriter, r *http.Request) error {
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"faults": c.Faults.List()})
		return nil
	}))
	rt.Handle("POST /faults", "fault.add", admin(func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Fault *faultRequest `json:"fault"`
		}
		if err := httpapi.DecodeStrict(r, &req); err != nil {
			return err
		}
		if req.Fault == nil {
			return httpapi.BadRequest("the body must be {\"fault\": {...}}")
		}
		rule, err := req.Fault.rule()
		if err != nil {
			return httpapi.BadRequest("%v", err)
		}
		rule, err = c.Faults.Add(rule)
		if err != nil {
			return httpapi.BadRequest("%v", err)
		}
		httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"fault": rule})
		return nil
	}))
	rt.Handle("DELETE /faults/{id}", "fault.remove", admin(func(w http.ResponseWriter, r *http.Request) error {
		n, err := c.Faults.Remove(r.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			return httpapi.NotFound("fault", r.PathValue("id"))
		}
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"removed": n})
		return nil
	}))
	rt.Handle("GET /events", "event.list", admin(c.events))
	rt.Handle("GET /state", "state.get", admin(func(w http.ResponseWriter, r *http.Request) error {
		f := httpapi.NewFilter(r)
		out := []services.Resource{}
		for _, res := range c.Resources() {
			if f.Str("project", res.Project) && f.Str("service", res.Service) && f.Str("kind", res.Kind) {
				out = append(out, res)
			}
		}
		names := map[string]string{}
		for _, p := range c.Identity.Projects() {
			names[p.ID] = p.Name
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"resources": out, "tasks": c.Tasks.Pending(), "projects": names})
		return nil
	}))
}

// faultRequest is a fault as the admin API takes it: durations as strings ("2s").
type faultRequest struct {
	Type      string  `json:"type"`
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Project   string  `json:"project"`
	Rate      float64 `json:"rate"`
	Status    int     `json:"status"`
	Message   string  `json:"message"`
	Latency   string  `json:"latency"`
	Mode      string  `json:"mode"`
	StuckFor  string  `json:"stuck_for"`
	Resource  string  `json:"resource"`
	Limit     int     `json:"limit"`
	For       string  `json:"for"`  // switch off by itself after this long
	Seed      *int64  `json:"seed"` // repeatable draws for a rate below 1
}

func (f *faultRequest) rule() (faults.Rule, error) {
	r := faults.Rule{Type: f.Type, Service: f.Service, Operation: f.Operation, Project: f.Project, Rate: f.Rate,
		Status: f.Status, Message: f.Message, Mode: f.Mode, Resource: f.Resource, Limit: f.Limit, Seed: f.Seed}
	parse := func(name, s string) (time.Duration, error) {
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New(name + ": " + err.Error())
		}
		return d, nil
	}
	var err error
	if r.Latency, err = parse("latency", f.Latency); err != nil {
		return r, err
	}
	if r.StuckFor, err = parse("stuck_for", f.StuckFor); err != nil {
		return r, err
	}
	d, err := parse("for", f.For)
	if err != nil {
		return r, err
	}
	if d > 0 {
		t := time.Now().Add(d).UTC()
		r.Expires = &t
	}
	return r, nil
}

// events serves GET /admin/events?since=N[&follow=true]: with follow, the response streams one
// JSON event per line until the client goes away.
func (c *Cloud) events(w http.ResponseWriter, r *http.Request) error {
	var since uint64
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return httpapi.BadRequest("since must be a sequence number, got %q", s)
		}
		since = n
	}
	if r.URL.Query().Get("follow") != "true" {
		evs, _ := c.DB.EventsSince(since, 0)
		if evs == nil {
			evs = []store.Event{}
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"events": evs})
		return nil
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for {
		evs, changed := c.DB.EventsSince(since, 1000)
		for _, e := range evs {
			if err := enc.Encode(e); err != nil {
				return nil
			}
			since = e.Seq
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-changed:
		case <-time.After(15 * time.Second): // keep idle connections alive
			if _, err := w.Write([]byte("\n")); err != nil {
				return nil
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
