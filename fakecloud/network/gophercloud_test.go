package network

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	gcext "github.com/gophercloud/gophercloud/v2/openstack/common/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// client returns a gophercloud network client of the harness for token's principal.
func (h *harness) client(token string) *gophercloud.ServiceClient {
	return h.Client(token, "network", "/network/", "/network/v2.0/")
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if !gophercloud.ResponseCodeIs(err, code) {
		t.Fatalf("want HTTP %d, got %v", code, err)
	}
}

func TestGophercloudNetworking(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	demo, admin, other := h.client("demo"), h.client("admin"), h.client("other")

	// Networks.
	up := true
	net, err := networks.Create(ctx, demo, networks.CreateOpts{Name: "gc-net", AdminStateUp: &up}).Extract()
	ok(t, err)
	if net.Status != "ACTIVE" || net.ProjectID != "demo" || net.CreatedAt.IsZero() {
		t.Fatalf("network: %+v", net)
	}
	pages, err := networks.List(demo, networks.ListOpts{Name: "gc-net"}).AllPages(ctx)
	ok(t, err)
	nets, err := networks.ExtractNetworks(pages)
	ok(t, err)
	if len(nets) != 1 || nets[0].ID != net.ID {
		t.Fatalf("list: %+v", nets)
	}
	var ext []struct {
		networks.Network
		external.NetworkExternalExt
	}
	iTrue := true
	pages, err = networks.List(demo, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: &iTrue}).AllPages(ctx)
	ok(t, err)
	ok(t, networks.ExtractNetworksInto(pages, &ext))
	if len(ext) != 1 || !ext[0].External || ext[0].Name != "public" {
		t.Fatalf("external networks: %+v", ext)
	}
	pub := ext[0].ID
	name := "gc-net-2"
	_, err = networks.Update(ctx, demo, net.ID, networks.UpdateOpts{Name: &name}).Extract()
	ok(t, err)
	_, err = networks.Get(ctx, other, net.ID).Extract()
	wantCode(t, err, 404)
	_, err = networks.Create(ctx, demo, external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, External: &iTrue}).Extract()
	wantCode(t, err, 403)

	// Subnets.
	gw := "10.20.0.1"
	sn, err := subnets.Create(ctx, demo, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.20.0.0/24", IPVersion: gophercloud.IPv4,
		GatewayIP: &gw, AllocationPools: []subnets.AllocationPool{{Start: "10.20.0.10", End: "10.20.0.200"}},
		DNSNameservers: []string{"1.1.1.1"}}).Extract()
	ok(t, err)
	if sn.GatewayIP != gw || len(sn.AllocationPools) != 1 || sn.AllocationPools[0].Start != "10.20.0.10" || !sn.EnableDHCP {
		t.Fatalf("subnet: %+v", sn)
	}
	_, err = subnets.Create(ctx, demo, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.20.0.0/25", IPVersion: gophercloud.IPv4}).Extract()
	wantCode(t, err, 400)
	pages, err = subnets.List(demo, subnets.ListOpts{NetworkID: net.ID}).AllPages(ctx)
	ok(t, err)
	if sns, _ := subnets.ExtractSubnets(pages); len(sns) != 1 {
		t.Fatalf("subnets: %+v", sns)
	}
	snName := "gc-subnet"
	_, err = subnets.Update(ctx, demo, sn.ID, subnets.UpdateOpts{Name: &snName}).Extract()
	ok(t, err)

	// Security groups.
	sg, err := groups.Create(ctx, demo, groups.CreateOpts{Name: "gc-sg", Description: "d"}).Extract()
	ok(t, err)
	rule, err := rules.Create(ctx, demo, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
	ok(t, err)
	if rule.PortRangeMin != 22 || rule.Protocol != "tcp" {
		t.Fatalf("rule: %+v", rule)
	}
	_, err = rules.Create(ctx, demo, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
	wantCode(t, err, 409)
	pages, err = groups.List(demo, groups.ListOpts{}).AllPages(ctx)
	ok(t, err)
	if gs, _ := groups.ExtractGroups(pages); len(gs) != 2 {
		t.Fatalf("groups: %+v", gs)
	}
	pages, err = rules.List(demo, rules.ListOpts{SecGroupID: sg.ID}).AllPages(ctx)
	ok(t, err)
	if rs, _ := rules.ExtractRules(pages); len(rs) != 3 {
		t.Fatalf("rules: %+v", rs)
	}

	// Ports, with the port-security and binding extensions.
	fixed := []ports.IP{{SubnetID: sn.ID, IPAddress: "10.20.0.50"}}
	var p struct {
		ports.Port
		portsecurity.PortSecurityExt
		portsbinding.PortsBindingExt
	}
	ok(t, ports.Create(ctx, demo, portsecurity.PortCreateOptsExt{
		CreateOptsBuilder:   ports.CreateOpts{NetworkID: net.ID, Name: "gc-port", FixedIPs: fixed, SecurityGroups: &[]string{sg.ID}, DeviceID: "vm-gc", DeviceOwner: "compute:nova"},
		PortSecurityEnabled: &iTrue,
	}).ExtractInto(&p))
	if p.FixedIPs[0].IPAddress != "10.20.0.50" || !p.PortSecurityEnabled || p.SecurityGroups[0] != sg.ID || p.VNICType != "normal" || p.Status != "ACTIVE" {
		t.Fatalf("port: %+v", p)
	}
	pages, err = ports.List(demo, ports.ListOpts{FixedIPs: []ports.FixedIPOpts{{IPAddress: "10.20.0.50"}}}).AllPages(ctx)
	ok(t, err)
	if ps, _ := ports.ExtractPorts(pages); len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("fixed ip filter: %+v", ps)
	}
	pages, err = ports.List(demo, ports.ListOpts{DeviceID: "vm-gc"}).AllPages(ctx)
	ok(t, err)
	if ps, _ := ports.ExtractPorts(pages); len(ps) != 1 {
		t.Fatalf("device filter: %+v", ps)
	}
	_, err = ports.Create(ctx, demo, ports.CreateOpts{NetworkID: net.ID, FixedIPs: fixed}).Extract()
	wantCode(t, err, 409)
	pairs := []ports.AddressPair{{IPAddress: "10.20.0.250"}}
	pu, err := ports.Update(ctx, demo, p.ID, ports.UpdateOpts{AllowedAddressPairs: &pairs}).Extract()
	ok(t, err)
	if len(pu.AllowedAddressPairs) != 1 || pu.AllowedAddressPairs[0].MACAddress != p.MACAddress {
		t.Fatalf("pairs: %+v", pu)
	}
	var bound struct {
		ports.Port
		portsbinding.PortsBindingExt
	}
	ok(t, ports.Update(ctx, admin, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, HostID: new("host-1")}).ExtractInto(&bound))
	if bound.HostID != "host-1" {
		t.Fatalf("binding: %+v", bound)
	}
	wantCode(t, groups.Delete(ctx, demo, sg.ID).ExtractErr(), 409)

	// Routers and floating IPs.
	rt, err := routers.Create(ctx, demo, routers.CreateOpts{Name: "gc-router", GatewayInfo: &routers.GatewayInfo{NetworkID: pub}}).Extract()
	ok(t, err)
	if rt.GatewayInfo.NetworkID != pub || len(rt.GatewayInfo.ExternalFixedIPs) != 1 {
		t.Fatalf("router: %+v", rt)
	}
	fip, err := floatingips.Create(ctx, demo, floatingips.CreateOpts{FloatingNetworkID: pub}).Extract()
	ok(t, err)
	_, err = floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
	wantCode(t, err, 404)
	iface, err := routers.AddInterface(ctx, demo, rt.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
	ok(t, err)
	if iface.SubnetID != sn.ID || iface.PortID == "" {
		t.Fatalf("interface: %+v", iface)
	}
	fip, err = floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
	ok(t, err)
	if fip.Status != "ACTIVE" || fip.FixedIP != "10.20.0.50" || fip.RouterID != rt.ID {
		t.Fatalf("fip: %+v", fip)
	}
	pages, err = floatingips.List(demo, floatingips.ListOpts{PortID: p.ID}).AllPages(ctx)
	ok(t, err)
	if fs, _ := floatingips.ExtractFloatingIPs(pages); len(fs) != 1 {
		t.Fatalf("fip list: %+v", fs)
	}
	empty := ""
	fip, err = floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: &empty}).Extract()
	ok(t, err)
	if fip.PortID != "" || fip.Status != "DOWN" {
		t.Fatalf("disassociated: %+v", fip)
	}
	wantCode(t, routers.Delete(ctx, demo, rt.ID).ExtractErr(), 409)
	_, err = routers.RemoveInterface(ctx, demo, rt.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
	ok(t, err)
	ok(t, floatingips.Delete(ctx, demo, fip.ID).ExtractErr())
	ok(t, routers.Delete(ctx, demo, rt.ID).ExtractErr())

	// Tags.
	tags, err := attributestags.ReplaceAll(ctx, demo, "networks", net.ID, attributestags.ReplaceAllOpts{Tags: []string{"a", "b"}}).Extract()
	ok(t, err)
	if len(tags) != 2 {
		t.Fatalf("tags: %v", tags)
	}
	ok(t, attributestags.Add(ctx, demo, "ports", p.ID, "k8s").ExtractErr())
	exists, err := attributestags.Confirm(ctx, demo, "ports", p.ID, "k8s").Extract()
	ok(t, err)
	if !exists {
		t.Fatal("tag not confirmed")
	}
	pages, err = ports.List(demo, ports.ListOpts{Tags: "k8s"}).AllPages(ctx)
	ok(t, err)
	if ps, _ := ports.ExtractPorts(pages); len(ps) != 1 {
		t.Fatalf("tag filter: %+v", ps)
	}
	ok(t, attributestags.Delete(ctx, demo, "ports", p.ID, "k8s").ExtractErr())
	ok(t, attributestags.DeleteAll(ctx, demo, "networks", net.ID).ExtractErr())
	tags, err = attributestags.List(ctx, demo, "networks", net.ID).Extract()
	ok(t, err)
	if len(tags) != 0 {
		t.Fatalf("tags left: %v", tags)
	}

	// Quotas and extensions.
	q, err := quotas.Get(ctx, demo, "demo").Extract()
	ok(t, err)
	if q.Port != 500 {
		t.Fatalf("quota: %+v", q)
	}
	_, err = quotas.Update(ctx, admin, "demo", quotas.UpdateOpts{Port: new(2)}).Extract()
	ok(t, err)
	d, err := quotas.GetDetail(ctx, demo, "demo").Extract()
	ok(t, err)
	if d.Port.Limit != 2 || d.Port.Used != 1 {
		t.Fatalf("quota detail: %+v", d)
	}
	_, err = ports.Create(ctx, demo, ports.CreateOpts{NetworkID: net.ID}).Extract()
	ok(t, err)
	_, err = ports.Create(ctx, demo, ports.CreateOpts{NetworkID: net.ID}).Extract()
	wantCode(t, err, 409)
	pages, err = gcext.List(demo).AllPages(ctx)
	ok(t, err)
	if exts, _ := gcext.ExtractExtensions(pages); len(exts) < 10 {
		t.Fatalf("extensions: %+v", exts)
	}

	// Pagination through gophercloud's pager.
	for i := 0; i < 4; i++ {
		_, err := networks.Create(ctx, demo, networks.CreateOpts{Name: "paged"}).Extract()
		ok(t, err)
	}
	count, pagesSeen := 0, 0
	ok(t, networks.List(demo, networks.ListOpts{Name: "paged", Limit: 3}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		ns, err := networks.ExtractNetworks(page)
		count += len(ns)
		pagesSeen++
		return true, err
	}))
	if count != 4 || pagesSeen < 2 {
		t.Fatalf("paged %d networks in %d pages", count, pagesSeen)
	}

	// Deletes.
	wantCode(t, networks.Delete(ctx, demo, net.ID).ExtractErr(), 409)
	pages, err = ports.List(demo, ports.ListOpts{NetworkID: net.ID}).AllPages(ctx)
	ok(t, err)
	all, _ := ports.ExtractPorts(pages)
	for _, x := range all {
		ok(t, ports.Delete(ctx, demo, x.ID).ExtractErr())
	}
	ok(t, subnets.Delete(ctx, demo, sn.ID).ExtractErr())
	ok(t, networks.Delete(ctx, demo, net.ID).ExtractErr())
	wantCode(t, networks.Delete(ctx, demo, net.ID).ExtractErr(), 404)
}
