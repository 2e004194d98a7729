package identity_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
)

func TestPasswordAuthCatalogAndProjects(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	admin := h.Client(t, cloudtest.Admin, "identity")
	demo := h.Client(t, cloudtest.Demo, "identity")

	all, err := projects.List(admin, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := projects.ExtractProjects(all)
	if len(ps) != 2 {
		t.Fatalf("admin sees %d projects, want 2 (admin, demo)", len(ps))
	}
	mine, err := projects.List(demo, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ = projects.ExtractProjects(mine)
	if len(ps) != 1 || ps[0].Name != "demo" {
		t.Fatalf("demo sees %+v, want only its own project", ps)
	}

	// The catalog points every service back at this listener.
	p := h.Provider(t, cloudtest.Demo)
	for _, typ := range []string{"compute", "network", "load-balancer", "image", "baremetal"} {
		url, err := p.EndpointLocator(gophercloud.EndpointOpts{Type: typ, Region: "RegionOne", Availability: gophercloud.AvailabilityPublic})
		if err != nil || !strings.HasPrefix(url, h.URL+"/") {
			t.Errorf("endpoint for %s = %q, %v", typ, url, err)
		}
	}

	// A member cannot create projects; a reader cannot write at all.
	if _, err := projects.Create(ctx, demo, projects.CreateOpts{Name: "nope"}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("member creating a project: %v, want 403", err)
	}
	reader := h.Client(t, cloudtest.DemoReader, "identity")
	if _, err := projects.Create(ctx, reader, projects.CreateOpts{Name: "nope"}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("reader creating a project: %v, want 403", err)
	}
	if _, err := projects.Create(ctx, admin, projects.CreateOpts{Name: "team-a"}).Extract(); err != nil {
		t.Errorf("admin creating a project: %v", err)
	}
	if _, err := projects.Create(ctx, admin, projects.CreateOpts{Name: "team-a"}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("duplicate project: %v, want 409", err)
	}
}

// TestEntitiesLinkToThemselves: projects, users, domains and roles carry Keystone's
// links.self, their own URL (the openstack CLI's project, user and domain show need it).
func TestEntitiesLinkToThemselves(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	admin := h.Client(t, cloudtest.Admin, "identity")
	base := h.AuthURL + "/"
	self := func(what string, links map[string]any, want string) {
		t.Helper()
		if links["self"] != base+want {
			t.Errorf("%s: links %v, want self %s", what, links, base+want)
		}
	}
	type linked struct {
		ID    string         `json:"id"`
		Links map[string]any `json:"links"`
	}

	created, err := projects.Create(ctx, admin, projects.CreateOpts{Name: "team-a"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Project linked `json:"project"`
	}
	if err := projects.Get(ctx, admin, created.ID).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	self("project get", p.Project.Links, "projects/"+created.ID)
	all, err := projects.List(admin, projects.ListOpts{Name: "demo"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ps struct {
		Projects []linked `json:"projects"`
	}
	if err := all.(projects.ProjectPage).ExtractInto(&ps); err != nil || len(ps.Projects) != 1 {
		t.Fatalf("project list: %v %+v", err, ps)
	}
	self("project list", ps.Projects[0].Links, "projects/"+ps.Projects[0].ID)

	allUsers, err := users.List(admin, users.ListOpts{Name: "demo"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	us, _ := users.ExtractUsers(allUsers)
	if len(us) != 1 {
		t.Fatalf("users named demo: %+v", us)
	}
	self("user list", us[0].Links, "users/"+us[0].ID)
	u, err := users.Get(ctx, admin, us[0].ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	self("user get", u.Links, "users/"+u.ID)

	d, err := domains.Get(ctx, admin, "default").Extract()
	if err != nil {
		t.Fatal(err)
	}
	self("domain get", d.Links, "domains/default")
	allRoles, err := roles.List(admin, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := roles.ExtractRoles(allRoles)
	if len(rs) == 0 {
		t.Fatal("no roles")
	}
	for _, r := range rs {
		self("role "+r.Name, r.Links, "roles/"+r.ID)
	}
}

func TestWrongPasswordIs401(t *testing.T) {
	h := cloudtest.Start(t)
	_, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: h.AuthURL, Username: "demo", Password: "wrong", DomainName: "Default", TenantName: "demo"})
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("wrong password: %v, want 401", err)
	}
	_, err = openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: h.AuthURL, Username: "demo", Password: "demo-secret", DomainName: "Default", TenantName: "admin"})
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("scoping to a project without a role: %v, want 401", err)
	}
}

func TestApplicationCredentials(t *testing.T) {
	h := cloudtest.Start(t)
	ctx := context.Background()
	demo := h.Client(t, cloudtest.Demo, "identity")
	user, err := tokens.Get(ctx, demo, demo.Token()).ExtractUser()
	if err != nil {
		t.Fatal(err)
	}
	ac, err := applicationcredentials.Create(ctx, demo, user.ID, applicationcredentials.CreateOpts{Name: "capi"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if ac.Secret == "" {
		t.Fatal("no secret returned on create")
	}
	p, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: h.AuthURL,
		ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret})
	if err != nil {
		t.Fatalf("authenticating with the application credential: %v", err)
	}
	if p.TokenID == "" {
		t.Fatal("no token")
	}
	if _, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: h.AuthURL,
		ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: "bad"}); !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("bad secret: %v, want 401", err)
	}
	if err := applicationcredentials.Delete(ctx, demo, user.ID, ac.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: h.AuthURL,
		ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret}); !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("deleted credential: %v, want 401", err)
	}
}

func TestTokensExpireAndRevoke(t *testing.T) {
	h := cloudtest.Start(t, func(c *cloud.Config) { c.TokenTTL = 300 * time.Millisecond })
	ctx := context.Background()
	admin := h.Client(t, cloudtest.Admin, "identity")
	demo := h.Provider(t, cloudtest.Demo)
	tok := demo.Token()
	if _, err := tokens.Validate(ctx, admin, tok); err != nil {
		t.Fatalf("validating a fresh token: %v", err)
	}
	if err := tokens.Revoke(ctx, admin, tok).Err; err != nil {
		t.Fatal(err)
	}
	if ok, _ := tokens.Validate(ctx, admin, tok); ok {
		t.Fatal("a revoked token still validates")
	}
	demo2 := h.Provider(t, cloudtest.Demo)
	time.Sleep(400 * time.Millisecond)
	if ok, _ := tokens.Validate(ctx, h.Client(t, cloudtest.Admin, "identity"), demo2.Token()); ok {
		t.Fatal("an expired token still validates")
	}
}

func TestTokensSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	h := cloudtest.Start(t, func(c *cloud.Config) { c.DataDir = dir })
	tok := h.Provider(t, cloudtest.Demo).Token()
	h.Stop()
	h2 := cloudtest.Start(t, func(c *cloud.Config) { c.DataDir = dir })
	ok, err := tokens.Validate(context.Background(), h2.Client(t, cloudtest.Admin, "identity"), tok)
	if err != nil || !ok {
		t.Fatalf("token from before the restart: %v, %v", ok, err)
	}
}
