package cloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/qos/policies"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

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

	// Octavia applies the policy to the VIP port, so Neutron will not delete it while the load
	// balancer uses it; a new vip_qos_policy_id moves the port to the new policy.
	vipQoS := func() string {
		t.Helper()
		var port struct {
			ports.Port
			policies.QoSPolicyExt
		}
		if err := ports.Get(ctx, nc, got.VipPortID).ExtractInto(&port); err != nil {
			t.Fatal(err)
		}
		return port.QoSPolicyID
	}
	if q := vipQoS(); q != policy.ID {
		t.Errorf("VIP port qos_policy_id %q, want %q", q, policy.ID)
	}
	if err := policies.Delete(ctx, nc, policy.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("deleting the policy of a load balancer's VIP: %v, want 409", err)
	}
	other, err := policies.Create(ctx, nc, policies.CreateOpts{Name: "lb-qos-2", ProjectID: demoProject}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadbalancers.Update(ctx, lc, lb.ID, loadbalancers.UpdateOpts{VipQosPolicyID: &other.ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	if q := vipQoS(); q != other.ID {
		t.Errorf("after the update the VIP port's qos_policy_id is %q, want %q", q, other.ID)
	}
	if err := policies.Delete(ctx, nc, policy.ID).ExtractErr(); err != nil {
		t.Errorf("deleting the policy no load balancer uses any more: %v", err)
	}
}
