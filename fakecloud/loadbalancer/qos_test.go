package loadbalancer

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
)

// lbUpdateMap is a load balancer update body as a map, to send a null gophercloud's
// UpdateOpts cannot.
type lbUpdateMap map[string]any

func (m lbUpdateMap) ToLoadBalancerUpdateMap() (map[string]any, error) {
	return map[string]any{"loadbalancer": map[string]any(m)}, nil
}

// TestVipQosPolicy: a load balancer takes a vip_qos_policy_id that Neutron knows, shows it,
// changes and clears it on update; an unknown policy is Octavia's 400 on create and update.
func TestVipQosPolicy(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{})
	ctx := context.Background()
	c := h.client("demo")
	unknown := "66666666-6666-4666-8666-666666666666"

	_, err := loadbalancers.Create(ctx, c, loadbalancers.CreateOpts{VipSubnetID: subnetDemo, VipQosPolicyID: unknown}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unknown policy: %v", err)
	}
	lb, err := loadbalancers.Create(ctx, c, loadbalancers.CreateOpts{VipSubnetID: subnetDemo, VipQosPolicyID: qosPolicy}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if lb.VipQosPolicyID != qosPolicy {
		t.Fatalf("created: %+v", lb)
	}
	lb = waitActive(t, c, lb.ID)
	if lb.VipQosPolicyID != qosPolicy {
		t.Fatalf("shown: %+v", lb)
	}
	if _, err := loadbalancers.Update(ctx, c, lb.ID, loadbalancers.UpdateOpts{VipQosPolicyID: &unknown}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("update to an unknown policy: %v", err)
	}
	up, err := loadbalancers.Update(ctx, c, lb.ID, lbUpdateMap{"vip_qos_policy_id": nil}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if up.VipQosPolicyID != "" {
		t.Fatalf("cleared: %+v", up)
	}
	waitActive(t, c, lb.ID)
	policy := qosPolicy
	if up, err = loadbalancers.Update(ctx, c, lb.ID, loadbalancers.UpdateOpts{VipQosPolicyID: &policy}).Extract(); err != nil || up.VipQosPolicyID != qosPolicy {
		t.Fatalf("set again: %v %+v", err, up)
	}
}
