package network

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

func gatewayIPs(rt *routers.Router) []string {
	var out []string
	for _, ip := range rt.GatewayInfo.ExternalFixedIPs {
		out = append(out, ip.IPAddress)
	}
	return out
}

// TestRouterGatewayFixedIPs: external_gateway_info.external_fixed_ips is honoured (admin
// only, as Neutron's default policy has it), every address is shown, a taken address is 409
// and one off the external network 400, and changing the addresses of a gateway already on
// that network changes them in place, floating IPs behind the router and all.
func TestRouterGatewayFixedIPs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, demo := h.client("admin"), h.client("demo")
	pub := h.publicNet()
	pages, err := subnets.List(admin, subnets.ListOpts{NetworkID: pub}).AllPages(ctx)
	ok(t, err)
	pubSubnets, err := subnets.ExtractSubnets(pages)
	ok(t, err)
	pubSubnet := pubSubnets[0].ID
	gw := func(ips ...routers.ExternalFixedIP) *routers.GatewayInfo {
		return &routers.GatewayInfo{NetworkID: pub, ExternalFixedIPs: ips}
	}

	rt, err := routers.Create(ctx, admin, routers.CreateOpts{Name: "chosen", GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "172.24.4.99"})}).Extract()
	ok(t, err)
	if got := gatewayIPs(rt); len(got) != 1 || got[0] != "172.24.4.99" || rt.GatewayInfo.ExternalFixedIPs[0].SubnetID != pubSubnet {
		t.Fatalf("requested gateway address: %+v", rt.GatewayInfo)
	}
	got, err := routers.Get(ctx, admin, rt.ID).Extract()
	ok(t, err)
	if ips := gatewayIPs(got); len(ips) != 1 || ips[0] != "172.24.4.99" {
		t.Fatalf("GET: %+v", got.GatewayInfo)
	}

	// Taken, off the external network, off the named subnet.
	_, err = routers.Create(ctx, admin, routers.CreateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "172.24.4.99"})}).Extract()
	wantCode(t, err, 409)
	_, err = routers.Create(ctx, admin, routers.CreateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "10.99.0.5"})}).Extract()
	wantCode(t, err, 400)
	_, err = routers.Create(ctx, admin, routers.CreateOpts{GatewayInfo: gw(routers.ExternalFixedIP{SubnetID: pubSubnet, IPAddress: "10.99.0.5"})}).Extract()
	wantCode(t, err, 400)

	// Two addresses, one chosen and one from a subnet: both are shown.
	two, err := routers.Create(ctx, admin, routers.CreateOpts{GatewayInfo: gw(
		routers.ExternalFixedIP{SubnetID: pubSubnet}, routers.ExternalFixedIP{IPAddress: "172.24.4.98"})}).Extract()
	ok(t, err)
	if ips := gatewayIPs(two); len(ips) != 2 || ips[1] != "172.24.4.98" || ips[0] == "" {
		t.Fatalf("two gateway addresses: %+v", two.GatewayInfo)
	}

	// A member names the network only.
	_, err = routers.Create(ctx, demo, routers.CreateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "172.24.4.97"})}).Extract()
	wantCode(t, err, 403)
	no := false
	_, err = routers.Create(ctx, demo, routers.CreateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: pub, EnableSNAT: &no}}).Extract()
	wantCode(t, err, 403)
	mine, err := routers.Create(ctx, demo, routers.CreateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: pub}}).Extract()
	ok(t, err)
	_, err = routers.Update(ctx, demo, mine.ID, routers.UpdateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "172.24.4.97"})}).Extract()
	wantCode(t, err, 403)

	// In place: a router whose gateway serves a floating IP moves to another address.
	portID, routerID, _ := routedPort(t, h, "admin")
	fip, err := floatingips.Create(ctx, admin, floatingips.CreateOpts{FloatingNetworkID: pub, PortID: portID}).Extract()
	ok(t, err)
	before, err := routers.Get(ctx, admin, routerID).Extract()
	ok(t, err)
	old := gatewayIPs(before)[0]
	moved, err := routers.Update(ctx, admin, routerID, routers.UpdateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: "172.24.4.97"})}).Extract()
	ok(t, err)
	if ips := gatewayIPs(moved); len(ips) != 1 || ips[0] != "172.24.4.97" {
		t.Fatalf("moved gateway: %+v", moved.GatewayInfo)
	}
	f, err := floatingips.Get(ctx, admin, fip.ID).Extract()
	ok(t, err)
	if f.Status != "ACTIVE" || f.RouterID != routerID {
		t.Fatalf("floating IP after the gateway moved: %+v", f)
	}
	// The old address is free again; asking for the current ones changes nothing.
	_, err = routers.Create(ctx, admin, routers.CreateOpts{GatewayInfo: gw(routers.ExternalFixedIP{IPAddress: old})}).Extract()
	ok(t, err)
	same, err := routers.Update(ctx, admin, routerID, routers.UpdateOpts{GatewayInfo: gw(routers.ExternalFixedIP{SubnetID: pubSubnet, IPAddress: "172.24.4.97"})}).Extract()
	ok(t, err)
	if ips := gatewayIPs(same); len(ips) != 1 || ips[0] != "172.24.4.97" {
		t.Fatalf("unchanged gateway: %+v", same.GatewayInfo)
	}
}
