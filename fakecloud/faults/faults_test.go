package faults_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func admin(t *testing.T, h *cloudtest.Harness) *adminclient.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(h.CloudsYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := adminclient.FromCloudsYAML(context.Background(), path, cloudtest.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listProjects(t *testing.T, sc *gophercloud.ServiceClient) error {
	_, err := projects.List(sc, nil).AllPages(context.Background())
	return err
}

func TestErrorLatencyOutageAndRemoval(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	ac := admin(t, h)
	sc := h.Client(t, cloudtest.Demo, "identity")

	r, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "error", Service: "identity", Operation: "project.*", Status: 503})
	if err != nil {
		t.Fatal(err)
	}
	if err := listProjects(t, sc); !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
		t.Fatalf("with an error fault: %v, want 503", err)
	}
	if _, err := ac.RemoveFault(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := listProjects(t, sc); err != nil {
		t.Fatalf("after removing the fault: %v", err)
	}

	if _, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "latency", Service: "identity", Operation: "project.list", Latency: "150ms"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := listProjects(t, sc); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("latency fault: request took %s", d)
	}

	if _, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "outage", Service: "identity", Operation: "project.list", Mode: "drop"}); err != nil {
		t.Fatal(err)
	}
	err = listProjects(t, sc)
	if err == nil || gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
		t.Fatalf("drop outage: %v, want a connection error", err)
	}
	if n, err := ac.RemoveFault(ctx, "all"); err != nil || n != 2 {
		t.Fatalf("remove all: %d, %v", n, err)
	}
	if err := listProjects(t, sc); err != nil {
		t.Fatalf("after removing all faults: %v", err)
	}
	evs, err := ac.Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	on, off := 0, 0
	for _, e := range evs {
		switch e.Action {
		case "fault-on":
			on++
		case "fault-off":
			off++
		}
	}
	if on != 3 || off != 3 {
		t.Errorf("event log has %d fault-on and %d fault-off, want 3 and 3", on, off)
	}
}

func TestBadFaultsAreRefused(t *testing.T) {
	h := cloudtest.Start(t)
	ac := admin(t, h)
	for _, f := range []adminclient.FaultSpec{
		{Type: "bogus"},
		{Type: "error", Status: 200},
		{Type: "latency"},
		{Type: "stuck", Operation: "loadbalancer.create"},
		{Type: "quota", Limit: 1},
		{Type: "error", Rate: 2},
		{Type: "outage", Mode: "sometimes"},
		{Type: "latency", Latency: "soon"},
	} {
		if _, err := ac.AddFault(context.Background(), f); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
			t.Errorf("%+v: %v, want 400", f, err)
		}
	}
	demo := h.Provider(t, cloudtest.Demo)
	_, err := demo.Request(context.Background(), http.MethodGet, h.URL+"/admin/faults", &gophercloud.RequestOpts{OkCodes: []int{200}})
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("a member reading the admin API: %v, want 403", err)
	}
}

func TestQuotaAndStuckRulesAndExpiry(t *testing.T) {
	h := cloudtest.Start(t, func(c *cloud.Config) {})
	ctx := context.Background()
	ac := admin(t, h)
	in := h.Cloud.Faults
	if _, ok := in.Limit("p1", "instances"); ok {
		t.Fatal("a limit with no rule")
	}
	if _, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "quota", Resource: "instances", Limit: 2, Project: "p1"}); err != nil {
		t.Fatal(err)
	}
	if l, ok := in.Limit("p1", "instances"); !ok || l != 2 {
		t.Errorf("Limit(p1) = %d, %v", l, ok)
	}
	if _, ok := in.Limit("p2", "instances"); ok {
		t.Error("a project-scoped quota applied to another project")
	}
	if _, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "stuck", Operation: "loadbalancer.*", StuckFor: "1m", For: "50ms"}); err != nil {
		t.Fatal(err)
	}
	if d, ok := in.Stall("loadbalancer.create", "p1"); !ok || d != time.Minute {
		t.Errorf("Stall = %s, %v", d, ok)
	}
	if _, ok := in.Stall("server.create", "p1"); ok {
		t.Error("stuck rule matched another kind")
	}
	time.Sleep(80 * time.Millisecond)
	if _, ok := in.Stall("loadbalancer.create", "p1"); ok {
		t.Error("an expired rule still applies")
	}
	if err := in.Expire(); err != nil {
		t.Fatal(err)
	}
	if n := len(in.List()); n != 1 {
		t.Errorf("%d rules left after expiry, want 1", n)
	}
}

func TestEventsFollowStreamsNewEvents(t *testing.T) {
	h := cloudtest.Start(t)
	ac := admin(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before, err := ac.Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := before[len(before)-1].Seq
	got := make(chan string, 1)
	go func() {
		_ = ac.Follow(ctx, last, func(e store.Event) error {
			got <- e.Action
			return errors.New("enough")
		})
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: "latency", Latency: "1ms"}); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a != "fault-on" {
			t.Fatalf("followed event %q, want fault-on", a)
		}
	case <-ctx.Done():
		t.Fatal("no event reached the follower")
	}
}
