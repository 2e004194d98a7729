package loadbalancer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// TestWholeCloud drives Octavia through gophercloud against a whole fakecloud, with Keystone's
// catalog and Neutron's real ports behind the VIPs.
func TestWholeCloud(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	nc := h.Client(t, cloudtest.Demo, "network")
	lc := h.Client(t, cloudtest.Demo, "load-balancer")
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: "lb-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sn, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.9.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive := func(id string) *loadbalancers.LoadBalancer {
		t.Helper()
		var lb *loadbalancers.LoadBalancer
		cloudtest.Eventually(t, 10*time.Second, "load balancer ACTIVE", func() bool {
			lb, err = loadbalancers.Get(ctx, lc, id).Extract()
			return err == nil && lb.ProvisioningStatus == "ACTIVE"
		})
		return lb
	}

	lb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{Name: "api", VipSubnetID: sn.ID, VipAddress: "10.9.0.50"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if lb.VipAddress != "10.9.0.50" || lb.VipNetworkID != n.ID {
		t.Fatalf("vip: %+v", lb)
	}
	// The VIP is a Neutron port owned by Octavia.
	port, err := ports.Get(ctx, nc, lb.VipPortID).Extract()
	if err != nil {
		t.Fatalf("vip port: %v", err)
	}
	if port.DeviceOwner != "Octavia" || port.DeviceID != "lb-"+lb.ID || port.FixedIPs[0].IPAddress != "10.9.0.50" {
		t.Fatalf("vip port %+v", port)
	}
	// The same address twice is refused by Neutron.
	if _, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{VipSubnetID: sn.ID, VipAddress: "10.9.0.50"}).Extract(); err == nil {
		t.Fatal("a second load balancer got the same VIP")
	}
	waitActive(lb.ID)

	li, err := listeners.Create(ctx, lc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: 6443}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(lb.ID)
	po, err := pools.Create(ctx, lc, pools.CreateOpts{ListenerID: li.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(lb.ID)
	if _, err := pools.CreateMember(ctx, lc, po.ID, pools.CreateMemberOpts{Address: "10.9.0.10", ProtocolPort: 6443, SubnetID: sn.ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitActive(lb.ID)
	if _, err := monitors.Create(ctx, lc, monitors.CreateOpts{PoolID: po.ID, Type: monitors.TypeTCP, Delay: 5, Timeout: 3, MaxRetries: 3}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitActive(lb.ID)

	// The reader sees it and cannot change it; another project is refused.
	rc := h.Client(t, cloudtest.DemoReader, "load-balancer")
	if _, err := loadbalancers.Get(ctx, rc, lb.ID).Extract(); err != nil {
		t.Fatalf("reader get: %v", err)
	}
	name := "x"
	if _, err := loadbalancers.Update(ctx, rc, lb.ID, loadbalancers.UpdateOpts{Name: &name}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("reader update: %v", err)
	}
	ac := h.Client(t, cloudtest.Admin, "load-balancer")
	pages, err := loadbalancers.List(ac, loadbalancers.ListOpts{ProjectID: lb.ProjectID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := loadbalancers.ExtractLoadBalancers(pages); len(all) != 1 {
		t.Fatalf("admin list of demo's: %d", len(all))
	}

	// A public VIP on the external network.
	pages, err = networks.List(nc, networks.ListOpts{Name: "public"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := networks.ExtractNetworks(pages)
	if len(pub) != 1 {
		t.Fatalf("public networks: %d", len(pub))
	}
	plb, err := loadbalancers.Create(ctx, lc, loadbalancers.CreateOpts{VipNetworkID: pub[0].ID}).Extract()
	if err != nil {
		t.Fatalf("public vip: %v", err)
	}
	waitActive(plb.ID)

	if err := loadbalancers.Delete(ctx, lc, lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	cloudtest.Eventually(t, 10*time.Second, "load balancer gone", func() bool {
		return gophercloud.ResponseCodeIs(loadbalancers.Get(ctx, lc, lb.ID).Err, http.StatusNotFound)
	})
	if _, err := ports.Get(ctx, nc, lb.VipPortID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("vip port after delete: %v", err)
	}
}
