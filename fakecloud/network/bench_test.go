package network

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// seedPorts creates n ports for demo on a /16 network, 200 per update, and returns the
// network id and the port ids.
func seedPorts(b *testing.B, h *harness, n int) (string, []string) {
	b.Helper()
	h.quotas["demo/port"] = -1
	net := h.must(b, 201, "demo", "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": "bench"}}, "network")
	netID := net["id"].(string)
	h.must(b, 201, "demo", "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "10.0.0.0/16", "ip_version": 4}}, "subnet")
	nw, _ := h.svc.networks.Get(netID)
	ids := make([]string, 0, n)
	for len(ids) < n {
		err := h.DB.Update(func(tx *store.Tx) error {
			for i := 0; i < 200 && len(ids) < n; i++ {
				dev, name := fmt.Sprintf("vm-%d", len(ids)), fmt.Sprintf("p-%d", len(ids))
				owner := "compute:nova"
				p, err := h.svc.newPort(tx, "demo", false, nw, &portFields{DeviceID: &dev, DeviceOwner: &owner, Name: &name})
				if err != nil {
					return err
				}
				ids = append(ids, p.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Tasks.WaitIdle(ctx); err != nil {
		b.Fatal(err)
	}
	return netID, ids
}

// p99 reports the 99th percentile of the durations as a metric.
func p99(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkPorts measures get, list-with-filter and create of ports through the HTTP API
// with 10,000 ports stored.
func BenchmarkPorts(b *testing.B) {
	h := newHarness(b)
	netID, ids := seedPorts(b, h, 10000)
	b.Run("get", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", "/v2.0/ports/"+ids[i%len(ids)], nil, "port")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("list-filter-device", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			out := h.must(b, 200, "demo", "GET", fmt.Sprintf("/v2.0/ports?device_id=vm-%d&network_id=%s", i%len(ids), netID), nil, "")
			d = append(d, time.Since(t0))
			if len(out["ports"].([]any)) != 1 {
				b.Fatal("filter missed")
			}
		}
		p99(b, d)
	})
	b.Run("list-filter-ip", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", fmt.Sprintf("/v2.0/ports?fixed_ips=ip_address%%3D10.0.%d.%d", i%39, 2+i%250), nil, "")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("list-filter-name", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", fmt.Sprintf("/v2.0/ports?name=p-%d&status=ACTIVE", i), nil, "")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("list-filter-mac", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", fmt.Sprintf("/v2.0/ports?mac_address=fa:16:3e:00:00:%02x", i%256), nil, "")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("list-filter-network-owner", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", "/v2.0/ports?network_id="+netID+"&device_owner=network:dhcp", nil, "")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("list-filter-host-scan", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 200, "demo", "GET", "/v2.0/ports?network_id="+netID+"&binding:host_id=nowhere", nil, "")
			d = append(d, time.Since(t0))
		}
		p99(b, d)
	})
	b.Run("create", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			h.must(b, 201, "demo", "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}, "port")
			d = append(d, time.Since(t0))
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
		p99(b, d)
	})
}
