package network

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// routedPort makes a network, subnet and router (gateway on public, interface on the subnet)
// for token's project and returns a port on the subnet, the router's id and the public
// network's id.
func routedPort(t *testing.T, h *harness, token string) (portID, routerID, pub string) {
	t.Helper()
	ctx := context.Background()
	demo := h.client(token)
	pub = h.publicNet()
	n, err := networks.Create(ctx, demo, networks.CreateOpts{Name: "fip-net"}).Extract()
	ok(t, err)
	sn, err := subnets.Create(ctx, demo, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.30.0.0/24", IPVersion: 4}).Extract()
	ok(t, err)
	rt, err := routers.Create(ctx, demo, routers.CreateOpts{Name: "fip-rt", GatewayInfo: &routers.GatewayInfo{NetworkID: pub}}).Extract()
	ok(t, err)
	_, err = routers.AddInterface(ctx, demo, rt.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
	ok(t, err)
	p, err := ports.Create(ctx, demo, ports.CreateOpts{NetworkID: n.ID}).Extract()
	ok(t, err)
	return p.ID, rt.ID, pub
}

// TestFloatingIPStatus: an associated floating IP is ACTIVE, an unassociated one DOWN, and
// each way of disassociating that Neutron accepts (port_id null, and the empty update that
// gophercloud sends for UpdateOpts{PortID: nil}, which is what CAPO does) brings it DOWN; an
// update of other attributes alone keeps the association.
func TestFloatingIPStatus(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	demo := h.client("demo")
	portID, routerID, pub := routedPort(t, h, "demo")

	fip, err := floatingips.Create(ctx, demo, floatingips.CreateOpts{FloatingNetworkID: pub}).Extract()
	ok(t, err)
	if fip.Status != "DOWN" || fip.PortID != "" {
		t.Fatalf("new floating IP without a port: %+v", fip)
	}
	associate := func() {
		t.Helper()
		f, err := floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: &portID}).Extract()
		ok(t, err)
		if f.Status != "ACTIVE" || f.PortID != portID || f.RouterID != routerID {
			t.Fatalf("associated: %+v", f)
		}
	}
	associate()

	desc := "still mine"
	f, err := floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{Description: &desc}).Extract()
	ok(t, err)
	if f.Status != "ACTIVE" || f.PortID != portID || f.Description != desc {
		t.Fatalf("description update dropped the association: %+v", f)
	}

	// CAPO's DisassociateFloatingIP: UpdateOpts{PortID: nil} is the body {"floatingip": {}}.
	f, err = floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: nil}).Extract()
	ok(t, err)
	if f.Status != "DOWN" || f.PortID != "" || f.RouterID != "" || f.FixedIP != "" {
		t.Fatalf("after an empty update: %+v", f)
	}
	got, err := floatingips.Get(ctx, demo, fip.ID).Extract()
	ok(t, err)
	if got.Status != "DOWN" {
		t.Fatalf("GET after disassociation: %+v", got)
	}

	associate()
	empty := ""
	f, err = floatingips.Update(ctx, demo, fip.ID, floatingips.UpdateOpts{PortID: &empty}).Extract()
	ok(t, err)
	if f.Status != "DOWN" || f.PortID != "" {
		t.Fatalf("after port_id null: %+v", f)
	}

	// A floating IP created on a port is ACTIVE at once.
	ok(t, floatingips.Delete(ctx, demo, fip.ID).ExtractErr())
	f, err = floatingips.Create(ctx, demo, floatingips.CreateOpts{FloatingNetworkID: pub, PortID: portID}).Extract()
	ok(t, err)
	if f.Status != "ACTIVE" || f.PortID != portID {
		t.Fatalf("created on a port: %+v", f)
	}

	// fixed_ip_address needs a port_id.
	_, err = floatingips.Create(ctx, demo, floatingips.CreateOpts{FloatingNetworkID: pub, FixedIP: "10.30.0.9"}).Extract()
	wantCode(t, err, 400)
	_, err = floatingips.Update(ctx, demo, f.ID, floatingips.UpdateOpts{FixedIP: "10.30.0.9"}).Extract()
	wantCode(t, err, 400)
}
