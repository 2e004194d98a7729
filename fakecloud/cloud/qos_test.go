package cloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/qos/policies"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// TestLoadBalancerWithQoSPolicy: a QoS policy an admin made for a project can be given to
// that project's load balancer as vip_qos_policy_id; Octavia refuses one Neutron does not know.
func TestLoadBalancerWithQoSPolicy(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	nc := h.Client(t, cloudtest.Admin, "network")
	lc := h.Client(t, cloudtest.Demo, "load-balancer")
	_, subnetID := demoSubnet(t, h)

	demoProject := ""
	for _, r := range h.Cloud.Resources() {
		if r.Kind == "network" && r.Name == "chaos" {
			demoProject = r.Project
		}
	}
	policy, err := policies.Create(ctx, nc, policies.CreateOpts{Name: "lb-qos", ProjectID: demoProject}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	lb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "qos", VipSubnetID: subnetID, VipQosPolicyID: policy.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	cloudtest.Eventually(t, 5*time.Second, "the load balancer ACTIVE", func() bool {
		got, err := loadbalancers.Get(ctx, lc, lb.ID).Extract()
		return err == nil && got.ProvisioningStatus == "ACTIVE"
	})
	got, err := loadbalancers.Get(ctx, lc, lb.ID).Extract()
	if err != nil || got.VipQosPolicyID != policy.ID {
		t.Fatalf("load balancer: %v %+v", err, got)
	}
	_, err = loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{VipSubnetID: subnetID, VipQosPolicyID: "6b1c3a4e-0000-4000-8000-000000000000"}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unknown policy: %v", err)
	}
}
