package baremetal_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

// TestWholeCloud drives Ironic through the service catalog of a whole fakecloud.
func TestWholeCloud(t *testing.T) {
	ctx := context.Background()
	h := cloudtest.Start(t)
	admin := h.Client(t, cloudtest.Admin, "baremetal")
	admin.Microversion = "1.78"
	demo := h.Client(t, cloudtest.Demo, "baremetal")
	demo.Microversion = "1.78"

	pages, err := nodes.ListDetail(admin, nodes.ListOpts{ProvisionState: nodes.Available}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeded, _ := nodes.ExtractNodes(pages)
	if len(seeded) != 3 || seeded[0].ResourceClass != "baremetal.medium" || seeded[0].Properties["cpus"] == nil {
		t.Fatalf("seeded nodes: %+v", seeded)
	}
	pp, err := ports.List(admin, ports.ListOpts{NodeUUID: seeded[0].UUID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pl, _ := ports.ExtractPorts(pp); len(pl) != 1 {
		t.Fatalf("ports of a seeded node: %+v", pl)
	}

	// members see no admin-owned node and cannot enroll one
	pages, err = nodes.List(demo, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := nodes.ExtractNodes(pages); len(l) != 0 {
		t.Fatalf("demo sees %d nodes", len(l))
	}
	if _, err := nodes.Get(ctx, demo, seeded[0].UUID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("demo reads a node: %v", err)
	}
	if _, err := nodes.Create(ctx, demo, nodes.CreateOpts{Driver: "fake-hardware"}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("demo enrolls a node: %v", err)
	}

	// enroll -> manageable -> available -> active -> available, and delete
	n, err := nodes.Create(ctx, admin, nodes.CreateOpts{Driver: "fake-hardware", Name: "gc-node", ResourceClass: "baremetal.small"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	wait := func(want string) {
		t.Helper()
		cloudtest.Eventually(t, 5*time.Second, "node "+want, func() bool {
			got, err := nodes.Get(ctx, admin, n.UUID).Extract()
			return err == nil && got.ProvisionState == want && got.TargetProvisionState == ""
		})
	}
	for _, step := range []struct {
		target nodes.TargetProvisionState
		want   string
	}{{nodes.TargetManage, "manageable"}, {nodes.TargetProvide, "available"}, {nodes.TargetActive, "active"}, {nodes.TargetDeleted, "available"}} {
		opts := nodes.ProvisionStateOpts{Target: step.target}
		if step.target == nodes.TargetActive {
			opts.ConfigDrive = nodes.ConfigDrive{UserData: "#cloud-config\n"}
		}
		if err := nodes.ChangeProvisionState(ctx, admin, n.UUID, opts).ExtractErr(); err != nil {
			t.Fatalf("%s: %v", step.target, err)
		}
		wait(step.want)
	}
	if err := nodes.Delete(ctx, admin, "gc-node").ExtractErr(); err != nil {
		t.Fatal(err)
	}
}
