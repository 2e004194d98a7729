package cli

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
)

type clients struct {
	compute, network, lb *gophercloud.ServiceClient
}

func (p *proc) clients(t *testing.T, cloud string) clients {
	t.Helper()
	ao, _, _, err := clouds.Parse(clouds.WithCloudName(cloud), clouds.WithLocations(p.cloudsYAML))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := openstack.AuthenticatedClient(context.Background(), ao)
	if err != nil {
		t.Fatal(err)
	}
	eo := gophercloud.EndpointOpts{Region: "RegionOne"}
	var c clients
	c.compute, _ = openstack.NewComputeV2(pc, eo)
	c.network, _ = openstack.NewNetworkV2(pc, eo)
	c.lb, _ = openstack.NewLoadBalancerV2(pc, eo)
	return c
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKill9MidFlight kills a real fakecloud process while a VM and a bare-metal server are
// building, a load balancer is PENDING_CREATE and another server is being deleted, starts it
// again on the same data, and checks that every resource is there and every operation finishes.
func TestKill9MidFlight(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Slow timers (server build 6 s, load balancer 9 s) so the kill lands mid-flight.
	p := startServe(t, dir, "--time-scale", "3")
	c := p.clients(t, "fakecloud-demo")

	n, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "crash-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sn, err := subnets.Create(ctx, c.network, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.9.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	imgID := seededImage(t, p)
	create := func(name, flavor string) string {
		s, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: name, FlavorRef: compute.FlavorID(flavor), ImageRef: imgID,
			Networks: []servers.Network{{UUID: n.ID}}}, nil).Extract()
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return s.ID
	}
	doomed := create("doomed", "g1.small")
	waitUntil(t, 30*time.Second, "doomed ACTIVE", func() (bool, string) {
		s, err := servers.Get(ctx, c.compute, doomed).Extract()
		if err != nil {
			return false, err.Error()
		}
		return s.Status == "ACTIVE", s.Status
	})
	vm := create("vm", "g1.small")
	bm := create("metal", "bm1.medium")
	lb, err := loadbalancers.Create(ctx, c.lb, loadbalancers.CreateOpts{Name: "api", VipSubnetID: sn.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := servers.Delete(ctx, c.compute, doomed).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if s, _ := servers.Get(ctx, c.compute, vm).Extract(); s == nil || s.Status != "BUILD" {
		t.Fatalf("vm should still be building when fakecloud is killed: %+v", s)
	}

	p.kill()
	p2 := startServe(t, dir)
	c = p2.clients(t, "fakecloud-demo")

	for _, id := range []string{vm, bm} {
		waitUntil(t, 60*time.Second, "server "+id+" ACTIVE after the restart", func() (bool, string) {
			s, err := servers.Get(ctx, c.compute, id).Extract()
			if err != nil {
				return false, err.Error()
			}
			return s.Status == "ACTIVE", s.Status
		})
	}
	waitUntil(t, 60*time.Second, "load balancer ACTIVE after the restart", func() (bool, string) {
		l, err := loadbalancers.Get(ctx, c.lb, lb.ID).Extract()
		if err != nil {
			return false, err.Error()
		}
		return l.ProvisioningStatus == "ACTIVE", l.ProvisioningStatus
	})
	waitUntil(t, 60*time.Second, "the deleted server gone after the restart", func() (bool, string) {
		_, err := servers.Get(ctx, c.compute, doomed).Extract()
		return gophercloud.ResponseCodeIs(err, 404), "still there"
	})
	st, err := p2.admin(t).State(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "no pending tasks", func() (bool, string) {
		st, err = p2.admin(t).State(ctx, "")
		return err == nil && len(st.Tasks) == 0, "tasks pending"
	})
}

// seededImage returns the id of a seeded node image, through the admin API.
func seededImage(t *testing.T, p *proc) string {
	t.Helper()
	st, err := p.admin(t).State(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Service == "image" {
			return r.ID
		}
	}
	t.Fatal("no seeded image")
	return ""
}
