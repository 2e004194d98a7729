package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

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
	svc *Service
	srv *httptest.Server
	dir string
}

func newTestEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := tasks.New(db, tasks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	env := services.Env{DB: db, Tasks: eng,
		Router: func(service, prefix string, style httpapi.Style) *httpapi.Router {
			return &httpapi.Router{Mux: mux, Service: service, Prefix: prefix, Style: style, Auth: stubAuth{}}
		}}
	svc, err := New(env, opts)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	ctx, cancel := context.WithCancel(context.Background())
	eng.Start(ctx)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { cancel(); srv.Close(); db.Close() })
	return &testEnv{svc: svc, srv: srv, dir: dir}
}

// client returns a gophercloud image client authenticated with token.
func (e *testEnv) client(token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: e.srv.URL + "/image/", ResourceBase: e.srv.URL + "/image/v2/", Type: "image"}
}

// do sends a raw request and decodes a JSON answer (if any) into a map.
func (e *testEnv) do(t testing.TB, token, method, path, contentType string, body any) (int, map[string]any) {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}
