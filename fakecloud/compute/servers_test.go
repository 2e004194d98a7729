package compute

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

var ctx = context.Background()

func isStatus(err error, code int) bool {
	var e gophercloud.ErrUnexpectedResponseCode
	return errors.As(err, &e) && e.Actual == code
}

func smallFlavor() string { return FlavorID("g1.small") }

func TestVersionDocuments(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	code, body, hdr := e.do(t, "", "", "GET", "/compute/", nil)
	if code != 200 || len(body["versions"].([]any)) != 2 {
		t.Fatalf("root: %d %v", code, body)
	}
	code, body, _ = e.do(t, "", "", "GET", "/compute/v2.1/", nil)
	v := body["version"].(map[string]any)
	if code != 200 || v["version"] != "2.96" || v["min_version"] != "2.1" {
		t.Fatalf("v2.1: %d %v", code, body)
	}
	_ = hdr
	code, _, hdr = e.do(t, "demo", "2.60", "GET", "/compute/v2.1/flavors", nil)
	if code != 200 || hdr.Get("OpenStack-API-Version") != "compute 2.60" || hdr.Get("X-OpenStack-Nova-API-Version") != "2.60" {
		t.Fatalf("version headers: %d %v", code, hdr)
	}
	code, _, hdr = e.do(t, "demo", "latest", "GET", "/compute/v2.1/flavors", nil)
	if code != 200 || hdr.Get("X-OpenStack-Nova-API-Version") != "2.96" {
		t.Fatalf("latest: %d %v", code, hdr)
	}
	if code, body, _ = e.do(t, "demo", "2.200", "GET", "/compute/v2.1/flavors", nil); code != 406 || body["computeFault"] == nil {
		t.Fatalf("2.200: %d %v", code, body)
	}
	if code, _, _ = e.do(t, "demo", "two", "GET", "/compute/v2.1/flavors", nil); code != 400 {
		t.Fatalf("bad version: %d", code)
	}
	if code, _, _ = e.do(t, "", "", "GET", "/compute/v2.1/flavors", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
}

func TestServerLifecycle(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.60")
	ud := "#cloud-config\nhostname: x\n"
	s, err := servers.Create(ctx, demo, servers.CreateOpts{
		Name: "web-1", FlavorRef: smallFlavor(), ImageRef: imageID,
		Networks: []servers.Network{{UUID: netID}, {Port: portID}}, UserData: []byte(ud),
		Metadata: map[string]string{"role": "web"}, Tags: []string{"b", "a"}, SecurityGroups: []string{"web"},
	}, servers.SchedulerHintOpts{}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.AdminPass == "" {
		t.Fatal("no adminPass")
	}
	got, err := servers.Get(ctx, demo, s.ID).Extract()
	if err != nil || (got.Status != "BUILD" || got.TaskState != "scheduling") && got.Status != "ACTIVE" {
		t.Fatalf("get during build: %v %+v", err, got)
	}
	e.waitStatus(t, s.ID, StatusActive)
	got, err = servers.Get(ctx, demo, s.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "ACTIVE" || got.PowerState != servers.RUNNING || got.VmState != "active" || got.LaunchedAt.IsZero() {
		t.Fatalf("active server: %+v", got)
	}
	if got.Flavor["original_name"] != "g1.small" || got.Flavor["vcpus"] != float64(1) {
		t.Fatalf("flavor at 2.60: %v", got.Flavor)
	}
	addrs := got.Addresses["private"].([]any)
	if len(addrs) != 2 || got.Metadata["role"] != "web" || *got.Tags != nil && strings.Join(*got.Tags, ",") != "a,b" {
		t.Fatalf("addresses/metadata/tags: %v %v %v", got.Addresses, got.Metadata, got.Tags)
	}
	if got.Host != "" {
		t.Fatalf("a member sees the host: %q", got.Host)
	}
	if req := e.ports.requests[0]; req.DeviceOwner != "compute:nova" || req.DeviceID != s.ID || len(req.SecurityGroups) != 1 {
		t.Fatalf("port request: %+v", req)
	}
	stored, _ := e.svc.servers.Get(s.ID)
	if data, _ := base64.StdEncoding.DecodeString(stored.UserData); string(data) != ud {
		t.Fatalf("user data: %q", data)
	}

	admin := e.client("admin", "2.60")
	ag, err := servers.Get(ctx, admin, s.ID).Extract()
	if err != nil || !strings.HasPrefix(ag.Host, "compute-") || ag.HypervisorHostname != ag.Host {
		t.Fatalf("admin view: %v %+v", err, ag)
	}

	// Another project does not see it.
	other := e.client("other", "2.60")
	if _, err := servers.Get(ctx, other, s.ID).Extract(); !isStatus(err, 404) {
		t.Fatalf("other project get: %v", err)
	}
	if err := servers.Delete(ctx, other, s.ID).ExtractErr(); !isStatus(err, 404) {
		t.Fatalf("other project delete: %v", err)
	}
	// The reader cannot write.
	if err := servers.Delete(ctx, e.client("reader", ""), s.ID).ExtractErr(); !isStatus(err, 403) {
		t.Fatalf("reader delete: %v", err)
	}

	// Interfaces and addresses.
	ifPages, err := attachinterfaces.List(demo, s.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ifs, _ := attachinterfaces.ExtractInterfaces(ifPages); len(ifs) != 2 || ifs[1].PortID != portID {
		t.Fatalf("interfaces: %+v", ifs)
	}
	ipPages, err := servers.ListAddresses(demo, s.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ips, _ := servers.ExtractAddresses(ipPages); len(ips["private"]) != 2 {
		t.Fatalf("ips: %+v", ips)
	}

	// Update.
	up, err := servers.Update(ctx, demo, s.ID, servers.UpdateOpts{Name: "web-renamed"}).Extract()
	if err != nil || up.Name != "web-renamed" {
		t.Fatalf("update: %v %+v", err, up)
	}

	// Delete: ports detached, the row gone.
	if err := servers.Delete(ctx, demo, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, s.ID, "")
	if e.ports.attached(s.ID) != 0 {
		t.Fatal("ports still attached after delete")
	}
	if _, ok := e.ports.Port(portID); !ok {
		t.Fatal("the user's port was deleted")
	}
	if _, err := servers.Get(ctx, demo, s.ID).Extract(); !isStatus(err, 404) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestListFilters(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.60")
	for _, n := range []string{"alpha-1", "alpha-2", "beta-1"} {
		if _, err := servers.Create(ctx, demo, servers.CreateOpts{Name: n, FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := servers.Create(ctx, e.client("other", "2.60"), servers.CreateOpts{Name: "alpha-other", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	list := func(c *gophercloud.ServiceClient, opts servers.ListOpts) []servers.Server {
		t.Helper()
		pages, err := servers.List(c, opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out, err := servers.ExtractServers(pages)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(demo, servers.ListOpts{}); len(got) != 3 {
		t.Fatalf("demo sees %d servers", len(got))
	}
	if got := list(demo, servers.ListOpts{Name: "alpha"}); len(got) != 2 {
		t.Fatalf("name=alpha: %d", len(got))
	}
	if got := list(demo, servers.ListOpts{Name: "^beta-[0-9]$"}); len(got) != 1 {
		t.Fatalf("name regex: %d", len(got))
	}
	exact := list(demo, servers.ListOpts{Name: "^alpha-1$"})
	if len(exact) != 1 {
		t.Fatalf("exact name: %d", len(exact))
	}
	if got := list(e.client("other", ""), servers.ListOpts{Name: "^alpha-1$"}); len(got) != 0 {
		t.Fatalf("exact name in another project: %d", len(got))
	}
	if _, err := servers.Update(ctx, demo, exact[0].ID, servers.UpdateOpts{Name: "gamma"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if got := list(demo, servers.ListOpts{Name: "^alpha-1$"}); len(got) != 0 {
		t.Fatalf("old name after rename: %d", len(got))
	}
	if got := list(demo, servers.ListOpts{Name: "^gamma$"}); len(got) != 1 {
		t.Fatalf("new name after rename: %d", len(got))
	}
	for _, srv := range list(demo, servers.ListOpts{}) {
		e.waitStatus(t, srv.ID, StatusActive)
	}
	if got := list(demo, servers.ListOpts{Status: "ACTIVE"}); len(got) != 3 {
		t.Fatalf("status ACTIVE: %d", len(got))
	}
	if got := list(demo, servers.ListOpts{Status: "SHUTOFF"}); len(got) != 0 {
		t.Fatalf("status SHUTOFF: %d", len(got))
	}
	if got := list(demo, servers.ListOpts{Flavor: smallFlavor(), Image: imageID}); len(got) != 3 {
		t.Fatalf("flavor+image: %d", len(got))
	}
	if got := list(demo, servers.ListOpts{ChangesSince: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}); len(got) != 0 {
		t.Fatalf("changes-since future: %d", len(got))
	}
	// Pagination through links.
	if got := list(demo, servers.ListOpts{Limit: 1}); len(got) != 3 {
		t.Fatalf("paged: %d", len(got))
	}
	if got := list(e.client("admin", "2.60"), servers.ListOpts{AllTenants: true}); len(got) != 4 {
		t.Fatalf("admin all_tenants: %d", len(got))
	}
	if got := list(e.client("admin", "2.60"), servers.ListOpts{AllTenants: true, TenantID: "other"}); len(got) != 1 {
		t.Fatalf("admin tenant_id: %d", len(got))
	}
	if err := servers.List(demo, servers.ListOpts{AllTenants: true}).EachPage(ctx, func(context.Context, pagination.Page) (bool, error) { return true, nil }); !isStatus(err, 403) {
		t.Fatalf("member all_tenants: %v", err)
	}
	for _, q := range []string{"limit=-1", "limit=x", "marker=nope", "changes-since=yesterday", "name=(", "all_tenants=maybe"} {
		if code, _, _ := e.do(t, "demo", "", "GET", "/compute/v2.1/servers/detail?"+q, nil); code != 400 {
			t.Fatalf("%s: %d", q, code)
		}
	}
	code, body, _ := e.do(t, "demo", "", "GET", "/compute/v2.1/servers", nil)
	first := body["servers"].([]any)[0].(map[string]any)
	if code != 200 || first["status"] != nil || first["links"] == nil {
		t.Fatalf("summary list: %v", first)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	base := func() map[string]any {
		return map[string]any{"name": "x", "flavorRef": smallFlavor(), "imageRef": imageID}
	}
	cases := []struct {
		name   string
		mv     string
		change func(m map[string]any)
		raw    string
		code   int
	}{
		{name: "malformed", raw: `{"server": {`, code: 400},
		{name: "not an object", raw: `[]`, code: 400},
		{name: "no server", raw: `{}`, code: 400},
		{name: "name wrong type", raw: `{"server": {"name": 5}}`, code: 400},
		{name: "no name", change: func(m map[string]any) { delete(m, "name") }, code: 400},
		{name: "blank name", change: func(m map[string]any) { m["name"] = "  " }, code: 400},
		{name: "no flavor", change: func(m map[string]any) { delete(m, "flavorRef") }, code: 400},
		{name: "unknown flavor", change: func(m map[string]any) { m["flavorRef"] = "nope" }, code: 400},
		{name: "flavor bad type", change: func(m map[string]any) { m["flavorRef"] = []int{1} }, code: 400},
		{name: "image not uuid", change: func(m map[string]any) { m["imageRef"] = "ubuntu" }, code: 400},
		{name: "unknown image", change: func(m map[string]any) { m["imageRef"] = "99999999-2222-4222-8222-222222222222" }, code: 400},
		{name: "queued image", change: func(m map[string]any) { m["imageRef"] = queuedImage }, code: 400},
		{name: "no image", change: func(m map[string]any) { delete(m, "imageRef") }, code: 400},
		{name: "user_data not base64", change: func(m map[string]any) { m["user_data"] = "not base64!!" }, code: 400},
		{name: "user_data too long", change: func(m map[string]any) { m["user_data"] = strings.Repeat("A", 65536) }, code: 400},
		{name: "unknown key", change: func(m map[string]any) { m["key_name"] = "nope" }, code: 400},
		{name: "unknown az", change: func(m map[string]any) { m["availability_zone"] = "mars" }, code: 400},
		{name: "networks required", mv: "2.37", change: func(m map[string]any) { delete(m, "networks") }, code: 400},
		{name: "networks bad string", mv: "2.37", change: func(m map[string]any) { m["networks"] = "some" }, code: 400},
		{name: "networks auto old", change: func(m map[string]any) { m["networks"] = "auto" }, code: 400},
		{name: "network not uuid", change: func(m map[string]any) { m["networks"] = []map[string]string{{"uuid": "x"}} }, code: 400},
		{name: "network missing", change: func(m map[string]any) { m["networks"] = []map[string]string{{"fixed_ip": "10.0.0.5"}} }, code: 400},
		{name: "unknown network", change: func(m map[string]any) {
			m["networks"] = []map[string]string{{"uuid": "55555555-1111-4111-8111-111111111111"}}
		}, code: 400},
		{name: "bad fixed ip", change: func(m map[string]any) { m["networks"] = []map[string]string{{"uuid": netID, "fixed_ip": "300.1.1.1"}} }, code: 400},
		{name: "metadata bad key", change: func(m map[string]any) { m["metadata"] = map[string]string{"a/b": "c"} }, code: 400},
		{name: "metadata not string", change: func(m map[string]any) { m["metadata"] = map[string]int{"a": 1} }, code: 400},
		{name: "tags before 2.52", change: func(m map[string]any) { m["tags"] = []string{"a"} }, code: 400},
		{name: "bad tag", mv: "2.52", change: func(m map[string]any) { m["tags"] = []string{"a,b"} }, code: 400},
		{name: "group not uuid", raw: `{"server": {"name": "x", "flavorRef": "` + smallFlavor() + `", "imageRef": "` + imageID + `"}, "os:scheduler_hints": {"group": "x"}}`, code: 400},
		{name: "unknown group", raw: `{"server": {"name": "x", "flavorRef": "` + smallFlavor() + `", "imageRef": "` + imageID + `"}, "os:scheduler_hints": {"group": "66666666-1111-4111-8111-111111111111"}}`, code: 400},
		{name: "min > max", change: func(m map[string]any) { m["min_count"] = 3; m["max_count"] = 2 }, code: 400},
		{name: "min_count zero", change: func(m map[string]any) { m["min_count"] = 0 }, code: 400},
		{name: "ok", change: func(m map[string]any) {}, code: 202},
		{name: "ok with url refs", change: func(m map[string]any) {
			m["flavorRef"] = "http://x/compute/flavors/" + smallFlavor()
			m["imageRef"] = "http://x/images/" + imageID
		}, code: 202},
		{name: "ok with auto", mv: "2.37", change: func(m map[string]any) { m["networks"] = "auto" }, code: 202},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any = tc.raw
			if tc.raw == "" {
				m := base()
				tc.change(m)
				body = map[string]any{"server": m}
			}
			code, resp, _ := e.do(t, "demo", tc.mv, "POST", "/compute/v2.1/servers", body)
			if code != tc.code {
				t.Fatalf("want %d, got %d: %v", tc.code, code, resp)
			}
			if code == 400 && resp["badRequest"] == nil {
				t.Fatalf("error body: %v", resp)
			}
		})
	}
	big := `{"server": {"name": "` + strings.Repeat("x", 2<<20) + `"}}`
	if code, _, _ := e.do(t, "demo", "", "POST", "/compute/v2.1/servers", big); code != 413 {
		t.Fatalf("huge body: %d", code)
	}
}

func TestQuotaExceeded(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	if code, body, _ := e.do(t, "admin", "", "PUT", "/compute/v2.1/os-quota-sets/demo", map[string]any{"quota_set": map[string]any{"instances": 2}}); code != 200 {
		t.Fatalf("quota update: %d %v", code, body)
	}
	demo := e.client("demo", "2.60")
	opts := servers.CreateOpts{Name: "q", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}
	for i := 0; i < 2; i++ {
		if _, err := servers.Create(ctx, demo, opts, nil).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := servers.Create(ctx, demo, opts, nil).Extract()
	if !isStatus(err, 403) || !strings.Contains(err.Error(), "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances") {
		t.Fatalf("third server: %v", err)
	}
	// Cores: g1.large has 4 vCPUs; the default core quota of other is 20.
	other := e.client("other", "2.60")
	large := servers.CreateOpts{Name: "big", FlavorRef: FlavorID("g1.xlarge"), ImageRef: imageID, Networks: "none", Min: 3, Max: 3}
	if _, err := servers.Create(ctx, other, large, nil).Extract(); !isStatus(err, 403) || !strings.Contains(err.Error(), "cores") {
		t.Fatalf("cores quota: %v", err)
	}
	// Multi-create within quota.
	large.Min, large.Max = 1, 2
	if _, err := servers.Create(ctx, other, large, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	if n := e.svc.usageFor("other").Instances; n != 2 {
		t.Fatalf("other uses %d instances", n)
	}
}

func TestServerGroupAntiAffinity(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.64")
	g, err := servergroups.Create(ctx, demo, servergroups.CreateOpts{Name: "workers", Policy: "anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 4; i++ {
		s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "w", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, servers.SchedulerHintOpts{Group: g.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	hosts := map[string]bool{}
	for _, id := range ids[:3] {
		srv := e.waitStatus(t, id, StatusActive)
		hosts[srv.Host] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("anti-affinity hosts: %v", hosts)
	}
	e.waitStatus(t, ids[3], StatusError)
	got, err := servers.Get(ctx, demo, ids[3]).Extract()
	if err != nil || got.Fault.Code != 500 || !strings.Contains(got.Fault.Message, "No valid host was found") {
		t.Fatalf("fault: %v %+v", err, got.Fault)
	}
	gg, err := servergroups.Get(ctx, demo, g.ID).Extract()
	if err != nil || len(gg.Members) != 4 || gg.Policy == nil || *gg.Policy != "anti-affinity" {
		t.Fatalf("group: %v %+v", err, gg)
	}
	// Deleting a member frees its host and its membership.
	if err := servers.Delete(ctx, demo, ids[0]).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, ids[0], "")
	gg, _ = servergroups.Get(ctx, demo, g.ID).Extract()
	if len(gg.Members) != 3 {
		t.Fatalf("members after delete: %v", gg.Members)
	}
	s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "w", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, servers.SchedulerHintOpts{Group: g.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, s.ID, StatusActive)

	// Affinity keeps every member on one host.
	ag, err := servergroups.Create(ctx, demo, servergroups.CreateOpts{Name: "together", Policy: "affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	hosts = map[string]bool{}
	for i := 0; i < 3; i++ {
		s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "a", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, servers.SchedulerHintOpts{Group: ag.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		hosts[e.waitStatus(t, s.ID, StatusActive).Host] = true
	}
	if len(hosts) != 1 {
		t.Fatalf("affinity hosts: %v", hosts)
	}
}

func TestBareMetalServer(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.60")
	opts := servers.CreateOpts{Name: "metal", FlavorRef: FlavorID("bm1.medium"), ImageRef: imageID, Networks: "none", UserData: []byte("hello")}
	s, err := servers.Create(ctx, demo, opts, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	srv := e.waitStatus(t, s.ID, StatusActive)
	if srv.HypervisorHostname != "aaaaaaaa-0000-4000-8000-000000000001" {
		t.Fatalf("node: %q", srv.HypervisorHostname)
	}
	// The only node is taken: the next server has no valid host.
	s2, err := servers.Create(ctx, demo, opts, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if srv := e.waitStatus(t, s2.ID, StatusError); !strings.Contains(srv.Fault.Message, "No valid host") {
		t.Fatalf("fault: %+v", srv.Fault)
	}
	// Deleting releases the node.
	if err := servers.Delete(ctx, demo, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, s.ID, "")
	if _, ok := e.metal.NodeFor(s.ID); ok {
		t.Fatal("node still held")
	}
}

func TestBackendFailureAndActions(t *testing.T) {
	e := newTestEnv(t, envOpt{backend: failingBackend{}})
	demo := e.client("demo", "2.60")
	s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "f", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	srv := e.waitStatus(t, s.ID, StatusError)
	if !strings.Contains(srv.Fault.Message, "image cannot boot") {
		t.Fatalf("fault: %+v", srv.Fault)
	}

	slow := services.Timing{ServerBuild: 200 * time.Millisecond, ServerDelete: 5 * time.Millisecond}
	e2 := newTestEnv(t, envOpt{timing: &slow})
	demo = e2.client("demo", "2.60")
	s, err = servers.Create(ctx, demo, servers.CreateOpts{Name: "p", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := servers.Stop(ctx, demo, s.ID).ExtractErr(); !isStatus(err, 409) {
		t.Fatalf("stop while building: %v", err)
	}
	e2.waitStatus(t, s.ID, StatusActive)
	if err := servers.Start(ctx, demo, s.ID).ExtractErr(); !isStatus(err, 409) {
		t.Fatalf("start while active: %v", err)
	}
	if err := servers.Stop(ctx, demo, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got := e2.waitStatus(t, s.ID, StatusShutoff); got.PowerState != PowerShutdown {
		t.Fatalf("power: %d", got.PowerState)
	}
	if err := servers.Start(ctx, demo, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, s.ID, StatusActive)
	if err := servers.Reboot(ctx, demo, s.ID, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got, _ := servers.Get(ctx, demo, s.ID).Extract(); got.Status != "HARD_REBOOT" {
		t.Fatalf("rebooting: %s", got.Status)
	}
	e2.waitStatus(t, s.ID, StatusActive)
	actPages, err := instanceactions.List(demo, s.ID, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := instanceactions.ExtractInstanceActions(actPages)
	if err != nil || len(acts) != 4 || acts[0].Action != "reboot" || acts[3].Action != "create" || acts[0].RequestID == "" {
		t.Fatalf("instance actions: %v %+v", err, acts)
	}
	one, err := instanceactions.Get(ctx, demo, s.ID, acts[3].RequestID).Extract()
	if err != nil || one.Action != "create" || one.Events == nil || len(*one.Events) != 1 {
		t.Fatalf("instance action: %v %+v", err, one)
	}
	for _, body := range []string{`{"reboot": {"type": "KIND"}}`, `{"explode": null}`, `{}`, `{"a": 1, "b": 2}`} {
		if code, _, _ := e2.do(t, "demo", "", "POST", "/compute/v2.1/servers/"+s.ID+"/action", body); code != 400 {
			t.Fatalf("%s: %d", body, code)
		}
	}
	if code, _, _ := e2.do(t, "other", "", "POST", "/compute/v2.1/servers/"+s.ID+"/action", `{"os-stop": null}`); code != 404 {
		t.Fatalf("other project stop: %d", code)
	}
}

func TestServerMetadataEndpoints(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.60")
	s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "m", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none", Metadata: map[string]string{"a": "1"}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	md, err := servers.UpdateMetadata(ctx, demo, s.ID, servers.MetadataOpts{"b": "2"}).Extract()
	if err != nil || md["a"] != "1" || md["b"] != "2" {
		t.Fatalf("update: %v %v", err, md)
	}
	md, err = servers.ResetMetadata(ctx, demo, s.ID, servers.MetadataOpts{"c": "3"}).Extract()
	if err != nil || len(md) != 1 || md["c"] != "3" {
		t.Fatalf("reset: %v %v", err, md)
	}
	if _, err := servers.CreateMetadatum(ctx, demo, s.ID, servers.MetadatumOpts{"d": "4"}).Extract(); err != nil {
		t.Fatal(err)
	}
	one, err := servers.Metadatum(ctx, demo, s.ID, "d").Extract()
	if err != nil || one["d"] != "4" {
		t.Fatalf("get one: %v %v", err, one)
	}
	if err := servers.DeleteMetadatum(ctx, demo, s.ID, "d").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := servers.Metadatum(ctx, demo, s.ID, "d").Extract(); !isStatus(err, 404) {
		t.Fatalf("deleted key: %v", err)
	}
	if md, err := servers.Metadata(ctx, demo, s.ID).Extract(); err != nil || len(md) != 1 {
		t.Fatalf("all: %v %v", err, md)
	}
	if code, _, _ := e.do(t, "demo", "", "PUT", "/compute/v2.1/servers/"+s.ID+"/metadata/x", map[string]any{"meta": map[string]string{"y": "1"}}); code != 400 {
		t.Fatalf("mismatch: %d", code)
	}
	many := map[string]string{}
	for i := 0; i < 129; i++ {
		many["k"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	if code, _, _ := e.do(t, "demo", "", "PUT", "/compute/v2.1/servers/"+s.ID+"/metadata", map[string]any{"metadata": many}); code != 403 {
		t.Fatalf("too many items: %d", code)
	}
	if code, _, _ := e.do(t, "other", "", "GET", "/compute/v2.1/servers/"+s.ID+"/metadata", nil); code != 404 {
		t.Fatalf("other project: %d", code)
	}
	// Tags at 2.26.
	if code, body, _ := e.do(t, "demo", "2.26", "PUT", "/compute/v2.1/servers/"+s.ID+"/tags/k8s", nil); code != 201 {
		t.Fatalf("add tag: %d %v", code, body)
	}
	if code, body, _ := e.do(t, "demo", "2.26", "GET", "/compute/v2.1/servers/"+s.ID+"/tags", nil); code != 200 || len(body["tags"].([]any)) != 1 {
		t.Fatalf("tags: %d %v", code, body)
	}
	if code, _, _ := e.do(t, "demo", "2.26", "GET", "/compute/v2.1/servers/detail?tags=k8s", nil); code != 200 {
		t.Fatalf("tags filter: %d", code)
	}
	if code, _, _ := e.do(t, "demo", "2.25", "GET", "/compute/v2.1/servers/"+s.ID+"/tags", nil); code != 404 {
		t.Fatalf("tags before 2.26: %d", code)
	}
}

func TestRestartFinishesBuild(t *testing.T) {
	dir := t.TempDir()
	slow := services.Timing{ServerBuild: 300 * time.Millisecond, ServerDelete: 5 * time.Millisecond}
	e := newTestEnv(t, envOpt{dir: dir, timing: &slow})
	s, err := servers.Create(ctx, e.client("demo", "2.37"), servers.CreateOpts{Name: "r", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// Stop the first instance before its build task runs.
	e.Stop()
	fast := services.Timing{ServerBuild: 10 * time.Millisecond, ServerDelete: 5 * time.Millisecond}
	e2 := newTestEnv(t, envOpt{dir: dir, timing: &fast})
	if e2.svc.usageFor("demo").Instances != 1 {
		t.Fatal("usage not rebuilt from the stored servers")
	}
	e2.waitStatus(t, s.ID, StatusActive)
	_ = http.StatusOK
}

// fixedQuotas is a fault-injected quota: every project may have limit instances.
type fixedQuotas struct{ limit int }

func (q fixedQuotas) Limit(project, resource string) (int, bool) {
	return q.limit, resource == "instances"
}

func TestInjectedQuota(t *testing.T) {
	e := newTestEnv(t, envOpt{quotas: fixedQuotas{limit: 1}})
	demo := e.client("demo", "2.37")
	opts := servers.CreateOpts{Name: "q", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}
	if _, err := servers.Create(ctx, demo, opts, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := servers.Create(ctx, demo, opts, nil).Extract(); !isStatus(err, 403) {
		t.Fatalf("over the injected quota: %v", err)
	}
	q, err := quotasets.Get(ctx, demo, "demo").Extract()
	if err != nil || q.Instances != 1 {
		t.Fatalf("quota set shows %+v, %v", q, err)
	}
}

// slowBackend blocks CreateServer until release is closed and records the calls.
type slowBackend struct {
	MemoryBackend
	release chan struct{}
	mu      sync.Mutex
	calls   []string
}

func (b *slowBackend) record(s string) {
	b.mu.Lock()
	b.calls = append(b.calls, s)
	b.mu.Unlock()
}

func (b *slowBackend) CreateServer(ctx context.Context, spec ServerSpec) error {
	<-b.release
	b.record("create")
	return nil
}

func (b *slowBackend) DeleteServer(ctx context.Context, id string) error {
	b.record("delete")
	return nil
}

func TestDeleteDuringBuild(t *testing.T) {
	be := &slowBackend{release: make(chan struct{})}
	e := newTestEnv(t, envOpt{backend: be})
	demo := e.client("demo", "2.37")
	s, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "d", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // the build is now blocked in the backend
	if err := servers.Delete(ctx, demo, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, s.ID, "")
	close(be.release)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		be.mu.Lock()
		calls := strings.Join(be.calls, ",")
		be.mu.Unlock()
		if strings.HasSuffix(calls, "create,delete") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the server built after its deletion was not removed: %v", be.calls)
}

// serverBody is a server create request as a map, to send user data exactly as a client wrote
// it (gophercloud encodes []byte itself, on one line).
type serverBody map[string]any

func (b serverBody) ToServerCreateMap() (map[string]any, error) {
	return map[string]any{"server": map[string]any(b)}, nil
}

// TestUserDataKeptVerbatim: user data sent as base64 wrapped over lines (as the base64 tool
// writes it) is accepted, shown back exactly as sent, and reaches the backend decoded.
func TestUserDataKeptVerbatim(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.60")
	text := strings.Repeat("#cloud-config\nruncmd: [echo hello]\n", 4)
	enc := base64.StdEncoding.EncodeToString([]byte(text))
	wrapped := enc[:76] + "\n" + enc[76:] + "\n"
	s, err := servers.Create(ctx, demo, serverBody{"name": "ud", "flavorRef": smallFlavor(), "imageRef": imageID,
		"networks": "none", "user_data": wrapped}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		UserData string `json:"OS-EXT-SRV-ATTR:user_data"`
	}
	if err := servers.Get(ctx, e.client("admin", "2.60"), s.ID).ExtractInto(&v); err != nil {
		t.Fatal(err)
	}
	if v.UserData != wrapped {
		t.Fatalf("user_data shown as %q, sent %q", v.UserData, wrapped)
	}
	stored, _ := e.svc.servers.Get(s.ID)
	if got := e.svc.spec(&stored).UserData; string(got) != text {
		t.Fatalf("the backend gets %q", got)
	}
}
