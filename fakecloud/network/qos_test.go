package network

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	gcext "github.com/gophercloud/gophercloud/v2/openstack/common/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/qos/policies"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func listPolicies(t *testing.T, c *gophercloud.ServiceClient, opts policies.ListOpts) map[string]policies.Policy {
	t.Helper()
	pages, err := policies.List(c, opts).AllPages(context.Background())
	ok(t, err)
	all, err := policies.ExtractPolicies(pages)
	ok(t, err)
	out := map[string]policies.Policy{}
	for _, p := range all {
		out[p.Name] = p
	}
	return out
}

// NetworkQoSExt is the QoS policy a port has through its network.
type NetworkQoSExt struct {
	QoSNetworkPolicyID string `json:"qos_network_policy_id"`
}

// portQoS is a port with its QoS attributes.
type portQoS struct {
	ports.Port
	policies.QoSPolicyExt
	NetworkQoSExt
}

// TestQoSPolicies: Neutron's QoS policies (the qos extension): admins create, update and
// delete them, for any project; members see their project's and shared ones; filters; ports
// and networks name them (a policy the port's project cannot see is a 404); a policy in use
// cannot be deleted; they survive a restart.
func TestQoSPolicies(t *testing.T) {
	dir := t.TempDir()
	h := newHarnessAt(t, dir)
	ctx := context.Background()
	admin, demo, other := h.client("admin"), h.client("demo"), h.client("other")

	pages, err := gcext.List(demo).AllPages(ctx)
	ok(t, err)
	exts, _ := gcext.ExtractExtensions(pages)
	found := false
	for _, e := range exts {
		found = found || e.Alias == "qos"
	}
	if !found {
		t.Fatal("the qos extension is not listed")
	}

	forDemo, err := policies.Create(ctx, admin, policies.CreateOpts{Name: "demo-gold", Description: "for demo", ProjectID: "demo"}).Extract()
	ok(t, err)
	if forDemo.ProjectID != "demo" || forDemo.Description != "for demo" || forDemo.Shared || forDemo.ID == "" {
		t.Fatalf("created: %+v", forDemo)
	}
	private, err := policies.Create(ctx, admin, policies.CreateOpts{Name: "admin-only"}).Extract()
	ok(t, err)
	shared, err := policies.Create(ctx, admin, policies.CreateOpts{Name: "everyone", Shared: true}).Extract()
	ok(t, err)

	// Members create, update and delete none.
	_, err = policies.Create(ctx, demo, policies.CreateOpts{Name: "mine"}).Extract()
	wantCode(t, err, 403)
	_, err = policies.Update(ctx, demo, forDemo.ID, policies.UpdateOpts{Name: "renamed"}).Extract()
	wantCode(t, err, 403)
	wantCode(t, policies.Delete(ctx, demo, forDemo.ID).ExtractErr(), 403)

	// Scoping and filters.
	seen := listPolicies(t, demo, policies.ListOpts{})
	if len(seen) != 2 || seen["demo-gold"].ID != forDemo.ID || seen["everyone"].ID != shared.ID {
		t.Fatalf("demo sees %v", seen)
	}
	if seen := listPolicies(t, other, policies.ListOpts{}); len(seen) != 1 || seen["everyone"].ID == "" {
		t.Fatalf("another project sees %v", seen)
	}
	if seen := listPolicies(t, admin, policies.ListOpts{}); len(seen) != 3 {
		t.Fatalf("admin sees %v", seen)
	}
	yes := true
	if seen := listPolicies(t, admin, policies.ListOpts{Shared: &yes}); len(seen) != 1 || seen["everyone"].ID == "" {
		t.Fatalf("shared filter: %v", seen)
	}
	if seen := listPolicies(t, admin, policies.ListOpts{ProjectID: "demo"}); len(seen) != 1 || seen["demo-gold"].ID == "" {
		t.Fatalf("project filter: %v", seen)
	}
	_, err = policies.Get(ctx, demo, private.ID).Extract()
	wantCode(t, err, 404)
	got, err := policies.Get(ctx, demo, shared.ID).Extract()
	ok(t, err)
	if !got.Shared {
		t.Fatalf("get: %+v", got)
	}

	desc := "better"
	up, err := policies.Update(ctx, admin, forDemo.ID, policies.UpdateOpts{Name: "demo-platinum", Description: &desc}).Extract()
	ok(t, err)
	if up.Name != "demo-platinum" || up.Description != "better" || up.RevisionNumber != 2 {
		t.Fatalf("updated: %+v", up)
	}

	// Networks and ports name them.
	var n struct {
		networks.Network
		policies.QoSPolicyExt
	}
	ok(t, networks.Create(ctx, demo, policies.NetworkCreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "qos-net"}, QoSPolicyID: shared.ID}).ExtractInto(&n))
	if n.QoSPolicyID != shared.ID {
		t.Fatalf("network: %+v", n)
	}
	var p portQoS
	ok(t, ports.Create(ctx, demo, policies.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID}, QoSPolicyID: forDemo.ID}).ExtractInto(&p))
	if p.QoSPolicyID != forDemo.ID || p.QoSNetworkPolicyID != shared.ID {
		t.Fatalf("port: %+v", p)
	}
	err = ports.Create(ctx, demo, policies.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID}, QoSPolicyID: private.ID}).Err
	wantCode(t, err, 404)
	err = ports.Update(ctx, demo, p.ID, policies.PortUpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, QoSPolicyID: &private.ID}).Err
	wantCode(t, err, 404)

	// In use: not deleted; once no port or network names it, gone.
	wantCode(t, policies.Delete(ctx, admin, forDemo.ID).ExtractErr(), 409)
	none := ""
	var cleared portQoS
	ok(t, ports.Update(ctx, demo, p.ID, policies.PortUpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, QoSPolicyID: &none}).ExtractInto(&cleared))
	if cleared.QoSPolicyID != "" {
		t.Fatalf("cleared port: %+v", cleared)
	}
	ok(t, policies.Delete(ctx, admin, forDemo.ID).ExtractErr())
	_, err = policies.Get(ctx, admin, forDemo.ID).Extract()
	wantCode(t, err, 404)
	wantCode(t, policies.Delete(ctx, admin, shared.ID).ExtractErr(), 409) // the network's

	// Bulk create, as Neutron allows for policies.
	out, err := bulkPost(t, admin, "qos/policies", map[string]any{"policies": []any{map[string]any{"name": "b1"}, map[string]any{"name": "b2", "shared": true}}})
	ok(t, err)
	if ps := out["policies"]; len(ps) != 2 || ps[0]["name"] != "b1" || ps[1]["shared"] != true {
		t.Fatalf("bulk policies: %v", out)
	}

	// Durable.
	h.Stop()
	h2 := newHarnessAt(t, dir)
	again, err := policies.Get(ctx, h2.client("demo"), shared.ID).Extract()
	ok(t, err)
	if again.Name != "everyone" || !again.Shared {
		t.Fatalf("after a restart: %+v", again)
	}
}

// TestQoSPolicyUnshare: a shared policy another project's port uses cannot stop being shared.
func TestQoSPolicyUnshare(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, demo := h.client("admin"), h.client("demo")
	shared, err := policies.Create(ctx, admin, policies.CreateOpts{Name: "everyone", Shared: true}).Extract()
	ok(t, err)
	n, err := networks.Create(ctx, demo, networks.CreateOpts{Name: "n"}).Extract()
	ok(t, err)
	ok(t, ports.Create(ctx, demo, policies.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID}, QoSPolicyID: shared.ID}).Err)
	no := false
	_, err = policies.Update(ctx, admin, shared.ID, policies.UpdateOpts{Shared: &no}).Extract()
	wantCode(t, err, 409)
}
