package cloud_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// fakeWorld is a backend's inventory kept in memory: what a docker daemon would list.
type fakeWorld struct {
	mu      sync.Mutex
	objects []services.RealObject
	removed []string
}

func (w *fakeWorld) Inventory(context.Context) ([]services.RealObject, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]services.RealObject(nil), w.objects...), nil
}

func (w *fakeWorld) RemoveObject(_ context.Context, o services.RealObject) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.removed = append(w.removed, o.Name)
	return nil
}

// TestRestartReconcilesTheWorld: on start, objects of resources the store does not have are
// removed, a server whose container vanished goes to ERROR with a fault that says so, and
// objects of live resources stay.
func TestRestartReconcilesTheWorld(t *testing.T) {
	dir := t.TempDir()
	h := cloudtest.Start(t, func(c *cloud.Config) { c.DataDir = dir })
	ctx := context.Background()
	netID, _ := demoSubnet(t, h)
	cc := h.Client(t, cloudtest.Demo, "compute")
	imageID := nodeImage(h)
	mk := func(name string) string {
		s, err := servers.Create(ctx, cc, servers.CreateOpts{Name: name, FlavorRef: compute.FlavorID("g1.small"), ImageRef: imageID,
			Networks: []servers.Network{{UUID: netID}}}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
		cloudtest.Eventually(t, 10*time.Second, name+" ACTIVE", func() bool {
			got, err := servers.Get(ctx, cc, s.ID).Extract()
			return err == nil && got.Status == "ACTIVE"
		})
		return s.ID
	}
	kept, lost := mk("kept"), mk("lost")
	h.Stop()

	w := &fakeWorld{objects: []services.RealObject{
		{Type: "server", ID: kept, Name: "c-kept", Kind: "container"},
		{Type: "network", ID: netID, Name: "n-live", Kind: "network"},
		{Type: "server", ID: "no-such-server", Name: "c-orphan", Kind: "container"},
		{Type: "router", ID: "no-such-router", Name: "r-orphan", Kind: "container"},
		{Type: "loadbalancer", ID: "no-such-lb", Name: "lb-orphan", Kind: "container"},
	}}
	h2 := cloudtest.Start(t, func(c *cloud.Config) { c.DataDir = dir; c.Backends.World = w })
	cc = h2.Client(t, cloudtest.Demo, "compute")

	w.mu.Lock()
	removed := strings.Join(w.removed, ",")
	w.mu.Unlock()
	if removed != "c-orphan,r-orphan,lb-orphan" {
		t.Errorf("removed %q, want the three orphans and nothing else", removed)
	}
	got, err := servers.Get(ctx, cc, lost).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "ERROR" || !strings.Contains(got.Fault.Message, "vanished") {
		t.Errorf("server whose container vanished: %s %+v, want ERROR with a fault saying so", got.Status, got.Fault)
	}
	if got, _ := servers.Get(ctx, cc, kept).Extract(); got == nil || got.Status != "ACTIVE" {
		t.Errorf("server whose container exists: %+v, want ACTIVE", got)
	}
	evs, _ := h2.Cloud.DB.EventsSince(0, 10000)
	var actions []string
	for _, e := range evs {
		if e.Service == "backend" {
			actions = append(actions, e.Action+":"+e.ID)
		}
	}
	want := []string{"orphan-removed:no-such-server", "orphan-removed:no-such-router", "orphan-removed:no-such-lb", "instance-lost:" + lost}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("backend events %v, want %v", actions, want)
	}
}
