// Package servicetest is the shared test support of fakecloud's service packages: a stub
// Keystone with fixed tokens, and a Harness that runs one service alone (its state in a
// temporary directory, a task engine, its routes on a test HTTP server) and hands out
// gophercloud clients for it. Whole-cloud tests use package cloudtest instead.
//
// A service's tests use it as:
//
//	h := servicetest.New(t, servicetest.Options{Timing: ...})
//	svc, err := image.New(h.Env, ...) // registers its task handlers
//	svc.Routes()                      // on h.Mux, through h.Env.Router
//	h.Start()                         // runs the task engine
//	c := h.Client("demo", "image", "/image/", "/image/v2/")
package servicetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// StubAuth is an httpapi.Authenticator that knows fixed tokens, each naming its user:
//
//   - "admin": admin of project admin (sees every project);
//   - "demo" and "other": members of projects demo and other;
//   - "demo2": a second member of project demo;
//   - "reader": reader (read-only) of project demo.
//
// Roles are implied as Keystone's defaults imply them: an admin is also a member and a
// reader, a member also a reader. Any other token is refused.
type StubAuth struct{}

// Authenticate returns a new principal for a known token, or an error for any other.
func (StubAuth) Authenticate(tok string) (*httpapi.Principal, error) {
	var (
		admin  = []string{httpapi.RoleAdmin, httpapi.RoleMember, httpapi.RoleReader}
		member = []string{httpapi.RoleMember, httpapi.RoleReader}
		reader = []string{httpapi.RoleReader}
	)
	switch tok {
	case "admin":
		return &httpapi.Principal{UserID: tok, ProjectID: "admin", Roles: admin}, nil
	case "demo", "other":
		return &httpapi.Principal{UserID: tok, ProjectID: tok, Roles: member}, nil
	case "demo2":
		return &httpapi.Principal{UserID: tok, ProjectID: "demo", Roles: member}, nil
	case "reader":
		return &httpapi.Principal{UserID: tok, ProjectID: "demo", Roles: reader}, nil
	}
	return nil, fmt.Errorf("unknown token")
}

// Options shape a Harness; the zero value is a fresh state, no timers and default engine
// options.
type Options struct {
	// Dir is the state directory (the store is Dir/state.db); empty means a new temporary
	// one. Give the same Dir to a second Harness to test a restart.
	Dir string
	// Timing is the simulated duration of the asynchronous work.
	Timing services.Timing
	// Quotas are injected quota limits; may be nil.
	Quotas services.QuotaOverrides
	// Log goes to the service (Env.Log), its router and, unless Tasks.Log is set, the task
	// engine. Nil leaves each to its default.
	Log *slog.Logger
	// Tasks are the task engine's options.
	Tasks tasks.Options
	// Drain is how long Stop lets a running task finish its attempt before it closes the
	// store (queued tasks stay in the state); zero closes it at once.
	Drain time.Duration
}

// Harness runs one service on its own for a test: New builds the Env the service is
// constructed with and serves Mux at URL; Start runs the task engine; Stop (registered as a
// cleanup) shuts everything down.
type Harness struct {
	// Env is what the service is constructed with; its Router puts routes on Mux with
	// StubAuth.
	Env services.Env
	// DB is the service's store (also Env.DB).
	DB *store.DB
	// Tasks is the task engine (also Env.Tasks).
	Tasks *tasks.Engine
	// Mux holds the service's routes; it is the test server's handler.
	Mux *http.ServeMux
	// Dir is the state directory.
	Dir string
	// URL is the base URL of the test server, e.g. http://127.0.0.1:34567.
	URL string

	server *httptest.Server
	drain  time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	stop   sync.Once
}

// New opens the store and the task engine, and serves a mux for the service's routes on a
// test HTTP server until the test ends. The engine runs once Start is called, after the
// service has registered its task handlers.
func New(t testing.TB, o Options) *Harness {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	db, err := store.Open(filepath.Join(o.Dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Tasks.Log == nil {
		o.Tasks.Log = o.Log
	}
	eng, err := tasks.New(db, o.Tasks)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Harness{
		Env: services.Env{DB: db, Tasks: eng, Log: o.Log, Quotas: o.Quotas, Timing: o.Timing,
			Router: func(service, prefix string, style httpapi.Style) *httpapi.Router {
				return &httpapi.Router{Mux: mux, Service: service, Prefix: prefix, Style: style, Auth: StubAuth{}, Log: o.Log}
			}},
		DB: db, Tasks: eng, Mux: mux, Dir: o.Dir,
		server: httptest.NewServer(mux), drain: o.Drain, ctx: ctx, cancel: cancel,
	}
	h.URL = h.server.URL
	t.Cleanup(h.Stop)
	return h
}

// Start runs the task engine until Stop.
func (h *Harness) Start() { h.Tasks.Start(h.ctx) }

// Stop stops the engine and the server and closes the store, as a process that dies would
// leave them. New registers it as a cleanup; calling it again does nothing.
func (h *Harness) Stop() {
	h.stop.Do(func() {
		h.cancel()
		h.server.Close()
		if h.drain > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), h.drain)
			_ = h.Tasks.WaitIdle(ctx)
			cancel()
		}
		_ = h.DB.Close()
	})
}

// Client returns a gophercloud client acting as token for the service of serviceType (as
// gophercloud names it, e.g. "image"; it picks the microversion header) whose endpoint and
// resources are at the paths endpoint and resourceBase of the server (e.g. "/image/" and
// "/image/v2/"). Set its Microversion if the test needs one.
func (h *Harness) Client(token, serviceType, endpoint, resourceBase string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: h.URL + endpoint, ResourceBase: h.URL + resourceBase, Type: serviceType}
}

// Do sends a request for path (from the server's root, e.g. "/image/v2/images") as token
// ("" for none) with header, and returns the status, headers and body of the answer. A
// string or []byte body is sent as it is, nil sends none, anything else is sent as JSON. It
// fails the test when the request cannot be sent.
func (h *Harness) Do(t testing.TB, token, method, path string, header http.Header, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%s %s: encoding the body: %v", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, data
}

// JSONObject decodes an answer's body as a JSON object; an empty body gives nil.
func JSONObject(data []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var m map[string]any
	err := json.Unmarshal(data, &m)
	return m, err
}

// StatusCode returns the HTTP status of a gophercloud error for an unexpected answer, and 0
// for nil or any other error.
func StatusCode(err error) int {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return e.Actual
	}
	return 0
}
