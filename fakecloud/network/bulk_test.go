package network

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// bulkPost posts body to a collection through gophercloud and returns the decoded answer;
// gophercloud's own bulk helper exists only for security group rules.
func bulkPost(t *testing.T, c *gophercloud.ServiceClient, collection string, body map[string]any) (map[string][]map[string]any, error) {
	t.Helper()
	var out map[string][]map[string]any
	_, err := c.Post(context.Background(), c.ServiceURL(collection), body, &out, &gophercloud.RequestOpts{OkCodes: []int{201}})
	return out, err
}

func countRules(t *testing.T, c *gophercloud.ServiceClient, sg string) int {
	t.Helper()
	pages, err := rules.List(c, rules.ListOpts{SecGroupID: sg}).AllPages(context.Background())
	ok(t, err)
	rs, err := rules.ExtractRules(pages)
	ok(t, err)
	return len(rs)
}

// TestBulkCreate: Neutron's bulk form ({"<plural>": [...]}) for every resource that allows it
// creates all of them in one go (201, the plural key, in the order given) or none of them.
func TestBulkCreate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	demo := h.client("demo")

	// Security group rules, with gophercloud's CreateBulk (what the client used).
	sg, err := groups.Create(ctx, demo, groups.CreateOpts{Name: "bulk"}).Extract()
	ok(t, err)
	before := countRules(t, demo, sg.ID)
	got, err := rules.CreateBulk(ctx, demo, []rules.CreateOpts{
		{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22},
		{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 6443, PortRangeMax: 6443, RemoteIPPrefix: "10.0.0.0/8"},
	}).Extract()
	ok(t, err)
	if len(got) != 2 || got[0].PortRangeMin != 22 || got[1].PortRangeMin != 6443 || got[0].ID == "" || got[0].SecGroupID != sg.ID {
		t.Fatalf("bulk rules: %+v", got)
	}
	if n := countRules(t, demo, sg.ID); n != before+2 {
		t.Fatalf("rules after bulk: %d, want %d", n, before+2)
	}
	// All or nothing: the second rule names a remote group that does not exist.
	_, err = rules.CreateBulk(ctx, demo, []rules.CreateOpts{
		{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: rules.ProtocolUDP, PortRangeMin: 53, PortRangeMax: 53},
		{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, RemoteGroupID: "6b1c3a4e-0000-4000-8000-000000000000"},
	}).Extract()
	wantCode(t, err, 404)
	// The same rule twice in one request, an existing rule again, rules of two groups.
	dup := rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirEgress, EtherType: rules.EtherType4, Protocol: rules.ProtocolICMP}
	_, err = rules.CreateBulk(ctx, demo, []rules.CreateOpts{dup, dup}).Extract()
	wantCode(t, err, 400)
	_, err = rules.CreateBulk(ctx, demo, []rules.CreateOpts{dup, {SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22}}).Extract()
	wantCode(t, err, 409)
	sg2, err := groups.Create(ctx, demo, groups.CreateOpts{Name: "bulk2"}).Extract()
	ok(t, err)
	_, err = rules.CreateBulk(ctx, demo, []rules.CreateOpts{dup, {SecGroupID: sg2.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4}}).Extract()
	wantCode(t, err, 400)
	if n := countRules(t, demo, sg.ID); n != before+2 {
		t.Fatalf("a refused bulk create left rules behind: %d, want %d", n, before+2)
	}
	_, err = rules.CreateBulk(ctx, demo, nil).Extract()
	wantCode(t, err, 400)

	// Networks, and items wrapped in their singular key, as Neutron also accepts.
	out, err := bulkPost(t, demo, "networks", map[string]any{"networks": []any{
		map[string]any{"name": "bulk-a"}, map[string]any{"network": map[string]any{"name": "bulk-b"}}}})
	ok(t, err)
	nets := out["networks"]
	if len(nets) != 2 || nets[0]["name"] != "bulk-a" || nets[1]["name"] != "bulk-b" {
		t.Fatalf("bulk networks: %v", out)
	}
	netA, netB := nets[0]["id"].(string), nets[1]["id"].(string)

	// Subnets on both networks.
	out, err = bulkPost(t, demo, "subnets", map[string]any{"subnets": []any{
		map[string]any{"network_id": netA, "cidr": "10.40.0.0/24", "ip_version": 4},
		map[string]any{"network_id": netB, "cidr": "10.41.0.0/24", "ip_version": 4}}})
	ok(t, err)
	if sns := out["subnets"]; len(sns) != 2 || sns[0]["cidr"] != "10.40.0.0/24" || sns[1]["network_id"] != netB {
		t.Fatalf("bulk subnets: %v", out)
	}
	// Overlapping subnets within one request: refused, neither is made.
	_, err = bulkPost(t, demo, "subnets", map[string]any{"subnets": []any{
		map[string]any{"network_id": netA, "cidr": "10.42.0.0/24", "ip_version": 4},
		map[string]any{"network_id": netA, "cidr": "10.42.0.0/25", "ip_version": 4}}})
	wantCode(t, err, 400)
	n, err := networks.Get(ctx, demo, netA).Extract()
	ok(t, err)
	if len(n.Subnets) != 1 {
		t.Fatalf("a refused bulk create left a subnet: %v", n.Subnets)
	}

	// Ports: two at once; then a pair whose second address is the first's, so neither is made
	// and the first's address stays free.
	out, err = bulkPost(t, demo, "ports", map[string]any{"ports": []any{
		map[string]any{"network_id": netA, "name": "p1"}, map[string]any{"network_id": netB, "name": "p2"}}})
	ok(t, err)
	if ps := out["ports"]; len(ps) != 2 || ps[0]["name"] != "p1" || ps[1]["network_id"] != netB {
		t.Fatalf("bulk ports: %v", out)
	}
	ip := map[string]any{"ip_address": "10.40.0.77"}
	_, err = bulkPost(t, demo, "ports", map[string]any{"ports": []any{
		map[string]any{"network_id": netA, "fixed_ips": []any{ip}}, map[string]any{"network_id": netA, "fixed_ips": []any{ip}}}})
	wantCode(t, err, 409)
	pages, err := ports.List(demo, ports.ListOpts{NetworkID: netA}).AllPages(ctx)
	ok(t, err)
	if ps, _ := ports.ExtractPorts(pages); len(ps) != 1 {
		t.Fatalf("a refused bulk create left ports: %+v", ps)
	}
	p, err := ports.Create(ctx, demo, ports.CreateOpts{NetworkID: netA, FixedIPs: []ports.IP{{IPAddress: "10.40.0.77"}}}).Extract()
	ok(t, err)
	if p.FixedIPs[0].IPAddress != "10.40.0.77" {
		t.Fatalf("the address of a refused bulk create is still held: %+v", p)
	}

	// Security groups.
	out, err = bulkPost(t, demo, "security-groups", map[string]any{"security_groups": []any{
		map[string]any{"name": "g1"}, map[string]any{"name": "g2"}}})
	ok(t, err)
	if gs := out["security_groups"]; len(gs) != 2 || gs[1]["name"] != "g2" {
		t.Fatalf("bulk security groups: %v", out)
	}

	// Quotas count the whole request: two networks over a limit of one more is refused whole.
	h.quotas["demo/network"] = 3
	_, err = bulkPost(t, demo, "networks", map[string]any{"networks": []any{map[string]any{"name": "q1"}, map[string]any{"name": "q2"}}})
	wantCode(t, err, 409)
	pages, err = networks.List(demo, networks.ListOpts{Name: "q1"}).AllPages(ctx)
	ok(t, err)
	if ns, _ := networks.ExtractNetworks(pages); len(ns) != 0 {
		t.Fatalf("a refused bulk create left a network: %+v", ns)
	}

	// Routers and floating IPs have no bulk create in Neutron.
	_, err = bulkPost(t, demo, "routers", map[string]any{"routers": []any{map[string]any{"name": "r"}}})
	wantCode(t, err, 400)
	_, err = bulkPost(t, demo, "floatingips", map[string]any{"floatingips": []any{map[string]any{"floating_network_id": h.publicNet()}}})
	wantCode(t, err, 400)
}
