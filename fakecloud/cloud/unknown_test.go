package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// TestUnknownPaths: every path under a service's prefix that no route takes answers in the
// service's own JSON error shape, 404, or 405 with Allow when the path is known for other
// methods, never Go's plain-text "404 page not found".
func TestUnknownPaths(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		service string
		key     string // the top-level key of the service's error body
		known   string // a path that exists for other methods than POST (or PATCH)
		method  string
		allow   string // one method the Allow header must name
		key405  string
	}{
		{"compute", "itemNotFound", "flavors/detail", http.MethodPost, http.MethodGet, "badMethod"},
		{"network", "NeutronError", "networks/6b1c3a4e-0000-4000-8000-000000000000", http.MethodPost, http.MethodPut, "NeutronError"},
		{"load-balancer", "faultstring", "lbaas/loadbalancers", http.MethodPatch, http.MethodPost, "faultstring"},
		{"image", "message", "images", http.MethodPut, http.MethodGet, "message"},
		{"baremetal", "error_message", "nodes", http.MethodPut, http.MethodPost, "error_message"},
		{"identity", "error", "auth/tokens", http.MethodPut, http.MethodPost, "error"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			c := h.Client(t, cloudtest.Admin, tc.service)
			for _, path := range []string{"no-such-thing", "no/such/thing", "nodes-or-servers/x/y/z"} {
				_, err := c.Get(ctx, c.ServiceURL(path), nil, nil)
				body := errorBody(t, err, http.StatusNotFound)
				if _, ok := body[tc.key]; !ok {
					t.Errorf("GET %s: want the %s error shape, got %v", path, tc.service, body)
				}
			}
			_, err := c.Request(ctx, tc.method, c.ServiceURL(tc.known), &gophercloud.RequestOpts{JSONBody: map[string]any{}, OkCodes: []int{200}})
			body := errorBody(t, err, http.StatusMethodNotAllowed)
			if _, ok := body[tc.key405]; !ok {
				t.Errorf("%s %s: want the %s error shape, got %v", tc.method, tc.known, tc.service, body)
			}
			var ue gophercloud.ErrUnexpectedResponseCode
			if errors.As(err, &ue) && !strings.Contains(ue.ResponseHeader.Get("Allow"), tc.allow) {
				t.Errorf("%s %s: Allow %q does not name %s", tc.method, tc.known, ue.ResponseHeader.Get("Allow"), tc.allow)
			}
		})
	}
}

// errorBody checks err is an HTTP error with the given status and a JSON body, and returns it.
func errorBody(t *testing.T, err error, status int) map[string]any {
	t.Helper()
	var ue gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &ue) || ue.Actual != status {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
	if ct := ue.ResponseHeader.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON; body %q", ct, ue.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(ue.Body, &body); err != nil {
		t.Fatalf("error body is not JSON: %q", ue.Body)
	}
	return body
}
