package compute

import (
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	computeservices "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
)

func TestFlavors(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.61")
	admin := e.client("admin", "2.61")
	pages, err := flavors.ListDetail(demo, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := flavors.ExtractFlavors(pages)
	if len(all) != len(DefaultFlavors()) {
		t.Fatalf("flavors: %d", len(all))
	}
	f, err := flavors.Get(ctx, demo, FlavorID("bm1.medium")).Extract()
	if err != nil || f.ExtraSpecs["resources:CUSTOM_BAREMETAL_MEDIUM"] != "1" || f.VCPUs != 32 {
		t.Fatalf("bm1.medium: %v %+v", err, f)
	}
	if _, err := flavors.Get(ctx, demo, "nope").Extract(); !isStatus(err, 404) {
		t.Fatalf("unknown flavor: %v", err)
	}
	disk := 10
	private := false
	opts := flavors.CreateOpts{Name: "p1.tiny", RAM: 512, VCPUs: 1, Disk: &disk, IsPublic: &private}
	if _, err := flavors.Create(ctx, demo, opts).Extract(); !isStatus(err, 403) {
		t.Fatalf("member create: %v", err)
	}
	pf, err := flavors.Create(ctx, admin, opts).Extract()
	if err != nil || pf.IsPublic {
		t.Fatalf("admin create: %v %+v", err, pf)
	}
	if _, err := flavors.Create(ctx, admin, opts).Extract(); !isStatus(err, 409) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := flavors.Get(ctx, demo, pf.ID).Extract(); !isStatus(err, 404) {
		t.Fatalf("private flavor visible: %v", err)
	}
	if _, err := flavors.AddAccess(ctx, admin, pf.ID, flavors.AddAccessOpts{Tenant: "demo"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.Get(ctx, demo, pf.ID).Extract(); err != nil {
		t.Fatalf("shared flavor: %v", err)
	}
	acc, err := flavors.ListAccesses(admin, pf.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := flavors.ExtractAccesses(acc); len(list) != 1 || list[0].TenantID != "demo" {
		t.Fatalf("access list: %v", list)
	}
	specs, err := flavors.CreateExtraSpecs(ctx, admin, pf.ID, flavors.ExtraSpecsOpts{"hw:cpu_policy": "dedicated"}).Extract()
	if err != nil || specs["hw:cpu_policy"] != "dedicated" {
		t.Fatalf("extra specs: %v %v", err, specs)
	}
	if spec, err := flavors.GetExtraSpec(ctx, demo, pf.ID, "hw:cpu_policy").Extract(); err != nil || spec["hw:cpu_policy"] != "dedicated" {
		t.Fatalf("get spec: %v %v", err, spec)
	}
	if err := flavors.DeleteExtraSpec(ctx, admin, pf.ID, "hw:cpu_policy").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.GetExtraSpec(ctx, demo, pf.ID, "hw:cpu_policy").Extract(); !isStatus(err, 404) {
		t.Fatalf("deleted spec: %v", err)
	}
	for _, body := range []string{
		`{"flavor": {"name": "x", "ram": -1, "vcpus": 1, "disk": 0}}`,
		`{"flavor": {"name": "x", "ram": "lots", "vcpus": 1, "disk": 0}}`,
		`{"flavor": {"name": "x", "vcpus": 1, "disk": 0}}`,
		`{"flavor": {"ram": 1, "vcpus": 1, "disk": 0}}`,
		`{"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": "bad/id"}}`,
	} {
		if code, _, _ := e.do(t, "admin", "", "POST", "/compute/v2.1/flavors", body); code != 400 {
			t.Fatalf("%s: %d", body, code)
		}
	}
	if err := flavors.Delete(ctx, admin, pf.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := flavors.Delete(ctx, admin, pf.ID).ExtractErr(); !isStatus(err, 404) {
		t.Fatalf("delete twice: %v", err)
	}
	// Before 2.47 a server's flavor is a reference; from 2.47 an embedded copy.
	s, err := servers.Create(ctx, e.client("demo", "2.37"), servers.CreateOpts{Name: "f", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	old, _ := servers.Get(ctx, e.client("demo", "2.46"), s.ID).Extract()
	if old.Flavor["id"] != smallFlavor() {
		t.Fatalf("flavor at 2.46: %v", old.Flavor)
	}
}

func TestKeypairs(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.2")
	gen, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "gen"}).Extract()
	if err != nil || gen.PrivateKey == "" || !strings.HasPrefix(gen.PublicKey, "ssh-ed25519 ") || gen.Fingerprint == "" || gen.UserID != "demo" {
		t.Fatalf("generate: %v %+v", err, gen)
	}
	imp, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "imported", PublicKey: gen.PublicKey}).Extract()
	if err != nil || imp.PrivateKey != "" || imp.Fingerprint != gen.Fingerprint {
		t.Fatalf("import: %v %+v", err, imp)
	}
	if _, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "gen"}).Extract(); !isStatus(err, 409) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "bad", PublicKey: "ssh-rsa garbage"}).Extract(); !isStatus(err, 400) {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "bad/name"}).Extract(); !isStatus(err, 400) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := keypairs.Create(ctx, e.client("demo", "2.92"), keypairs.CreateOpts{Name: "nokey"}).Extract(); !isStatus(err, 400) {
		t.Fatalf("generate at 2.92: %v", err)
	}
	pages, err := keypairs.List(demo, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := keypairs.ExtractKeyPairs(pages); len(list) != 2 {
		t.Fatalf("list: %v", list)
	}
	// Key pairs belong to the user: another user of the same project sees none.
	pages, _ = keypairs.List(e.client("demo2", "2.2"), nil).AllPages(ctx)
	if list, _ := keypairs.ExtractKeyPairs(pages); len(list) != 0 {
		t.Fatalf("demo2 sees %d", len(list))
	}
	if _, err := keypairs.Get(ctx, e.client("demo2", "2.2"), "gen", nil).Extract(); !isStatus(err, 404) {
		t.Fatalf("demo2 get: %v", err)
	}
	got, err := keypairs.Get(ctx, demo, "gen", nil).Extract()
	if err != nil || got.Type != "ssh" {
		t.Fatalf("get: %v %+v", err, got)
	}
	// A server gets the key.
	s, err := servers.Create(ctx, e.client("demo", "2.37"), keypairs.CreateOptsExt{CreateOptsBuilder: servers.CreateOpts{Name: "k", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}, KeyName: "gen"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if srv, _ := e.svc.servers.Get(s.ID); srv.PublicKey != gen.PublicKey || srv.KeyName != "gen" {
		t.Fatalf("server key: %+v", srv)
	}
	if err := keypairs.Delete(ctx, demo, "gen", nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := keypairs.Delete(ctx, demo, "gen", nil).ExtractErr(); !isStatus(err, 404) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestServerGroupsOldShape(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.15")
	g, err := servergroups.Create(ctx, demo, servergroups.CreateOpts{Name: "g", Policies: []string{"soft-anti-affinity"}}).Extract()
	if err != nil || len(g.Policies) != 1 || g.Policies[0] != "soft-anti-affinity" {
		t.Fatalf("create: %v %+v", err, g)
	}
	if _, err := servergroups.Create(ctx, e.client("demo", "2.14"), servergroups.CreateOpts{Name: "g", Policies: []string{"soft-affinity"}}).Extract(); !isStatus(err, 400) {
		t.Fatalf("soft policy at 2.14: %v", err)
	}
	if _, err := servergroups.Create(ctx, demo, servergroups.CreateOpts{Name: "g", Policies: []string{"sometimes"}}).Extract(); !isStatus(err, 400) {
		t.Fatalf("bad policy: %v", err)
	}
	pages, _ := servergroups.List(demo, nil).AllPages(ctx)
	if list, _ := servergroups.ExtractServerGroups(pages); len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	pages, _ = servergroups.List(e.client("other", "2.15"), nil).AllPages(ctx)
	if list, _ := servergroups.ExtractServerGroups(pages); len(list) != 0 {
		t.Fatalf("other sees: %v", list)
	}
	pages, _ = servergroups.List(e.client("admin", "2.15"), servergroups.ListOpts{AllProjects: true}).AllPages(ctx)
	if list, _ := servergroups.ExtractServerGroups(pages); len(list) != 1 {
		t.Fatalf("admin all projects: %v", list)
	}
	if _, err := servergroups.Get(ctx, e.client("other", "2.15"), g.ID).Extract(); !isStatus(err, 404) {
		t.Fatalf("other get: %v", err)
	}
	rules := servergroups.Rules{MaxServerPerHost: 2}
	g64, err := servergroups.Create(ctx, e.client("demo", "2.64"), servergroups.CreateOpts{Name: "r", Policy: "anti-affinity", Rules: &rules}).Extract()
	if err != nil || g64.Rules == nil || g64.Rules.MaxServerPerHost != 2 {
		t.Fatalf("rules: %v %+v", err, g64)
	}
	// Quotas on groups and their members.
	two := 2
	if _, err := quotasets.Update(ctx, e.client("admin", ""), "demo", quotasets.UpdateOpts{ServerGroups: &two, ServerGroupMembers: &two}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := servergroups.Create(ctx, demo, servergroups.CreateOpts{Name: "third", Policies: []string{"affinity"}}).Extract(); !isStatus(err, 403) {
		t.Fatalf("third group: %v", err)
	}
	member := servers.CreateOpts{Name: "m", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none"}
	for i := 0; i < 3; i++ {
		_, err := servers.Create(ctx, e.client("demo", "2.37"), member, servers.SchedulerHintOpts{Group: g.ID}).Extract()
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 && (!isStatus(err, 403) || !strings.Contains(err.Error(), "too many servers in group")) {
			t.Fatalf("third member: %v", err)
		}
	}
	if err := servergroups.Delete(ctx, demo, g.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servergroups.Delete(ctx, demo, g.ID).ExtractErr(); !isStatus(err, 404) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestQuotasLimitsZonesHypervisors(t *testing.T) {
	e := newTestEnv(t, envOpt{cfg: Config{AvailabilityZones: []string{"nova", "az2"}, Hypervisors: 2}})
	demo := e.client("demo", "2.60")
	admin := e.client("admin", "2.60")
	q, err := quotasets.Get(ctx, demo, "demo").Extract()
	if err != nil || q.Instances != 10 || q.Cores != 20 || q.ID != "demo" {
		t.Fatalf("get: %v %+v", err, q)
	}
	if _, err := quotasets.Get(ctx, demo, "other").Extract(); !isStatus(err, 403) {
		t.Fatalf("other project quota: %v", err)
	}
	n := 3
	if _, err := quotasets.Update(ctx, demo, "demo", quotasets.UpdateOpts{Instances: &n}).Extract(); !isStatus(err, 403) {
		t.Fatalf("member update: %v", err)
	}
	if q, err := quotasets.Update(ctx, admin, "demo", quotasets.UpdateOpts{Instances: &n}).Extract(); err != nil || q.Instances != 3 {
		t.Fatalf("admin update: %v %+v", err, q)
	}
	if _, err := servers.Create(ctx, demo, servers.CreateOpts{Name: "z", FlavorRef: smallFlavor(), ImageRef: imageID, Networks: "none", AvailabilityZone: "az2"}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	d, err := quotasets.GetDetail(ctx, demo, "demo").Extract()
	if err != nil || d.Instances.InUse != 1 || d.Instances.Limit != 3 || d.Cores.InUse != 1 {
		t.Fatalf("detail: %v %+v", err, d)
	}
	lim, err := limits.Get(ctx, demo, nil).Extract()
	if err != nil || lim.Absolute.MaxTotalInstances != 3 || lim.Absolute.TotalInstancesUsed != 1 || lim.Absolute.TotalRAMUsed != 2048 {
		t.Fatalf("limits: %v %+v", err, lim)
	}
	if err := quotasets.Delete(ctx, admin, "demo").Err; err != nil {
		t.Fatal(err)
	}
	if q, _ := quotasets.Get(ctx, demo, "demo").Extract(); q.Instances != 10 {
		t.Fatalf("after reset: %+v", q)
	}
	if code, _, _ := e.do(t, "admin", "", "PUT", "/compute/v2.1/os-quota-sets/demo", `{"quota_set": {"bananas": 1}}`); code != 400 {
		t.Fatalf("unknown quota: %d", code)
	}
	if code, _, _ := e.do(t, "admin", "", "PUT", "/compute/v2.1/os-quota-sets/demo", `{"quota_set": {"instances": -5}}`); code != 400 {
		t.Fatalf("negative quota: %d", code)
	}

	pages, err := availabilityzones.List(demo).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if zones, _ := availabilityzones.ExtractAvailabilityZones(pages); len(zones) != 2 || zones[1].ZoneName != "az2" {
		t.Fatalf("zones: %+v", zones)
	}
	pages, err = availabilityzones.ListDetail(admin).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zones, _ := availabilityzones.ExtractAvailabilityZones(pages)
	if len(zones) != 3 || len(zones[1].Hosts) != 2 {
		t.Fatalf("zone detail: %+v", zones)
	}
	if _, err := availabilityzones.ListDetail(demo).AllPages(ctx); !isStatus(err, 403) {
		t.Fatalf("member zone detail: %v", err)
	}
	pages, err = hypervisors.List(e.client("admin", "2.53"), nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hvs, err := hypervisors.ExtractHypervisors(pages)
	if err != nil || len(hvs) != 4 {
		t.Fatalf("hypervisors: %v %+v", err, hvs)
	}
	used := 0
	for _, h := range hvs {
		used += h.RunningVMs
	}
	if used != 1 {
		t.Fatalf("running vms: %d", used)
	}
	if _, err := hypervisors.Get(ctx, e.client("admin", "2.53"), hvs[0].ID).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := hypervisors.List(demo, nil).AllPages(ctx); !isStatus(err, 403) {
		t.Fatalf("member hypervisors: %v", err)
	}
	pages, err = computeservices.List(e.client("admin", "2.53"), nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if svcs, err := computeservices.ExtractServices(pages); err != nil || len(svcs) != 6 || svcs[2].Binary != "nova-compute" {
		t.Fatalf("os-services: %v %+v", err, svcs)
	}
	if _, err := computeservices.List(demo, nil).AllPages(ctx); !isStatus(err, 403) {
		t.Fatalf("member os-services: %v", err)
	}
}

// TestKeypairKeptVerbatim: Nova stores an imported public key exactly as given and returns it
// so, a trailing newline included; the fingerprint is the key's, whatever the whitespace.
func TestKeypairKeptVerbatim(t *testing.T) {
	e := newTestEnv(t, envOpt{})
	demo := e.client("demo", "2.2")
	gen, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "gen"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	given := gen.PublicKey + "\n"
	imp, err := keypairs.Create(ctx, demo, keypairs.CreateOpts{Name: "newline", PublicKey: given}).Extract()
	if err != nil || imp.PublicKey != given || imp.Fingerprint != gen.Fingerprint {
		t.Fatalf("import with a newline: %v %q %s", err, imp.PublicKey, imp.Fingerprint)
	}
	got, err := keypairs.Get(ctx, demo, "newline", nil).Extract()
	if err != nil || got.PublicKey != given {
		t.Fatalf("get: %v %q", err, got.PublicKey)
	}
	pages, err := keypairs.List(demo, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := keypairs.ExtractKeyPairs(pages)
	for _, k := range list {
		if k.Name == "newline" && k.PublicKey != given {
			t.Fatalf("list: %q", k.PublicKey)
		}
	}
}
