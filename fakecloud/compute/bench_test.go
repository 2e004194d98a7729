package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// serve sends one request straight to the mux (no TCP), for fuzzing and benchmarks.
func (e *testEnv) serve(token, mv, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	if mv != "" {
		req.Header.Set("OpenStack-API-Version", "compute "+mv)
	}
	rec := httptest.NewRecorder()
	e.Mux.ServeHTTP(rec, req)
	return rec
}

func unlimited(e *testEnv, tb testing.TB, project string) {
	body := []byte(`{"quota_set": {"instances": -1, "cores": -1, "ram": -1}}`)
	if rec := e.serve("admin", "", "PUT", "/compute/v2.1/os-quota-sets/"+project, body); rec.Code != 200 {
		tb.Fatalf("quota: %d %s", rec.Code, rec.Body)
	}
}

func createBody(name string) []byte {
	return []byte(fmt.Sprintf(`{"server": {"name": %q, "flavorRef": %q, "imageRef": %q, "networks": "none", "metadata": {"role": "bench"}}}`, name, FlavorID("g1.small"), imageID))
}

// BenchmarkServers measures create, get and filtered list of servers with 10,000 stored in
// the memory backend.
func BenchmarkServers(b *testing.B) {
	timing := benchTiming
	e := newTestEnv(b, envOpt{timing: &timing})
	unlimited(e, b, "demo")
	const stored = 10000
	ids := make([]string, 0, stored)
	start := time.Now()
	for i := 0; i < stored; i++ {
		rec := e.serve("demo", "2.60", "POST", "/compute/v2.1/servers", createBody(fmt.Sprintf("srv-%05d", i)))
		if rec.Code != 202 {
			b.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		var out struct{ Server struct{ ID string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		ids = append(ids, out.Server.ID)
	}
	b.Logf("seeded %d servers at %.0f creates/s", stored, stored/time.Since(start).Seconds())
	if err := e.Tasks.WaitIdle(context.Background()); err != nil {
		b.Fatal(err)
	}

	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		t0 := time.Now()
		for i := 0; i < b.N; i++ {
			if rec := e.serve("demo", "2.60", "POST", "/compute/v2.1/servers", createBody("bench")); rec.Code != 202 {
				b.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "creates/s")
	})
	b.Run("get", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if rec := e.serve("demo", "2.60", "GET", "/compute/v2.1/servers/"+ids[i%len(ids)], nil); rec.Code != 200 {
				b.Fatalf("get: %d %s", rec.Code, rec.Body)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
	b.Run("list-filter-name", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			rec := e.serve("demo", "2.60", "GET", fmt.Sprintf("/compute/v2.1/servers/detail?name=srv-%05d", i%stored), nil)
			if rec.Code != 200 {
				b.Fatalf("list: %d %s", rec.Code, rec.Body)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
	b.Run("list-filter-exact-name", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			rec := e.serve("demo", "2.60", "GET", fmt.Sprintf("/compute/v2.1/servers/detail?name=%%5Esrv-%05d%%24", i%stored), nil)
			if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte("srv-")) {
				b.Fatalf("list: %d %s", rec.Code, rec.Body)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
	b.Run("list-detail-limit-100", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if rec := e.serve("demo", "2.60", "GET", "/compute/v2.1/servers/detail?limit=100", nil); rec.Code != 200 {
				b.Fatalf("list: %d %s", rec.Code, rec.Body)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP99(b, lat)
	})
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func TestCreateRate(t *testing.T) {
	if os.Getenv("FAKECLOUD_RATE_TEST") == "" {
		t.Skip("set FAKECLOUD_RATE_TEST=1 to check the create rate (needs an idle machine)")
	}
	timing := benchTiming
	e := newTestEnv(t, envOpt{timing: &timing})
	unlimited(e, t, "demo")
	const n = 2000
	start := time.Now()
	for i := 0; i < n; i++ {
		if rec := e.serve("demo", "2.60", "POST", "/compute/v2.1/servers", createBody("rate")); rec.Code != 202 {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
	}
	rate := n / time.Since(start).Seconds()
	t.Logf("%.0f creates/s", rate)
	if rate < 1000 && !raceEnabled {
		t.Errorf("create rate %.0f/s is under 1000/s", rate)
	}
}

var _ = http.StatusOK

// benchTiming builds servers quickly, so the build tasks run alongside the creates.
var benchTiming = services.Timing{ServerBuild: time.Millisecond, ServerDelete: time.Millisecond}
