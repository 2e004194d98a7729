package network

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// stubAuth maps fixed tokens to principals.
type stubAuth map[string]*httpapi.Principal

func (a stubAuth) Authenticate(tok string) (*httpapi.Principal, error) {
	if p, ok := a[tok]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown token")
}

var testAuth = stubAuth{
	"admin":  {UserID: "u-admin", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}},
	"demo":   {UserID: "u-demo", ProjectID: "demo", Roles: []string{"member", "reader"}},
	"other":  {UserID: "u-other", ProjectID: "other", Roles: []string{"member", "reader"}},
	"reader": {UserID: "u-reader", ProjectID: "demo", Roles: []string{"reader"}},
}

// quotaStub is an injected quota limit.
type quotaStub map[string]int

func (q quotaStub) Limit(project, resource string) (int, bool) {
	v, ok := q[project+"/"+resource]
	return v, ok
}

type harness struct {
	t       *testing.T
	svc     *Service
	db      *store.DB
	engine  *tasks.Engine
	srv     *httptest.Server
	backend *recordingBackend
	quotas  quotaStub
}

func newHarness(t testing.TB) *harness {
	return newHarnessAt(t, t.TempDir())
}

func newHarnessAt(t testing.TB, dir string) *harness {
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := tasks.New(db, tasks.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	q := quotaStub{}
	env := services.Env{DB: db, Tasks: eng, Log: log, Quotas: q,
		Router: func(service, prefix string, style httpapi.Style) *httpapi.Router {
			return &httpapi.Router{Mux: mux, Service: service, Prefix: prefix, Style: style, Auth: testAuth, Log: log}
		}}
	be := &recordingBackend{}
	svc, err := New(env, Config{}, be)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	if err := svc.Seed(SeedConfig{AdminProject: "admin"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	eng.Start(ctx)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		db.Close()
	})
	h := &harness{svc: svc, db: db, engine: eng, srv: srv, backend: be, quotas: q}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	return h
}

// call sends a request and decodes the JSON answer (nil for an empty body).
func (h *harness) call(tb testing.TB, token, method, path string, body any) (int, map[string]any) {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.srv.URL+"/network"+path, rd)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			tb.Fatalf("%s %s: bad JSON answer %q", method, path, data)
		}
	}
	return resp.StatusCode, out
}

// must is call that fails the test unless the status is want; it returns the object under key.
func (h *harness) must(tb testing.TB, want int, token, method, path string, body any, key string) map[string]any {
	tb.Helper()
	st, out := h.call(tb, token, method, path, body)
	if st != want {
		tb.Fatalf("%s %s: status %d, want %d: %v", method, path, st, want, out)
	}
	if key == "" {
		return out
	}
	m, _ := out[key].(map[string]any)
	return m
}

// errType returns the NeutronError type of an error answer.
func errType(out map[string]any) string {
	e, _ := out["NeutronError"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func (h *harness) publicNet() string {
	id, _ := h.svc.ExternalNetwork()
	return id
}

// recordingBackend records the backend calls for the reconciliation tests.
type recordingBackend struct {
	MemoryBackend
	calls chan string
	// failRouter makes that many EnsureRouter calls fail (retried); permanent makes them
	// fail with services.Permanent.
	failRouter atomic.Int32
	permanent  atomic.Bool
}

func (b *recordingBackend) EnsureRouter(ctx context.Context, spec RouterSpec) error {
	if b.failRouter.Add(-1) >= 0 {
		err := fmt.Errorf("router backend unavailable")
		if b.permanent.Load() {
			return services.Permanent(err)
		}
		return err
	}
	if b.calls != nil {
		gw := ""
		if spec.Gateway != nil {
			gw = spec.Gateway.IPAddress
		}
		b.calls <- fmt.Sprintf("router %s ifaces=%d gw=%s", spec.ID, len(spec.Interfaces), gw)
	}
	return nil
}

func (b *recordingBackend) SetFloatingIP(ctx context.Context, spec FloatingIPSpec) error {
	if b.calls != nil {
		b.calls <- fmt.Sprintf("fip %s -> %s", spec.FloatingIP, spec.FixedIP)
	}
	return nil
}
