package loadbalancer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// seedLBs stores n ACTIVE load balancers of project demo, named lb-<i>, straight into the
// table (as fakecloud's own bench does, all in one project: the worst case for a filter).
func seedLBs(tb testing.TB, h *harness, n int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	const batch = 1000
	for start := 0; start < n; start += batch {
		err := h.DB.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				project := "demo"
				lb := LoadBalancer{
					ID: uuid.NewString(), ProjectID: project, Name: fmt.Sprintf("lb-%d", i), AdminStateUp: true,
					ProvisioningStatus: StatusActive, OperatingStatus: OpOnline, VipAddress: "10.1.0.1",
					VipSubnetID: subnetDemo, VipNetworkID: netDemo, VipPortID: uuid.NewString(), Provider: defaultProvider,
					Tags: []string{"bench"}, CreatedAt: time.Now().UTC(),
				}
				if err := h.svc.putLB(tx, lb); err != nil {
					return err
				}
				ids = append(ids, lb.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// serve runs one request through the router in-process and returns its status.
func serve(h http.Handler, method, path, token, body string) int {
	req := httptest.NewRequest(method, "/load-balancer"+path, strings.NewReader(body))
	req.Header.Set("X-Auth-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// latency records per-request durations and reports p50 and p99.
type latency []time.Duration

func (l latency) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l[len(l)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLoadBalancers measures get, list-with-filter and create with 10,000 load
// balancers stored, through the HTTP router (no network).
func BenchmarkLoadBalancers(b *testing.B) {
	h := newHarnessWith(b, harnessOpts{build: time.Millisecond})
	ids := seedLBs(b, h, 10000)
	handler := h.Mux
	demoIDs := []string{}
	for _, lb := range h.svc.lbs.List(func(_ string, v *LoadBalancer) bool { return v.ProjectID == "demo" }) {
		demoIDs = append(demoIDs, lb.ID)
	}
	_ = ids

	b.Run("get", func(b *testing.B) {
		lat := make(latency, 0, b.N)
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			if c := serve(handler, "GET", "/v2.0/lbaas/loadbalancers/"+demoIDs[i%len(demoIDs)], "demo", ""); c != 200 {
				b.Fatalf("get: %d", c)
			}
			lat = append(lat, time.Since(t0))
		}
		lat.report(b)
	})
	b.Run("list-filter-name", func(b *testing.B) {
		lat := make(latency, 0, b.N)
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			if c := serve(handler, "GET", fmt.Sprintf("/v2.0/lbaas/loadbalancers?name=lb-%d", i%10000), "demo", ""); c != 200 {
				b.Fatalf("list: %d", c)
			}
			lat = append(lat, time.Since(t0))
		}
		lat.report(b)
	})
	b.Run("list-status-limit100", func(b *testing.B) {
		lat := make(latency, 0, b.N)
		for b.Loop() {
			t0 := time.Now()
			if c := serve(handler, "GET", "/v2.0/lbaas/loadbalancers?provisioning_status=ACTIVE&limit=100", "demo", ""); c != 200 {
				b.Fatalf("list: %d", c)
			}
			lat = append(lat, time.Since(t0))
		}
		lat.report(b)
	})
	b.Run("create", func(b *testing.B) {
		body := `{"loadbalancer": {"vip_subnet_id": "` + subnetDemo + `", "name": "bench"}}`
		lat := make(latency, 0, b.N)
		start := time.Now()
		n := 0
		for b.Loop() {
			t0 := time.Now()
			if c := serve(handler, "POST", "/v2.0/lbaas/loadbalancers", "demo", body); c != 201 {
				b.Fatalf("create: %d", c)
			}
			lat = append(lat, time.Since(t0))
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "creates/s")
		lat.report(b)
	})
}
