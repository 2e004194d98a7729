package compute_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
)

// TestWholeCloud drives Nova inside a whole fakecloud: ports from Neutron, images from
// Glance, bare-metal nodes from Ironic, tokens from Keystone.
func TestWholeCloud(t *testing.T) {
	ctx := context.Background()
	h := cloudtest.Start(t)
	demo := h.Client(t, cloudtest.Demo, "compute")
	demo.Microversion = "2.60"
	admin := h.Client(t, cloudtest.Admin, "compute")
	admin.Microversion = "2.60"
	net := h.Client(t, cloudtest.Demo, "network")

	n, err := networks.Create(ctx, net, networks.CreateOpts{Name: "nova-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subnets.Create(ctx, net, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.20.0.0/24", IPVersion: 4}).Extract(); err != nil {
		t.Fatal(err)
	}
	pages, err := images.List(h.Client(t, cloudtest.Demo, "image"), nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _ := images.ExtractImages(pages)
	if len(imgs) == 0 {
		t.Fatal("no seeded image")
	}
	image := imgs[0].ID

	s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "vm", FlavorRef: compute.FlavorID("g1.small"), ImageRef: image,
		Networks: []servers.Network{{UUID: n.ID}}, UserData: []byte("#cloud-config\n")}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var got *servers.Server
	cloudtest.Eventually(t, 5*time.Second, "server ACTIVE", func() bool {
		got, err = servers.Get(ctx, demo, s.ID).Extract()
		return err == nil && got.Status == "ACTIVE"
	})
	addrs, _ := got.Addresses["nova-net"].([]any)
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0].(map[string]any)["addr"].(string), "10.20.0.") {
		t.Fatalf("addresses: %v", got.Addresses)
	}
	portPages, err := ports.List(net, ports.ListOpts{DeviceID: s.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := ports.ExtractPorts(portPages)
	if len(pl) != 1 || pl[0].DeviceOwner != "compute:nova" {
		t.Fatalf("ports of the server: %+v", pl)
	}

	// Isolation: the admin sees it with all_tenants only; an unknown id is a 404.
	allPages, err := servers.List(admin, servers.ListOpts{AllTenants: true, Name: "^vm$"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := servers.ExtractServers(allPages); len(all) != 1 || all[0].HypervisorHostname == "" {
		t.Fatalf("admin all_tenants: %+v", all)
	}
	ownPages, _ := servers.List(admin, servers.ListOpts{Name: "^vm$"}).AllPages(ctx)
	if own, _ := servers.ExtractServers(ownPages); len(own) != 0 {
		t.Fatalf("admin's own project lists %d", len(own))
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if _, err := servers.Get(ctx, demo, "00000000-0000-4000-8000-000000000000").Extract(); !errors.As(err, &code) || code.Actual != 404 {
		t.Fatalf("unknown server: %v", err)
	}

	// A bare-metal flavor lands on an Ironic node.
	bm, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "metal", FlavorRef: compute.FlavorID("bm1.medium"), ImageRef: image,
		Networks: []servers.Network{{UUID: n.ID}}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	cloudtest.Eventually(t, 10*time.Second, "bare-metal server ACTIVE", func() bool {
		got, err = servers.Get(ctx, admin, bm.ID).Extract()
		return err == nil && got.Status == "ACTIVE"
	})
	ironic := h.Client(t, cloudtest.Admin, "baremetal")
	ironic.Microversion = "1.50"
	node, err := nodes.Get(ctx, ironic, got.HypervisorHostname).Extract()
	if err != nil || node.InstanceUUID != bm.ID || node.ProvisionState != "active" {
		t.Fatalf("node: %v %+v", err, node)
	}

	for _, id := range []string{s.ID, bm.ID} {
		if err := servers.Delete(ctx, demo, id).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	cloudtest.Eventually(t, 10*time.Second, "servers deleted", func() bool {
		_, e1 := servers.Get(ctx, demo, s.ID).Extract()
		_, e2 := servers.Get(ctx, demo, bm.ID).Extract()
		return e1 != nil && e2 != nil
	})
	portPages, _ = ports.List(net, ports.ListOpts{DeviceID: s.ID}).AllPages(ctx)
	if pl, _ := ports.ExtractPorts(portPages); len(pl) != 0 {
		t.Fatalf("ports left after delete: %+v", pl)
	}
	cloudtest.Eventually(t, 10*time.Second, "node released", func() bool {
		node, err = nodes.Get(ctx, ironic, node.UUID).Extract()
		return err == nil && node.InstanceUUID == "" && node.ProvisionState == "available"
	})
}
