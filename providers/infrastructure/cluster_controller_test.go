package infrastructure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure"
)

// neutronCounts counts what carries the cluster's tag.
func neutronCounts(t *testing.T, f *fixture, tag string) (nets, subs, rts, sgs int) {
	t.Helper()
	ctx := context.Background()
	nc := f.cloud.Client(t, cloudtest.Demo, "network")
	np, err := networks.List(nc, networks.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nl, _ := networks.ExtractNetworks(np)
	for _, n := range nl {
		sp, err := subnets.List(nc, subnets.ListOpts{NetworkID: n.ID}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sl, _ := subnets.ExtractSubnets(sp)
		subs += len(sl)
	}
	rp, err := routers.List(nc, routers.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rl, _ := routers.ExtractRouters(rp)
	gp, err := groups.List(nc, groups.ListOpts{Tags: tag}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gl, _ := groups.ExtractGroups(gp)
	return len(nl), subs, len(rl), len(gl)
}

// testClusterLifecycle: a GcoreCluster gets a network, subnet, router (gateway on the
// external network, interface on the subnet) and a security group; reconciling again or
// after a restart with the status lost makes no duplicates; deleting it removes them all.
func testClusterLifecycle(f *fixture) {
	t := f.t
	stop := f.startManager()
	_, gc := f.newCluster("alpha", "10.6.1.0/24")
	tag := infrastructure.ClusterTag(gc.Namespace, gc.Name)

	f.eventually("GcoreCluster provisioned", 30*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(gc.Status.Initialization.Provisioned, false), conditionOf(gc.Status.Conditions, infrav1.ReadyCondition)
	})
	for _, c := range []string{infrav1.ReadyCondition, infrav1.NetworkReadyCondition, infrav1.RouterReadyCondition, infrav1.SecurityGroupsReadyCondition} {
		if got := conditionOf(gc.Status.Conditions, c); got[:4] != "True" {
			t.Errorf("condition %s = %s, want True", c, got)
		}
	}
	if gc.Status.Network == nil || gc.Status.Network.Subnet == nil || gc.Status.Network.Subnet.CIDR != "10.6.1.0/24" {
		t.Fatalf("status.network = %+v, want the subnet 10.6.1.0/24", gc.Status.Network)
	}
	if len(gc.Status.FailureDomains) == 0 || gc.Status.FailureDomains[0].Name != "nova" {
		t.Errorf("failure domains = %+v, want the zone nova", gc.Status.FailureDomains)
	}

	nc := f.cloud.Client(t, cloudtest.Demo, "network")
	ctx := context.Background()
	rt, err := routers.Get(ctx, nc, gc.Status.RouterID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if rt.GatewayInfo.NetworkID != gc.Status.ExternalNetworkID || rt.GatewayInfo.NetworkID == "" {
		t.Errorf("router gateway on %q, want the external network %q", rt.GatewayInfo.NetworkID, gc.Status.ExternalNetworkID)
	}
	pp, err := ports.List(nc, ports.ListOpts{DeviceID: rt.ID, NetworkID: gc.Status.Network.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pl, _ := ports.ExtractPorts(pp); len(pl) != 1 {
		t.Errorf("router has %d interfaces on the cluster network, want 1", len(pl))
	}
	sg, err := groups.Get(ctx, nc, gc.Status.WorkerSecurityGroupID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	ingress := 0
	for _, r := range sg.Rules {
		if r.Direction == "ingress" {
			ingress++
		}
	}
	if ingress != 5 {
		t.Errorf("security group has %d ingress rules, want 5: %+v", ingress, sg.Rules)
	}
	if n, s, r, g := neutronCounts(t, f, tag); n != 1 || s != 1 || r != 1 || g != 1 {
		t.Fatalf("tagged resources: %d networks, %d subnets, %d routers, %d security groups; want one each", n, s, r, g)
	}

	// A restart that lost the status (as if the status update after the creates failed):
	// everything is found again by its tag.
	stop()
	firstNet := gc.Status.Network.ID
	gc.Status = infrav1.GcoreClusterStatus{}
	if err := f.env.Client.Status().Update(f.ctx(), gc); err != nil {
		t.Fatal(err)
	}
	f.startManager()
	f.eventually("GcoreCluster provisioned again", 30*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(gc.Status.Initialization.Provisioned, false) && gc.Status.Network != nil, conditionOf(gc.Status.Conditions, infrav1.ReadyCondition)
	})
	if gc.Status.Network.ID != firstNet {
		t.Errorf("after the restart the network is %s, want the same %s", gc.Status.Network.ID, firstNet)
	}
	if n, s, r, g := neutronCounts(t, f, tag); n != 1 || s != 1 || r != 1 || g != 1 {
		t.Fatalf("after the restart: %d networks, %d subnets, %d routers, %d security groups; want one each", n, s, r, g)
	}

	// Deleting removes everything it made, and the object.
	if err := f.env.Client.Delete(f.ctx(), gc); err != nil {
		t.Fatal(err)
	}
	f.eventually("GcoreCluster gone", 30*time.Second, func() (bool, string) {
		err := f.get(gc)
		return apierrors.IsNotFound(err), fmt.Sprintf("get: %v, finalizers %v", err, gc.Finalizers)
	})
	if n, s, r, g := neutronCounts(t, f, tag); n+s+r+g != 0 {
		t.Fatalf("after deletion: %d networks, %d subnets, %d routers, %d security groups left", n, s, r, g)
	}
}

// testClusterCloudErrors: with Neutron failing every router create, the cluster reports
// the cloud's error and keeps trying; once the fault is gone it converges by itself. A name
// collision with a foreign network is not adopted; an untagged leftover of ours is.
func testClusterCloudErrors(f *fixture) {
	t := f.t
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeError, Service: "network", Operation: "router.create", Status: 503, Message: "neutron-server is restarting"})
	if err != nil {
		t.Fatal(err)
	}
	// An untagged network named as ours: a create that stopped before tagging it.
	nc := f.cloud.Client(t, cloudtest.Demo, "network")
	leftover, err := networks.Create(context.Background(), nc, networks.CreateOpts{Name: "k8s-" + f.ns + "-beta"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	f.startManager()
	_, gc := f.newCluster("beta", "10.6.2.0/24")

	f.eventually("RouterReady False with the cloud's error", 30*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		c := conditionOf(gc.Status.Conditions, infrav1.RouterReadyCondition)
		return c != "<none>" && c[:5] == "False" && strings.Contains(c, infrav1.CloudErrorReason) && strings.Contains(c, "503"), c
	})
	if ptr.Deref(gc.Status.Initialization.Provisioned, false) {
		t.Fatal("provisioned although the router could not be made")
	}
	if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	f.eventually("GcoreCluster provisioned after the fault", 60*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(gc.Status.Initialization.Provisioned, false), conditionOf(gc.Status.Conditions, infrav1.RouterReadyCondition)
	})
	if gc.Status.Network.ID != leftover.ID {
		t.Errorf("network %s made although the untagged leftover %s has our name", gc.Status.Network.ID, leftover.ID)
	}
}

// testClusterInvalidExternalNetwork: a spec naming a network that does not exist says so
// in its conditions, and is tried again later rather than given up.
func testClusterInvalidExternalNetwork(f *fixture) {
	f.startManager()
	_, gc := f.newCluster("gamma", "10.6.3.0/24", func(gc *infrav1.GcoreCluster) {
		gc.Spec.ExternalNetworkID = "00000000-0000-0000-0000-000000000000"
	})
	f.eventually("InvalidSpec on RouterReady", 30*time.Second, func() (bool, string) {
		if err := f.get(gc); err != nil {
			return false, err.Error()
		}
		c := conditionOf(gc.Status.Conditions, infrav1.RouterReadyCondition)
		return strings.Contains(c, infrav1.InvalidSpecReason) && strings.Contains(c, "not found"), c
	})
}
