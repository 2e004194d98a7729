package loadbalancer

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzRequestDecoding throws arbitrary bodies at every create and update route: the answer
// must be a JSON error or success, never a 5xx or a panic.
func FuzzRequestDecoding(f *testing.F) {
	seeds := []string{
		`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "name": "x"}}`,
		`{"loadbalancer": {"vip_network_id": "` + netDemo + `", "vip_address": "10.0.3.3"}}`,
		`{"listener": {"loadbalancer_id": "` + subnetDemo + `", "protocol": "TCP", "protocol_port": 80}}`,
		`{"pool": {"loadbalancer_id": "` + subnetDemo + `", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "a"}}}`,
		`{"member": {"address": "10.0.0.1", "protocol_port": 80, "weight": null}}`,
		`{"members": [{"address": "10.0.0.1", "protocol_port": 80}]}`,
		`{"healthmonitor": {"pool_id": "` + subnetDemo + `", "type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "http_version": 1.1, "domain_name": "a.b"}}`,
		`{"quota": {"loadbalancer": 1, "health_monitor": null}}`,
		`{"loadbalancer": {"tags": [1, 2]}}`,
		`{"listener": {"insert_headers": {"a": 1}}}`,
		`{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "a", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "10.0.0.1", "protocol_port": 1}], "healthmonitor": {"type": "PING", "delay": 1, "timeout": 1, "max_retries": 1}}}], "pools": [{"name": "b"}]}}`,
		`null`, `[]`, `{"loadbalancer": []}`, `{"pool": {"session_persistence": "x"}}`,
	}
	for i, s := range seeds {
		f.Add(byte(i), []byte(s))
	}
	h := newHarness(f)
	lbID := h.activeLB("demo")
	lis := h.must(201, "POST", "/v2.0/lbaas/listeners", "demo", map[string]any{"listener": map[string]any{"loadbalancer_id": lbID, "protocol": "HTTP", "protocol_port": 80}})
	h.wait(lbID, StatusActive)
	po := h.must(201, "POST", "/v2.0/lbaas/pools", "demo", map[string]any{"pool": map[string]any{"listener_id": field(lis, "listener", "id"), "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}})
	h.wait(lbID, StatusActive)
	pid := field(po, "pool", "id").(string)
	routes := []struct{ method, path string }{
		{"POST", "/v2.0/lbaas/loadbalancers"},
		{"PUT", "/v2.0/lbaas/loadbalancers/" + lbID},
		{"POST", "/v2.0/lbaas/listeners"},
		{"PUT", "/v2.0/lbaas/listeners/" + field(lis, "listener", "id").(string)},
		{"POST", "/v2.0/lbaas/pools"},
		{"PUT", "/v2.0/lbaas/pools/" + pid},
		{"POST", "/v2.0/lbaas/pools/" + pid + "/members"},
		{"PUT", "/v2.0/lbaas/pools/" + pid + "/members"},
		{"POST", "/v2.0/lbaas/healthmonitors"},
		{"PUT", "/v2.0/lbaas/quotas/demo"},
	}
	handler := h.Mux
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		rt := routes[int(which)%len(routes)]
		req := httptest.NewRequest(rt.method, "/load-balancer"+rt.path, bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", "admin")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			var e map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["faultstring"] == nil {
				t.Fatalf("%s %s %q: error body %s", rt.method, rt.path, body, rec.Body.String())
			}
		}
		if rec.Code == http.StatusOK || rec.Code == http.StatusCreated || rec.Code == http.StatusAccepted {
			// Let the tree settle so the next input finds it mutable.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := h.Tasks.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}
