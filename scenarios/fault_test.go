package scenarios

import (
	"slices"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

func TestTaskKindsAreFakecloudsOwn(t *testing.T) {
	for _, k := range []string{loadbalancer.TaskCreate, loadbalancer.TaskUpdate, loadbalancer.TaskDelete,
		compute.TaskServerBuild, compute.TaskServerDelete, compute.TaskServerAction} {
		if !slices.Contains(taskKinds(), k) {
			t.Errorf("fakecloud's task kind %s is missing from taskKinds", k)
		}
	}
	if !slices.Contains(faultServices(), loadbalancer.ServiceName) {
		t.Errorf("fakecloud's service %s is missing from faultServices", loadbalancer.ServiceName)
	}
}

func TestFaultRule(t *testing.T) {
	rate, seed, limit := 0.3, int64(7), 2
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, f := range []Fault{
		{Type: faults.TypeError, Service: "network", Rate: &rate, Seed: &seed, Status: 503, ExpiresAfter: Duration{10 * time.Minute}},
		{Type: faults.TypeLatency, Service: "compute", Latency: Duration{2 * time.Second}, ExpiresAfter: Duration{time.Minute}},
		{Type: faults.TypeOutage, Service: "load-balancer", Mode: "drop", ExpiresAfter: Duration{time.Minute}},
		{Type: faults.TypeStuck, Operation: loadbalancer.TaskCreate, StuckFor: Duration{30 * time.Second}, ExpiresAfter: Duration{time.Minute}},
		{Type: faults.TypeQuota, Resource: "instances", Limit: &limit, ExpiresAfter: Duration{time.Minute}},
	} {
		r := f.Rule(now)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: fakecloud refuses the rule: %v", f.Type, err)
		}
		if r.Expires == nil || !r.Expires.Equal(now.Add(f.ExpiresAfter.Duration)) {
			t.Errorf("%s: expires %v, want %v", f.Type, r.Expires, now.Add(f.ExpiresAfter.Duration))
		}
	}
}
