package network_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

// result carries a value and its error until a test checks them with get.
type result[T any] struct {
	v   T
	err error
}

func check[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func wantStatus(t *testing.T, err error, code int) {
	t.Helper()
	if !gophercloud.ResponseCodeIs(err, code) {
		t.Fatalf("want HTTP %d, got %v", code, err)
	}
}

// TestThroughTheCloud drives the network service inside a whole fakecloud: real Keystone
// tokens and catalog, projects admin and demo, and the reader role.
func TestThroughTheCloud(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	admin := h.Client(t, cloudtest.Admin, "network")
	demo := h.Client(t, cloudtest.Demo, "network")
	reader := h.Client(t, cloudtest.DemoReader, "network")

	// The seeded external network.
	pages := check(networks.List(demo, networks.ListOpts{Name: "public"}).AllPages(ctx)).get(t)
	pub := check(networks.ExtractNetworks(pages)).get(t)
	if len(pub) != 1 || !pub[0].Shared {
		t.Fatalf("public network: %+v", pub)
	}

	// Isolation between projects.
	private := check(networks.Create(ctx, admin, networks.CreateOpts{Name: "admin-private"}).Extract()).get(t)
	_, err := networks.Get(ctx, demo, private.ID).Extract()
	wantStatus(t, err, 404)
	net := check(networks.Create(ctx, demo, networks.CreateOpts{Name: "demo-net"}).Extract()).get(t)
	if net.ProjectID == private.ProjectID || net.ProjectID == "" {
		t.Fatalf("projects: demo %q admin %q", net.ProjectID, private.ProjectID)
	}
	check(networks.Get(ctx, admin, net.ID).Extract()).get(t)
	_, err = networks.Create(ctx, reader, networks.CreateOpts{Name: "nope"}).Extract()
	wantStatus(t, err, 403)
	check(networks.Get(ctx, reader, net.ID).Extract()).get(t)

	sn := check(subnets.Create(ctx, demo, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.44.0.0/24", IPVersion: gophercloud.IPv4}).Extract()).get(t)
	sg := check(groups.Create(ctx, demo, groups.CreateOpts{Name: "demo-sg"}).Extract()).get(t)
	port := check(ports.Create(ctx, demo, ports.CreateOpts{NetworkID: net.ID, SecurityGroups: &[]string{sg.ID}}).Extract()).get(t)
	if len(port.FixedIPs) != 1 || port.FixedIPs[0].SubnetID != sn.ID {
		t.Fatalf("port: %+v", port)
	}
	rt := check(routers.Create(ctx, demo, routers.CreateOpts{Name: "demo-router", GatewayInfo: &routers.GatewayInfo{NetworkID: pub[0].ID}}).Extract()).get(t)
	check(routers.AddInterface(ctx, demo, rt.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()).get(t)
	fip := check(floatingips.Create(ctx, demo, floatingips.CreateOpts{FloatingNetworkID: pub[0].ID, PortID: port.ID}).Extract()).get(t)
	if fip.Status != "ACTIVE" || fip.RouterID != rt.ID {
		t.Fatalf("fip: %+v", fip)
	}
	// Admin sees demo's resources; demo's quota is readable by demo, writable by admin.
	pages = check(ports.List(admin, ports.ListOpts{DeviceID: rt.ID}).AllPages(ctx)).get(t)
	if l := check(ports.ExtractPorts(pages)).get(t); len(l) != 2 { // the interface and the gateway port
		t.Fatalf("router ports seen by admin: %+v", l)
	}
	check(quotas.Get(ctx, demo, net.ProjectID).Extract()).get(t)
	_, err = quotas.Update(ctx, demo, net.ProjectID, quotas.UpdateOpts{Port: new(1000)}).Extract()
	wantStatus(t, err, 403)
	check(quotas.Update(ctx, admin, net.ProjectID, quotas.UpdateOpts{Port: new(1000)}).Extract()).get(t)

	// Tear down in order; the conflicts on the way are Neutron's.
	wantStatus(t, networks.Delete(ctx, demo, net.ID).ExtractErr(), 409)
	if err := floatingips.Delete(ctx, demo, fip.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	check(routers.RemoveInterface(ctx, demo, rt.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()).get(t)
	for _, err := range []error{
		routers.Delete(ctx, demo, rt.ID).ExtractErr(),
		ports.Delete(ctx, demo, port.ID).ExtractErr(),
		groups.Delete(ctx, demo, sg.ID).ExtractErr(),
		networks.Delete(ctx, demo, net.ID).ExtractErr(),
		networks.Delete(ctx, admin, private.ID).ExtractErr(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}
