package baremetal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/apiversions"
	gcdrivers "github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/drivers"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func provision(t *testing.T, c *gophercloud.ServiceClient, id string, opts nodes.ProvisionStateOpts) {
	t.Helper()
	if err := nodes.ChangeProvisionState(context.Background(), c, id, opts).ExtractErr(); err != nil {
		t.Fatalf("provision %s of %s: %v", opts.Target, id, err)
	}
}

func allNodes(t *testing.T, c *gophercloud.ServiceClient, opts nodes.ListOpts, detail bool) []nodes.Node {
	t.Helper()
	pager := nodes.List(c, opts)
	if detail {
		pager = nodes.ListDetail(c, opts)
	}
	pages, err := pager.AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list, err := nodes.ExtractNodes(pages)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestVersionNegotiation(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	root := e.client("admin")
	root.ResourceBase = root.Endpoint // the version list is at the endpoint's root
	vs, err := apiversions.List(ctx, root).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if vs.DefaultVersion.Version != "1.87" || vs.DefaultVersion.MinVersion != "1.1" || len(vs.Versions) != 1 {
		t.Fatalf("versions: %+v", vs)
	}
	for _, c := range []struct {
		version string
		code    int
		used    string
	}{{"", 200, "1.1"}, {"1.40", 200, "1.40"}, {"latest", 200, "1.87"}, {"1.99", 406, "1.1"}, {"2.0", 406, "1.1"}, {"x", 400, "1.1"}} {
		code, body, h := e.doV(t, "admin", c.version, "GET", "/baremetal/v1/nodes", "", nil)
		if code != c.code || h.Get(hdrVersion) != c.used || h.Get(hdrMin) != "1.1" || h.Get(hdrMax) != "1.87" {
			t.Errorf("version %q: %d, headers %v", c.version, code, h)
		}
		if code >= 400 && !strings.Contains(body["error_message"].(string), "faultstring") {
			t.Errorf("version %q: error body %v", c.version, body)
		}
	}
	for _, path := range []string{"/baremetal", "/baremetal/", "/baremetal/v1", "/baremetal/v1/"} {
		if code, _, _ := e.doV(t, "", "", "GET", path, "", nil); code != 200 {
			t.Errorf("GET %s without token: %d", path, code)
		}
	}
	// python-ironicclient lists with a trailing slash
	if code, body, _ := e.doV(t, "admin", "1.78", "GET", "/baremetal/v1/nodes/?maintenance=True", "", nil); code != 200 || body["nodes"] == nil {
		t.Errorf("GET /v1/nodes/?maintenance=True: %d %v", code, body)
	}
	// before 1.11 a new node is available at once, and fields of later versions are hidden
	code, body, _ := e.doV(t, "admin", "1.10", "POST", "/baremetal/v1/nodes", "application/json", map[string]any{"driver": "fake-hardware"})
	if code != 201 || body["provision_state"] != "available" || body["resource_class"] != nil {
		t.Fatalf("create at 1.10: %d %v", code, body)
	}
	// before 1.2, available was NOSTATE (null)
	if code, body, _ := e.doV(t, "admin", "1.1", "GET", "/baremetal/v1/nodes/"+body["uuid"].(string), "", nil); code != 200 || body["provision_state"] != nil {
		t.Fatalf("available at 1.1: %d %v", code, body["provision_state"])
	}
	if code, _, _ := e.doV(t, "admin", "1.10", "POST", "/baremetal/v1/nodes", "application/json", map[string]any{"driver": "fake-hardware", "resource_class": "x"}); code != 406 {
		t.Fatalf("resource_class at 1.10: %d", code)
	}
}

func TestNodeLifecycle(t *testing.T) {
	be := newRecorder()
	e := newTestEnv(t, be)
	ctx := context.Background()
	admin := e.client("admin")
	n, err := nodes.Create(ctx, admin, nodes.CreateOpts{Name: "bm-a", Driver: "fake-hardware", ResourceClass: "baremetal.large",
		Properties: map[string]any{"cpus": 64, "memory_mb": 262144, "local_gb": 1920, "cpu_arch": "x86_64"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if n.ProvisionState != "enroll" || n.Name != "bm-a" || n.ResourceClass != "baremetal.large" || n.DeployInterface != "fake" || len(n.Links) != 2 {
		t.Fatalf("created: %+v", n)
	}
	if _, err := nodes.Create(ctx, admin, nodes.CreateOpts{Name: "bm-a", Driver: "fake-hardware"}).Extract(); servicetest.StatusCode(err) != 409 {
		t.Fatalf("duplicate name: %v", err)
	}
	port, err := ports.Create(ctx, admin, ports.CreateOpts{NodeUUID: n.UUID, Address: "52:54:00:AA:BB:CC"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if port.Address != "52:54:00:aa:bb:cc" || !port.PXEEnabled {
		t.Fatalf("port: %+v", port)
	}
	if _, err := ports.Create(ctx, admin, ports.CreateOpts{NodeUUID: n.UUID, Address: "52:54:00:aa:bb:cc"}).Extract(); servicetest.StatusCode(err) != 409 {
		t.Fatalf("duplicate MAC: %v", err)
	}

	// a deploy from enroll is refused with Ironic's message
	err = nodes.ChangeProvisionState(ctx, admin, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetActive}).ExtractErr()
	if servicetest.StatusCode(err) != 400 || !strings.Contains(err.Error(), "can not be performed on node") || !strings.Contains(err.Error(), "enroll") {
		t.Fatalf("deploy from enroll: %v", err)
	}
	provision(t, admin, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetManage})
	e.waitState(t, n.UUID, StateManageable)
	// resource_class may change while manageable
	got, err := nodes.Update(ctx, admin, "bm-a", nodes.UpdateOpts{
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/resource_class", Value: "baremetal.medium"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/properties/capabilities", Value: "boot_mode:uefi"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/extra/rack", Value: "r1"},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceClass != "baremetal.medium" || got.Properties["capabilities"] != "boot_mode:uefi" || got.Extra["rack"] != "r1" {
		t.Fatalf("patched: %+v", got)
	}
	provision(t, admin, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetProvide})
	if cur, _ := nodes.Get(ctx, admin, n.UUID).Extract(); (cur.ProvisionState != "cleaning" || cur.TargetProvisionState != "available") && cur.ProvisionState != "available" {
		t.Fatalf("after provide: %s -> %s", cur.ProvisionState, cur.TargetProvisionState)
	}
	e.waitState(t, n.UUID, StateAvailable)

	// deploy with a config drive carrying user data (slow enough to see it deploying)
	e.svc.env.Timing.NodeDeploy = 300 * time.Millisecond
	provision(t, admin, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetActive,
		ConfigDrive: nodes.ConfigDrive{UserData: "#cloud-config\nhostname: bm-a\n"}})
	cur, _ := nodes.Get(ctx, admin, n.UUID).Extract()
	if cur.ProvisionState != "deploying" || cur.TargetProvisionState != "active" || cur.InstanceInfo["configdrive"] != "******" {
		t.Fatalf("deploying: %+v", cur)
	}
	if err := nodes.Delete(ctx, admin, n.UUID).ExtractErr(); servicetest.StatusCode(err) != 409 {
		t.Fatalf("delete while deploying: %v", err)
	}
	e.waitState(t, n.UUID, StateActive)
	if ud, _ := be.userData(n.UUID); string(ud) != "#cloud-config\nhostname: bm-a\n" {
		t.Fatalf("backend got user data %q", ud)
	}
	cur, _ = nodes.Get(ctx, admin, n.UUID).Extract()
	if cur.PowerState != "power on" || cur.ProvisionUpdatedAt.IsZero() {
		t.Fatalf("active: %+v", cur)
	}
	if err := nodes.Delete(ctx, admin, n.UUID).ExtractErr(); servicetest.StatusCode(err) != 409 {
		t.Fatalf("delete while active: %v", err)
	}

	// power
	if err := nodes.ChangePowerState(ctx, admin, n.UUID, nodes.PowerStateOpts{Target: nodes.PowerOff}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		v, _ := e.svc.nodes.Get(n.UUID)
		return v.PowerState == PowerOff && v.TargetPowerState == ""
	})
	if err := nodes.ChangePowerState(ctx, admin, n.UUID, nodes.PowerStateOpts{Target: "sideways"}).ExtractErr(); servicetest.StatusCode(err) != 400 {
		t.Fatalf("bad power target: %v", err)
	}

	// maintenance
	if err := nodes.SetMaintenance(ctx, admin, n.UUID, nodes.MaintenanceOpts{Reason: "disk"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if list := allNodes(t, admin, nodes.ListOpts{Maintenance: true}, false); len(list) != 1 {
		t.Fatalf("maintenance filter: %d", len(list))
	}
	if err := nodes.UnsetMaintenance(ctx, admin, n.UUID).ExtractErr(); err != nil {
		t.Fatal(err)
	}

	// undeploy: deleting -> cleaning -> available
	provision(t, admin, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetDeleted})
	e.waitState(t, n.UUID, StateAvailable)
	cur, _ = nodes.Get(ctx, admin, n.UUID).Extract()
	if cur.InstanceInfo["configdrive"] != nil || cur.PowerState != "power off" {
		t.Fatalf("after undeploy: %+v", cur)
	}

	// lists
	if list := allNodes(t, admin, nodes.ListOpts{ProvisionState: nodes.Available, ResourceClass: "baremetal.medium"}, true); len(list) != 1 || list[0].Properties["cpus"] != float64(64) {
		t.Fatalf("detail list: %+v", list)
	}
	if list := allNodes(t, admin, nodes.ListOpts{Fields: []string{"uuid", "provision_state"}}, false); len(list) != 1 || list[0].Name != "" || list[0].ProvisionState != "available" {
		t.Fatalf("fields list: %+v", list)
	}
	pages, err := ports.ListDetail(admin, ports.ListOpts{NodeUUID: n.UUID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pl, _ := ports.ExtractPorts(pages); len(pl) != 1 || pl[0].NodeUUID != n.UUID {
		t.Fatalf("ports of node: %+v", pl)
	}
	if dl, err := gcdrivers.ListDrivers(admin, gcdrivers.ListDriversOpts{}).AllPages(ctx); err != nil {
		t.Fatal(err)
	} else if list, _ := gcdrivers.ExtractDrivers(dl); len(list) != 2 {
		t.Fatalf("drivers: %+v", list)
	}

	// delete takes the ports along
	if err := nodes.Delete(ctx, admin, n.UUID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Get(ctx, admin, n.UUID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := ports.Get(ctx, admin, port.UUID).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("port after node delete: %v", err)
	}
}

func TestPagination(t *testing.T) {
	e := newTestEnv(t, nil)
	if err := e.svc.Seed(DefaultSeed(5)); err != nil {
		t.Fatal(err)
	}
	code, body := e.do(t, "admin", "GET", "/baremetal/v1/nodes?limit=2&sort_key=name", "", nil)
	if code != 200 || len(body["nodes"].([]any)) != 2 || !strings.Contains(body["next"].(string), "/baremetal/v1/nodes?") {
		t.Fatalf("page 1: %d %v", code, body)
	}
	seen := 0
	next := "/baremetal/v1/nodes?limit=2&sort_key=name"
	for next != "" {
		_, body := e.do(t, "admin", "GET", next, "", nil)
		seen += len(body["nodes"].([]any))
		n, _ := body["next"].(string)
		next = strings.TrimPrefix(n, e.URL)
	}
	if seen != 5 {
		t.Fatalf("paged through %d nodes, want 5", seen)
	}
}

func TestClaimRelease(t *testing.T) {
	be := newRecorder()
	e := newTestEnv(t, be)
	if err := e.svc.Seed(DefaultSeed(2)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Seed(nil); err != nil { // idempotent for the same names, adds baremetal-2
		t.Fatal(err)
	}
	if e.svc.nodes.Len() != 3 || e.svc.ports.Len() != 3 {
		t.Fatalf("seeded %d nodes, %d ports", e.svc.nodes.Len(), e.svc.ports.Len())
	}
	if got := CustomResourceClass("baremetal.medium"); got != "CUSTOM_BAREMETAL_MEDIUM" {
		t.Fatalf("CustomResourceClass = %s", got)
	}
	claim := func(inst, rc string) (services.NodeInfo, error) {
		var info services.NodeInfo
		err := e.svc.env.DB.Update(func(tx *store.Tx) error {
			var err error
			info, err = e.svc.Claim(tx, rc, inst, []byte("#!/bin/sh\necho "+inst), map[string]string{"project_id": "demo", "image_source": "img"})
			return err
		})
		return info, err
	}
	insts := []string{"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"}
	var claimed []services.NodeInfo
	for i, inst := range insts {
		rc := "baremetal.medium"
		if i == 1 {
			rc = "CUSTOM_BAREMETAL_MEDIUM"
		}
		info, err := claim(inst, rc)
		if err != nil {
			t.Fatal(err)
		}
		if info.ProvisionState != StateDeploying || info.InstanceUUID != inst {
			t.Fatalf("claimed: %+v", info)
		}
		claimed = append(claimed, info)
	}
	_, err := claim("44444444-4444-4444-4444-444444444444", "baremetal.medium")
	var he *httpapi.Error
	if !errors.As(err, &he) || he.Status != 409 || !strings.Contains(he.Message, "No valid host was found") {
		t.Fatalf("claim with no node left: %v", err)
	}
	again, err := claim(insts[0], "baremetal.medium")
	if err != nil || again.ID != claimed[0].ID {
		t.Fatalf("claim again: %+v %v", again, err)
	}
	n := e.waitState(t, claimed[0].ID, StateActive)
	if n.InstanceInfo["image_source"] != "img" {
		t.Fatalf("instance_info: %v", n.InstanceInfo)
	}
	if ud, _ := be.userData(claimed[0].ID); string(ud) != "#!/bin/sh\necho "+insts[0] {
		t.Fatalf("user data %q", ud)
	}
	if info, ok := e.svc.NodeFor(insts[0]); !ok || info.ProvisionState != StateActive || info.Properties["cpus"] != "32" {
		t.Fatalf("NodeFor: %+v %v", info, ok)
	}
	err = e.svc.env.DB.Update(func(tx *store.Tx) error { return e.svc.Release(tx, insts[0]) })
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(t, claimed[0].ID, StateAvailable)
	if _, ok := e.svc.NodeFor(insts[0]); ok {
		t.Fatal("node still held after release")
	}
	if err := e.svc.env.DB.Update(func(tx *store.Tx) error { return e.svc.Release(tx, insts[0]) }); err != nil {
		t.Fatalf("second release: %v", err)
	}
	// the node is free again
	if _, err := claim("44444444-4444-4444-4444-444444444444", "baremetal.medium"); err != nil {
		t.Fatal(err)
	}
	// a release during the deploy tears down at once
	if err := e.svc.env.DB.Update(func(tx *store.Tx) error { return e.svc.Release(tx, insts[1]) }); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, claimed[1].ID, StateAvailable)
	if rs := e.svc.Resources(); len(rs) != 6 {
		t.Fatalf("resources: %d", len(rs))
	}
}

func TestDeployFailure(t *testing.T) {
	be := newRecorder()
	be.deployErr = services.Permanent(errors.New("image kaas/node:v0 not found"))
	e := newTestEnv(t, be)
	if err := e.svc.Seed(DefaultSeed(1)); err != nil {
		t.Fatal(err)
	}
	admin := e.client("admin")
	id := e.svc.nodes.List(nil)[0].UUID
	provision(t, admin, id, nodes.ProvisionStateOpts{Target: nodes.TargetActive})
	n := e.waitState(t, id, StateDeployFailed)
	if !strings.Contains(n.LastError, "not found") || n.TargetProvisionState != StateActive {
		t.Fatalf("deploy failed: %+v", n)
	}
	provision(t, admin, id, nodes.ProvisionStateOpts{Target: nodes.TargetDeleted})
	e.waitState(t, id, StateAvailable)
	// abort during a deploy
	be.mu.Lock()
	be.deployErr = nil
	be.mu.Unlock()
	e.svc.env.Timing.NodeDeploy = 10 * 1e9
	provision(t, admin, id, nodes.ProvisionStateOpts{Target: nodes.TargetActive})
	provision(t, admin, id, nodes.ProvisionStateOpts{Target: nodes.TargetAbort})
	if n, _ := e.svc.nodes.Get(id); n.ProvisionState != StateDeployFailed || e.svc.env.Tasks.Has("node.deploy", id) {
		t.Fatalf("after abort: %s", n.ProvisionState)
	}
}

func TestIsolation(t *testing.T) {
	e := newTestEnv(t, nil)
	if err := e.svc.Seed(DefaultSeed(2)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, demo, other := e.client("admin"), e.client("demo"), e.client("other")
	if _, err := nodes.Create(ctx, demo, nodes.CreateOpts{Driver: "fake-hardware"}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("member creates a node: %v", err)
	}
	if list := allNodes(t, demo, nodes.ListOpts{}, false); len(list) != 0 {
		t.Fatalf("member sees %d admin nodes", len(list))
	}
	id := e.svc.nodes.List(nil)[0].UUID
	if _, err := nodes.Get(ctx, demo, id).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("member reads an admin node: %v", err)
	}
	// a node owned by demo is visible to demo only
	if _, err := nodes.Update(ctx, admin, id, nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.AddOp, Path: "/owner", Value: "demo"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if got, err := nodes.Get(ctx, demo, id).Extract(); err != nil || got.Owner != "demo" {
		t.Fatalf("owner reads its node: %+v %v", got, err)
	}
	if _, err := nodes.Update(ctx, demo, id, nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/owner", Value: "other"}}).Extract(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("owner gives its node away: %v", err)
	}
	if _, err := nodes.Get(ctx, other, id).Extract(); servicetest.StatusCode(err) != 404 {
		t.Fatalf("other project reads demo's node: %v", err)
	}
	if err := nodes.Delete(ctx, demo, id).ExtractErr(); servicetest.StatusCode(err) != 403 {
		t.Fatalf("owner deletes its node: %v", err)
	}
	if code, _ := e.do(t, "reader", "PUT", "/baremetal/v1/nodes/"+id+"/states/power", "application/json", map[string]any{"target": "power on"}); code != 403 {
		t.Fatalf("reader powers on: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	if err := e.svc.Seed(DefaultSeed(1)); err != nil {
		t.Fatal(err)
	}
	id := e.svc.nodes.List(nil)[0].UUID
	portID := e.svc.ports.List(nil)[0].UUID
	cases := []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/baremetal/v1/nodes", "{bad", 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "nope"}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": 5}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "bogus": 1}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "name": "bad name!"}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "properties": "x"}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "uuid": "nope"}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "uuid": id}, 409},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "boot_interface": "floppy"}, 400},
		{"POST", "/baremetal/v1/nodes", map[string]any{"driver": "ipmi", "provision_state": "active"}, 400},
		{"POST", "/baremetal/v1/nodes", strings.Repeat(" ", 2<<20), 413},
		{"GET", "/baremetal/v1/nodes/nope", nil, 404},
		{"GET", "/baremetal/v1/nodes?maintenance=perhaps", nil, 400},
		{"GET", "/baremetal/v1/nodes?instance_uuid=x", nil, 400},
		{"GET", "/baremetal/v1/nodes?limit=-1", nil, 400},
		{"GET", "/baremetal/v1/nodes?marker=x", nil, 400},
		{"GET", "/baremetal/v1/nodes?sort_key=properties", nil, 400},
		{"GET", "/baremetal/v1/nodes?sort_dir=up", nil, 400},
		{"GET", "/baremetal/v1/nodes?fields=uuid,bogus", nil, 400},
		{"GET", "/baremetal/v1/nodes/detail?fields=uuid", nil, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `{}`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"move","path":"/name"}]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"replace","path":"/provision_state","value":"active"}]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"add","path":"/foo","value":"x"}]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"remove","path":"/driver"}]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"replace","path":"/properties/nope","value":1}]`, 400},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"replace","path":"/resource_class","value":"other"}]`, 409},
		{"PATCH", "/baremetal/v1/nodes/" + id, `[{"op":"replace","path":"/instance_uuid","value":"x"}]`, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "fly"}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "provide"}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "manage", "configdrive": "x"}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "clean"}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "active", "configdrive": map[string]any{"bogus": 1}}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/provision", map[string]any{"target": "active", "extra": 1}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/states/power", map[string]any{"target": "power on", "timeout": 0}, 400},
		{"PUT", "/baremetal/v1/nodes/" + id + "/maintenance", `{"reason": 5}`, 400},
		{"DELETE", "/baremetal/v1/nodes/" + id, nil, 204},
		{"POST", "/baremetal/v1/ports", map[string]any{"address": "52:54:00:00:00:01"}, 400},
		{"POST", "/baremetal/v1/ports", map[string]any{"address": "zz", "node_uuid": id}, 400},
		{"POST", "/baremetal/v1/ports", map[string]any{"address": "52:54:00:00:00:01", "node_uuid": id}, 400},
		{"GET", "/baremetal/v1/ports/" + portID, nil, 404},
		{"GET", "/baremetal/v1/ports/nope", nil, 400},
		{"GET", "/baremetal/v1/drivers/nope", nil, 404},
	}
	for _, c := range cases {
		code, body := e.do(t, "admin", c.method, c.path, "application/json", c.body)
		if code != c.want {
			t.Errorf("%s %s %v: %d %v, want %d", c.method, c.path, c.body, code, body, c.want)
		}
		if code >= 400 {
			if msg, _ := body["error_message"].(string); !strings.Contains(msg, "faultstring") {
				t.Errorf("%s %s: error body %v is not Ironic's", c.method, c.path, body)
			}
		}
	}
}

// TestRestartMidDeploy stops fakecloud while a node deploys and starts it again on the same
// state: the deploy finishes, and the node keeps its instance and user data.
func TestRestartMidDeploy(t *testing.T) {
	dir := t.TempDir()
	e := newTestEnvIn(t, dir, nil)
	if err := e.svc.Seed(DefaultSeed(1)); err != nil {
		t.Fatal(err)
	}
	e.svc.env.Timing.NodeDeploy = 300 * time.Millisecond
	var id string
	err := e.svc.env.DB.Update(func(tx *store.Tx) error {
		info, err := e.svc.Claim(tx, "baremetal.medium", "55555555-5555-5555-5555-555555555555", []byte("#!/bin/sh\n"), nil)
		id = info.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Stop()

	be := newRecorder()
	e2 := newTestEnvIn(t, dir, be)
	n := e2.waitState(t, id, StateActive)
	if n.InstanceUUID != "55555555-5555-5555-5555-555555555555" {
		t.Fatalf("after restart: %+v", n)
	}
	if ud, ok := be.userData(id); !ok || string(ud) != "#!/bin/sh\n" {
		t.Fatalf("deploy after restart ran with %q (%v)", ud, ok)
	}
}
