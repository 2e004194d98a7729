package cloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
)

func demoSubnet(t *testing.T, h *cloudtest.Harness) (string, string) {
	t.Helper()
	nc := h.Client(t, cloudtest.Demo, "network")
	n, err := networks.Create(context.Background(), nc, networks.CreateOpts{Name: "chaos"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	s, err := subnets.Create(context.Background(), nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.1.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return n.ID, s.ID
}

// nodeImage is the id of the seeded image kaas-node-v1.36.3.
func nodeImage(h *cloudtest.Harness) string {
	for _, r := range h.Cloud.Resources() {
		if r.Service == "image" && r.Name == "kaas-node-v1.36.3" {
			return r.ID
		}
	}
	return ""
}

func lbStatus(t *testing.T, lc *gophercloud.ServiceClient, id string) string {
	lb, err := loadbalancers.Get(context.Background(), lc, id).Extract()
	if err != nil {
		return err.Error()
	}
	return lb.ProvisioningStatus
}

// TestOctaviaStuckThenErrorThenHeals is the incident that made the operator leave Magnum: Octavia's work
// hangs, the load balancer ends in ERROR; here it can be deleted and, once the fault is off, a
// new one goes ACTIVE with no human touching a database.
func TestOctaviaStuckThenErrorThenHeals(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	_, subnet := demoSubnet(t, h)
	lc := h.Client(t, cloudtest.Demo, "load-balancer")
	rule, err := h.Cloud.Faults.Add(faults.Rule{Type: faults.TypeStuck, Operation: "loadbalancer.create", StuckFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "api", VipSubnetID: subnet}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if s := lbStatus(t, lc, lb.ID); s != "PENDING_CREATE" {
		t.Fatalf("while stuck: %s, want PENDING_CREATE", s)
	}
	if err := loadbalancers.Update(ctx, lc, lb.ID, loadbalancers.UpdateOpts{}).Err; !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("update of a PENDING_CREATE load balancer: %v, want 409", err)
	}
	cloudtest.Eventually(t, 5*time.Second, "ERROR after the stuck timeout", func() bool { return lbStatus(t, lc, lb.ID) == "ERROR" })
	if err := loadbalancers.Delete(ctx, lc, lb.ID, nil).ExtractErr(); err != nil {
		t.Fatalf("deleting the ERROR load balancer: %v", err)
	}
	if _, err := h.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	lb2, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "api", VipSubnetID: subnet}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	cloudtest.Eventually(t, 5*time.Second, "ACTIVE once the fault is off", func() bool { return lbStatus(t, lc, lb2.ID) == "ACTIVE" })
	cloudtest.Eventually(t, 5*time.Second, "the ERROR load balancer deleted", func() bool {
		return gophercloud.ResponseCodeIs(loadbalancers.Get(ctx, lc, lb.ID).Err, http.StatusNotFound)
	})
}

func TestInjectedQuotaAndServiceOutage(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	netID, _ := demoSubnet(t, h)
	cc := h.Client(t, cloudtest.Demo, "compute")
	imageID := nodeImage(h)
	create := func(name string) error {
		_, err := servers.Create(ctx, cc, servers.CreateOpts{Name: name, FlavorRef: compute.FlavorID("g1.small"), ImageRef: imageID,
			Networks: []servers.Network{{UUID: netID}}}, nil).Extract()
		return err
	}
	if _, err := h.Cloud.Faults.Add(faults.Rule{Type: faults.TypeQuota, Resource: "instances", Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if err := create("one"); err != nil {
		t.Fatalf("first server under an injected quota of 1: %v", err)
	}
	if err := create("two"); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) && !gophercloud.ResponseCodeIs(err, http.StatusRequestEntityTooLarge) {
		t.Fatalf("second server over the injected quota: %v, want 403 or 413", err)
	}
	if _, err := h.Cloud.Faults.Remove("all"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Cloud.Faults.Add(faults.Rule{Type: faults.TypeOutage, Service: "compute"}); err != nil {
		t.Fatal(err)
	}
	if err := create("three"); !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
		t.Fatalf("during a compute outage: %v, want 503", err)
	}
	// Other services keep answering.
	if _, err := networks.Get(ctx, h.Client(t, cloudtest.Demo, "network"), netID).Extract(); err != nil {
		t.Fatalf("network during a compute outage: %v", err)
	}
	if _, err := h.Cloud.Faults.Remove("all"); err != nil {
		t.Fatal(err)
	}
	if err := create("three"); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}
