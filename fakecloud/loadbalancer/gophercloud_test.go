package loadbalancer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/apiversions"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/providers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/quotas"
)

// waitActive polls through gophercloud, as CAPO does, until the load balancer is ACTIVE.
func waitActive(t *testing.T, c *gophercloud.ServiceClient, id string) *loadbalancers.LoadBalancer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lb, err := loadbalancers.Get(context.Background(), c, id).Extract()
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if lb.ProvisioningStatus == StatusActive {
			return lb
		}
		if time.Now().After(deadline) {
			t.Fatalf("load balancer %s stays %s", id, lb.ProvisioningStatus)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGophercloud(t *testing.T) {
	h := newHarnessWith(t, harnessOpts{})
	ctx := context.Background()
	c := h.client("demo")

	vs, err := apiversions.List(c).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := apiversions.ExtractAPIVersions(vs); err != nil || len(v) == 0 || v[0].ID != "v2.0" {
		t.Fatalf("versions %v %v", v, err)
	}
	pp, err := providers.List(c, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := providers.ExtractProviders(pp); len(ps) != 1 || ps[0].Name != "amphora" {
		t.Fatalf("providers %v", ps)
	}

	lb, err := loadbalancers.Create(ctx, c, loadbalancers.CreateOpts{Name: "k8s-api", VipSubnetID: subnetDemo, Tags: []string{"cluster"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if lb.ProvisioningStatus != StatusPendingCreate || lb.VipAddress == "" || lb.CreatedAt.IsZero() {
		t.Fatalf("created: %+v", lb)
	}
	waitActive(t, c, lb.ID)

	// Pagination through next links.
	for i := 0; i < 2; i++ {
		extra, err := loadbalancers.Create(ctx, c, loadbalancers.CreateOpts{Name: "extra", VipNetworkID: netDemo}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		waitActive(t, c, extra.ID)
	}
	pages, err := loadbalancers.List(c, loadbalancers.ListOpts{Limit: 1}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := loadbalancers.ExtractLoadBalancers(pages); len(all) != 3 {
		t.Fatalf("paged list: %d", len(all))
	}
	pages, err = loadbalancers.List(c, loadbalancers.ListOpts{Name: "k8s-api"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := loadbalancers.ExtractLoadBalancers(pages); len(got) != 1 || got[0].ID != lb.ID {
		t.Fatalf("filtered list: %v", got)
	}

	name := "k8s-api-2"
	release := h.backend.hold()
	if _, err := loadbalancers.Update(ctx, c, lb.ID, loadbalancers.UpdateOpts{Name: &name}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = loadbalancers.Update(ctx, c, lb.ID, loadbalancers.UpdateOpts{Name: &name}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("update while pending: %v", err)
	}
	release()
	waitActive(t, c, lb.ID)

	li, err := listeners.Create(ctx, c, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: 6443, Name: "api"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	po, err := pools.Create(ctx, c, pools.CreateOpts{ListenerID: li.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin, Name: "api"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	mon, err := monitors.Create(ctx, c, monitors.CreateOpts{PoolID: po.ID, Type: monitors.TypeTCP, Delay: 10, Timeout: 5, MaxRetries: 3}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	weight := 2
	m, err := pools.CreateMember(ctx, c, po.ID, pools.CreateMemberOpts{Address: "10.0.1.5", ProtocolPort: 6443, Weight: &weight, SubnetID: subnetDemo}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	if got, err := pools.GetMember(ctx, c, po.ID, m.ID).Extract(); err != nil || got.OperatingStatus != OpOnline || got.Weight != 2 {
		t.Fatalf("member %+v %v", got, err)
	}
	err = pools.BatchUpdateMembers(ctx, c, po.ID, []pools.BatchUpdateMemberOpts{
		{Address: "10.0.1.5", ProtocolPort: 6443}, {Address: "10.0.1.6", ProtocolPort: 6443},
	}).ExtractErr()
	if err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	mp, err := pools.ListMembers(c, po.ID, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := pools.ExtractMembers(mp); len(ms) != 2 {
		t.Fatalf("members after batch: %d", len(ms))
	}
	gotPool, err := pools.Get(ctx, c, po.ID).Extract()
	if err != nil || gotPool.MonitorID != mon.ID || len(gotPool.Listeners) != 1 || len(gotPool.Members) != 2 {
		t.Fatalf("pool %+v %v", gotPool, err)
	}
	gotLi, err := listeners.Get(ctx, c, li.ID).Extract()
	if err != nil || gotLi.DefaultPoolID != po.ID || gotLi.ProvisioningStatus != StatusActive {
		t.Fatalf("listener %+v %v", gotLi, err)
	}
	delay := 20
	if _, err := monitors.Update(ctx, c, mon.ID, monitors.UpdateOpts{Delay: delay}).Extract(); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	st, err := loadbalancers.GetStatuses(ctx, c, lb.ID).Extract()
	if err != nil || len(st.Loadbalancer.Listeners) != 1 || len(st.Loadbalancer.Listeners[0].Pools) != 1 {
		t.Fatalf("statuses %+v %v", st, err)
	}
	if _, err := loadbalancers.GetStats(ctx, c, lb.ID).Extract(); err != nil {
		t.Fatal(err)
	}
	if res := loadbalancers.Get(ctx, c, lb.ID); !strings.HasPrefix(res.Header.Get("X-Openstack-Request-Id"), "req-") {
		t.Fatalf("no request id: %v", res.Header)
	}
	if err := loadbalancers.Failover(ctx, c, lb.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)

	// Another project gets a 403, as from Octavia's policy.
	_, err = loadbalancers.Get(ctx, h.client("other"), lb.ID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("foreign get: %v", err)
	}
	// Children block a plain delete.
	if err := loadbalancers.Delete(ctx, c, lb.ID, nil).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("delete with children: %v", err)
	}
	if err := pools.DeleteMember(ctx, c, po.ID, m.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	if err := monitors.Delete(ctx, c, mon.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	if err := listeners.Delete(ctx, c, li.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, lb.ID)
	if err := loadbalancers.Delete(ctx, c, lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	h.wait(lb.ID, "")
	if _, err := loadbalancers.Get(ctx, c, lb.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("get after delete: %v", err)
	}

	// A fully populated load balancer in one call.
	weight1 := 1
	full, err := loadbalancers.Create(ctx, c, loadbalancers.CreateOpts{
		Name: "full", VipSubnetID: subnetDemo,
		Listeners: []listeners.CreateOpts{{
			Protocol: listeners.ProtocolHTTP, ProtocolPort: 80,
			DefaultPool: &pools.CreateOpts{
				Name: "web", LBMethod: pools.LBMethodRoundRobin, Protocol: pools.ProtocolHTTP,
				Members: []pools.CreateMemberOpts{{Address: "10.0.7.1", ProtocolPort: 8080, Weight: &weight1}},
				Monitor: monitors.CreateOpts{Type: monitors.TypeHTTP, Delay: 5, Timeout: 3, MaxRetries: 2},
			},
		}},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Listeners) != 1 || len(full.Pools) != 1 || len(full.Pools[0].Members) != 1 || full.Pools[0].Monitor.Type != "HTTP" {
		t.Fatalf("full create: %+v", full)
	}
	waitActive(t, c, full.ID)

	// Quotas, as admin.
	admin := h.client("admin")
	five := 5
	q, err := quotas.Update(ctx, admin, "demo", quotas.UpdateOpts{Loadbalancer: &five}).Extract()
	if err != nil || q.Loadbalancer != 5 {
		t.Fatalf("quota update %+v %v", q, err)
	}
	if q, err := quotas.Get(ctx, c, "demo").Extract(); err != nil || q.Loadbalancer != 5 || q.Listener != -1 {
		t.Fatalf("quota get %+v %v", q, err)
	}
}
