package baremetal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// stubAuth maps fixed tokens to principals: admin (project admin), demo and other (members
// of their projects) and reader (reader of demo).
type stubAuth struct{}

func (stubAuth) Authenticate(tok string) (*httpapi.Principal, error) {
	switch tok {
	case "admin":
		return &httpapi.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{httpapi.RoleAdmin, httpapi.RoleMember}}, nil
	case "demo", "other":
		return &httpapi.Principal{UserID: tok, ProjectID: tok, Roles: []string{httpapi.RoleMember}}, nil
	case "reader":
		return &httpapi.Principal{UserID: "reader", ProjectID: "demo", Roles: []string{httpapi.RoleReader}}, nil
	}
	return nil, fmt.Errorf("unknown token")
}

type testEnv struct {
	svc  *Service
	srv  *httptest.Server
	dir  string
	stop func() // shuts the service down and closes its state
}

// recorder is a backend that remembers what it was asked and can be told to fail.
type recorder struct {
	mu        sync.Mutex
	deployed  map[string][]byte
	cleaned   map[string]int
	power     map[string]bool
	deployErr error
}

func newRecorder() *recorder {
	return &recorder{deployed: map[string][]byte{}, cleaned: map[string]int{}, power: map[string]bool{}}
}

func (b *recorder) Deploy(_ context.Context, n NodeSpec, userData []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deployErr != nil {
		return b.deployErr
	}
	b.deployed[n.ID] = userData
	return nil
}

func (b *recorder) Clean(_ context.Context, n NodeSpec) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleaned[n.ID]++
	return nil
}

func (b *recorder) SetPower(_ context.Context, id string, on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.power[id] = on
	return nil
}

func (b *recorder) userData(id string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.deployed[id]
	return d, ok
}

func newTestEnv(t testing.TB, backend Backend) *testEnv {
	t.Helper()
	return newTestEnvIn(t, t.TempDir(), backend)
}

// newTestEnvIn starts the service on the state in dir (to test restarts).
func newTestEnvIn(t testing.TB, dir string, backend Backend) *testEnv {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := tasks.New(db, tasks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	env := services.Env{DB: db, Tasks: eng, Timing: services.Timing{NodeDeploy: 20 * time.Millisecond, NodeClean: 20 * time.Millisecond},
		Router: func(service, prefix string, style httpapi.Style) *httpapi.Router {
			return &httpapi.Router{Mux: mux, Service: service, Prefix: prefix, Style: style, Auth: stubAuth{}}
		}}
	svc, err := New(env, backend)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	ctx, cancel := context.WithCancel(context.Background())
	eng.Start(ctx)
	srv := httptest.NewServer(mux)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			srv.Close()
			// let a task that is running finish its attempt; queued ones stay in the state
			wctx, wcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_ = eng.WaitIdle(wctx)
			wcancel()
			db.Close()
		})
	}
	t.Cleanup(stop)
	return &testEnv{svc: svc, srv: srv, dir: dir, stop: stop}
}

// client returns a gophercloud bare-metal client authenticated with token, asking for
// microversion 1.87.
func (e *testEnv) client(token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: e.srv.URL + "/baremetal/", ResourceBase: e.srv.URL + "/baremetal/v1/", Type: "baremetal", Microversion: "1.87"}
}

// do sends a raw request and decodes a JSON answer (if any) into a map.
func (e *testEnv) do(t testing.TB, token, method, path, contentType string, body any) (int, map[string]any) {
	code, m, _ := e.doV(t, token, "1.87", method, path, contentType, body)
	return code, m
}

// doV is do with a chosen microversion ("" for none); it also returns the response headers.
func (e *testEnv) doV(t testing.TB, token, version, method, path, contentType string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if version != "" {
		req.Header.Set(hdrVersion, version)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m, resp.Header
}

// waitState polls a node until its provision state is want.
func (e *testEnv) waitState(t testing.TB, id, want string) Node {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, _ := e.svc.nodes.Get(id)
		if n.ProvisionState == want && n.TargetProvisionState == "" || (want == StateDeployFailed && n.ProvisionState == want) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: state %q (target %q, last error %q), want %q", id, n.ProvisionState, n.TargetProvisionState, n.LastError, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sleep() { time.Sleep(5 * time.Millisecond) }
