package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/scenarios"
)

// TestDuplicatesAndLeftovers runs the assert checks on an in-process fakecloud's state.
func TestDuplicatesAndLeftovers(t *testing.T) {
	te := newTestEnv(t)
	ctx := context.Background()
	nc := te.harness.Client(t, cloudtest.Demo, "network")
	for _, name := range []string{"k8s-ns1-mine-abcde", "k8s-ns1-mine-abcde", "k8s-other-theirs"} {
		n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: name}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if name == "k8s-other-theirs" {
			if _, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.6.1.0/24", IPVersion: 4}).Extract(); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := te.Cloud.State(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	dups := duplicates(st, "mine-abcde", []string{scenarios.DuplicateNetworks, scenarios.DuplicateLoadBalancers})
	if len(dups) != 1 || !strings.HasPrefix(dups[0], "network k8s-ns1-mine-abcde x2 (") {
		t.Errorf("duplicates %q", dups)
	}
	if d := duplicates(st, "mine-abcde", []string{scenarios.DuplicateRouters}); len(d) != 0 {
		t.Errorf("router duplicates %q", d)
	}
	if l := leftovers(st, "mine-abcde", nil); len(l) != 2 {
		t.Errorf("leftovers %q", l)
	}
	if l := leftovers(st, "gone-zzzzz", nil); len(l) != 0 {
		t.Errorf("leftovers of another cluster %q", l)
	}
	made := map[string]services.Resource{}
	for _, res := range st.Resources {
		if res.Name == "k8s-other-theirs" {
			made[res.ID] = res
		}
	}
	if l := leftovers(st, "gone-zzzzz", made); len(l) != 1 || !strings.HasPrefix(l[0], "network k8s-other-theirs") {
		t.Errorf("leftovers by id %q", l)
	}
	cidrs, err := te.Cloud.SubnetCIDRs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	free, err := freeNodeCIDR(append(cidrs, "10.6.0.0/24"))
	if err != nil || free != "10.6.2.0/24" {
		t.Errorf("free node CIDR %q, %v (subnets %v)", free, err, cidrs)
	}
}

func TestMadeBy(t *testing.T) {
	st := adminclient.State{Resources: []services.Resource{
		{Kind: "loadbalancer", ID: "lb1", Name: "k8s-ns-mine-abcde-control-plane-apiserver"},
		{Kind: "port", ID: "p1", Name: "octavia-lb-lb1"},
		{Kind: "loadbalancer", ID: "lb2", Name: "k8s-ns-theirs-control-plane-apiserver"},
		{Kind: "port", ID: "p2", Name: "octavia-lb-lb2"},
		{Kind: "member", ID: "m1"},
		{Kind: "server", ID: "s0", Name: "mine-abcde-md-0-x"},
		{Kind: "server", ID: "s1", Name: "mine-abcde-md-0-y"},
	}}
	var ids []string
	for _, r := range madeBy(st, map[string]bool{"s0": true}, "mine-abcde") {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "lb1,p1,s1" {
		t.Errorf("made by the cluster: %v, want lb1,p1,s1", ids)
	}
}

func TestFreeNodeCIDR(t *testing.T) {
	for _, c := range []struct {
		used []string
		want string
	}{
		{nil, "10.6.1.0/24"},
		{[]string{"10.6.0.0/24", "10.6.1.0/24", "192.168.0.0/16"}, "10.6.2.0/24"},
		{[]string{"10.6.0.0/23"}, "10.6.2.0/24"},
		{[]string{"10.0.0.0/8"}, ""},
	} {
		got, err := freeNodeCIDR(c.used)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("freeNodeCIDR(%v) = %q, %v; want %q", c.used, got, err, c.want)
		}
	}
}

func TestFaultSpecCarriesExpiry(t *testing.T) {
	sc := parse(t, `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: f}
spec:
  description: F.
  steps:
  - fault: {name: a, type: error, service: network, rate: 0.3, seed: 7, status: 503, message: busy, expiresAfter: 20m}
  - fault: {name: b, type: stuck, operation: loadbalancer.create, stuckFor: 45s, expiresAfter: 10m}
  - fault: {name: c, type: quota, resource: instances, limit: 0, expiresAfter: 10m}
`)
	a, b, c := faultSpec(sc.Spec.Steps[0].Fault), faultSpec(sc.Spec.Steps[1].Fault), faultSpec(sc.Spec.Steps[2].Fault)
	if a.For != "20m0s" || a.Rate != 0.3 || a.Status != 503 || a.Message != "busy" || a.Service != "network" {
		t.Errorf("error fault %+v", a)
	}
	if b.StuckFor != "45s" || b.Operation != "loadbalancer.create" || b.For != "10m0s" {
		t.Errorf("stuck fault %+v", b)
	}
	if c.Resource != "instances" || c.Limit != 0 || c.Type != "quota" {
		t.Errorf("quota fault %+v", c)
	}
	// Every built-in fault is accepted by fakecloud as the runner sends it.
	te := newTestEnv(t)
	for i := range sc.Spec.Steps {
		r, err := te.Cloud.AddFault(context.Background(), faultSpec(sc.Spec.Steps[i].Fault))
		if err != nil || r.Expires == nil {
			t.Errorf("fault %d: %v (expires %v)", i, err, r.Expires)
		}
	}
}

func TestClusterName(t *testing.T) {
	if got := clusterName("octavia-outage", "abcde"); got != "octavia-outage-abcde" {
		t.Errorf("%q", got)
	}
	long := clusterName(strings.Repeat("a", 60), "abcde")
	if len(long) > 63-len("-control-plane")-12 || !strings.HasSuffix(long, "-abcde") {
		t.Errorf("%q (%d)", long, len(long))
	}
}
