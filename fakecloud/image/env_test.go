package image

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

type testEnv struct {
	*servicetest.Harness
	svc *Service
}

func newTestEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	h := servicetest.New(t, servicetest.Options{})
	svc, err := New(h.Env, opts)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	h.Start()
	return &testEnv{Harness: h, svc: svc}
}

// client returns a gophercloud image client authenticated with token.
func (e *testEnv) client(token string) *gophercloud.ServiceClient {
	return e.Client(token, "image", "/image/", "/image/v2/")
}

// do sends a raw request and decodes a JSON answer (if any) into a map.
func (e *testEnv) do(t testing.TB, token, method, path, contentType string, body any) (int, map[string]any) {
	t.Helper()
	hdr := http.Header{}
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	code, _, data := e.Do(t, token, method, path, hdr, body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return code, m
}
