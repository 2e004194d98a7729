package network

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Config tunes the network service.
type Config struct {
	// MTU is the MTU of new networks; default 1500.
	MTU int
	// Quotas are the default per-project limits, keyed by Neutron's quota names (network,
	// subnet, port, router, floatingip, security_group, security_group_rule); missing keys
	// take Neutron's defaults. -1 is unlimited.
	Quotas map[string]int
	// Reserved returns the block of addresses of a subnet that the backend keeps for itself:
	// left out of default allocation pools, refused in user pools and fixed IPs. Nil: none.
	Reserved func(netip.Prefix) (netip.Prefix, bool)
}

// defaultQuotas are Neutron's default per-project quotas.
var defaultQuotas = map[string]int{
	"network":             100,
	"subnet":              100,
	"port":                500,
	"router":              10,
	"floatingip":          50,
	"security_group":      10,
	"security_group_rule": 100,
	"subnetpool":          -1,
	"rbac_policy":         10,
	"trunk":               -1,
}

// Service is fakecloud's Neutron: the network API, its state, and services.Ports for Nova
// and Octavia.
type Service struct {
	env     services.Env
	cfg     Config
	backend Backend

	networks *store.Table[Network]
	subnets  *store.Table[Subnet]
	ports    *store.Table[Port]
	routers  *store.Table[Router]
	fips     *store.Table[FloatingIP]
	sgs      *store.Table[SecurityGroup]
	sgRules  *store.Table[SecurityGroupRule]
	quotas   *store.Table[Quota]
	qos      *store.Table[QoSPolicy]
	ipam     *ipam
}

var _ services.Service = (*Service)(nil)
var _ services.Ports = (*Service)(nil)

// New creates the network service: its tables, its in-memory IP allocation index rebuilt
// from the ports table, and its backend reconciliation task handlers.
func New(env services.Env, cfg Config, backend Backend) (*Service, error) {
	if env.DB == nil {
		return nil, fmt.Errorf("network: env.DB is nil")
	}
	if backend == nil {
		backend = MemoryBackend{}
	}
	if cfg.MTU <= 0 {
		cfg.MTU = 1500
	}
	q := map[string]int{}
	for k, v := range defaultQuotas {
		q[k] = v
	}
	for k, v := range cfg.Quotas {
		q[k] = v
	}
	cfg.Quotas = q
	s := &Service{env: env, cfg: cfg, backend: backend}
	var err error
	if s.networks, err = store.NewTable[Network](env.DB, "network_networks"); err != nil {
		return nil, err
	}
	if s.subnets, err = store.NewTable[Subnet](env.DB, "network_subnets"); err != nil {
		return nil, err
	}
	if s.ports, err = store.NewTable[Port](env.DB, "network_ports"); err != nil {
		return nil, err
	}
	if s.routers, err = store.NewTable[Router](env.DB, "network_routers"); err != nil {
		return nil, err
	}
	if s.fips, err = store.NewTable[FloatingIP](env.DB, "network_floatingips"); err != nil {
		return nil, err
	}
	if s.sgs, err = store.NewTable[SecurityGroup](env.DB, "network_security_groups"); err != nil {
		return nil, err
	}
	if s.sgRules, err = store.NewTable[SecurityGroupRule](env.DB, "network_security_group_rules"); err != nil {
		return nil, err
	}
	if s.quotas, err = store.NewTable[Quota](env.DB, "network_quotas"); err != nil {
		return nil, err
	}
	if s.qos, err = store.NewTable[QoSPolicy](env.DB, "network_qos_policies"); err != nil {
		return nil, err
	}
	s.ipam = newIPAM()
	s.ipam.rebuild(s.ports.List(nil))
	if env.Tasks != nil {
		s.registerTasks()
	}
	return s, nil
}

// Routes registers the Neutron v2.0 API under /network.
func (s *Service) Routes() {
	rt := s.env.Router("network", "/network", httpapi.StyleNeutron)
	rt.HandlePublic("GET /{$}", "versions", s.versions)
	rt.HandlePublic("GET ", "versions", s.versions)
	rt.HandlePublic("GET /v2.0/{$}", "version", s.version)
	rt.HandlePublic("GET /v2.0", "version", s.version)
	rt.Handle("GET /v2.0/extensions", "extension.list", s.listExtensions)
	rt.Handle("GET /v2.0/extensions/{alias}", "extension.get", s.getExtension)

	rt.Handle("GET /v2.0/networks", "network.list", s.listNetworks)
	rt.Handle("POST /v2.0/networks", "network.create", s.createNetwork)
	rt.Handle("GET /v2.0/networks/{id}", "network.get", s.getNetwork)
	rt.Handle("PUT /v2.0/networks/{id}", "network.update", s.updateNetwork)
	rt.Handle("DELETE /v2.0/networks/{id}", "network.delete", s.deleteNetwork)

	rt.Handle("GET /v2.0/subnets", "subnet.list", s.listSubnets)
	rt.Handle("POST /v2.0/subnets", "subnet.create", s.createSubnet)
	rt.Handle("GET /v2.0/subnets/{id}", "subnet.get", s.getSubnet)
	rt.Handle("PUT /v2.0/subnets/{id}", "subnet.update", s.updateSubnet)
	rt.Handle("DELETE /v2.0/subnets/{id}", "subnet.delete", s.deleteSubnet)

	rt.Handle("GET /v2.0/ports", "port.list", s.listPorts)
	rt.Handle("POST /v2.0/ports", "port.create", s.createPort)
	rt.Handle("GET /v2.0/ports/{id}", "port.get", s.getPort)
	rt.Handle("PUT /v2.0/ports/{id}", "port.update", s.updatePort)
	rt.Handle("DELETE /v2.0/ports/{id}", "port.delete", s.deletePort)

	rt.Handle("GET /v2.0/routers", "router.list", s.listRouters)
	rt.Handle("POST /v2.0/routers", "router.create", s.createRouter)
	rt.Handle("GET /v2.0/routers/{id}", "router.get", s.getRouter)
	rt.Handle("PUT /v2.0/routers/{id}", "router.update", s.updateRouter)
	rt.Handle("DELETE /v2.0/routers/{id}", "router.delete", s.deleteRouter)
	rt.Handle("PUT /v2.0/routers/{id}/add_router_interface", "router.add_interface", s.addRouterInterface)
	rt.Handle("PUT /v2.0/routers/{id}/remove_router_interface", "router.remove_interface", s.removeRouterInterface)

	rt.Handle("GET /v2.0/floatingips", "floatingip.list", s.listFloatingIPs)
	rt.Handle("POST /v2.0/floatingips", "floatingip.create", s.createFloatingIP)
	rt.Handle("GET /v2.0/floatingips/{id}", "floatingip.get", s.getFloatingIP)
	rt.Handle("PUT /v2.0/floatingips/{id}", "floatingip.update", s.updateFloatingIP)
	rt.Handle("DELETE /v2.0/floatingips/{id}", "floatingip.delete", s.deleteFloatingIP)

	rt.Handle("GET /v2.0/security-groups", "security_group.list", s.listSecurityGroups)
	rt.Handle("POST /v2.0/security-groups", "security_group.create", s.createSecurityGroup)
	rt.Handle("GET /v2.0/security-groups/{id}", "security_group.get", s.getSecurityGroup)
	rt.Handle("PUT /v2.0/security-groups/{id}", "security_group.update", s.updateSecurityGroup)
	rt.Handle("DELETE /v2.0/security-groups/{id}", "security_group.delete", s.deleteSecurityGroup)
	rt.Handle("GET /v2.0/security-group-rules", "security_group_rule.list", s.listSecurityGroupRules)
	rt.Handle("POST /v2.0/security-group-rules", "security_group_rule.create", s.createSecurityGroupRule)
	rt.Handle("GET /v2.0/security-group-rules/{id}", "security_group_rule.get", s.getSecurityGroupRule)
	rt.Handle("DELETE /v2.0/security-group-rules/{id}", "security_group_rule.delete", s.deleteSecurityGroupRule)

	rt.Handle("GET /v2.0/qos/policies", "qos_policy.list", s.listQoSPolicies)
	rt.Handle("POST /v2.0/qos/policies", "qos_policy.create", s.createQoSPolicy)
	rt.Handle("GET /v2.0/qos/policies/{id}", "qos_policy.get", s.getQoSPolicy)
	rt.Handle("PUT /v2.0/qos/policies/{id}", "qos_policy.update", s.updateQoSPolicy)
	rt.Handle("DELETE /v2.0/qos/policies/{id}", "qos_policy.delete", s.deleteQoSPolicy)

	rt.Handle("GET /v2.0/quotas", "quota.list", s.listQuotas)
	rt.Handle("GET /v2.0/quotas/{project}", "quota.get", s.getQuota)
	rt.Handle("GET /v2.0/quotas/{project}/default", "quota.default", s.getQuotaDefault)
	rt.Handle("GET /v2.0/quotas/{project}/details.json", "quota.details", s.getQuotaDetails)
	rt.Handle("GET /v2.0/quotas/{project}/details", "quota.details", s.getQuotaDetails)
	rt.Handle("PUT /v2.0/quotas/{project}", "quota.update", s.updateQuota)
	rt.Handle("DELETE /v2.0/quotas/{project}", "quota.delete", s.deleteQuota)

	for _, res := range []string{"networks", "subnets", "ports", "routers", "floatingips", "security-groups"} {
		rt.Handle("GET /v2.0/"+res+"/{id}/tags", "tag.list", s.tagHandler(res, s.listTags))
		rt.Handle("PUT /v2.0/"+res+"/{id}/tags", "tag.replace", s.tagHandler(res, s.replaceTags))
		rt.Handle("DELETE /v2.0/"+res+"/{id}/tags", "tag.clear", s.tagHandler(res, s.clearTags))
		rt.Handle("GET /v2.0/"+res+"/{id}/tags/{tag}", "tag.get", s.tagHandler(res, s.checkTag))
		rt.Handle("PUT /v2.0/"+res+"/{id}/tags/{tag}", "tag.add", s.tagHandler(res, s.addTag))
		rt.Handle("DELETE /v2.0/"+res+"/{id}/tags/{tag}", "tag.delete", s.tagHandler(res, s.deleteTag))
	}
}

// Resources lists every network resource for `fakecloud state`.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	add := func(kind, id, name, project, status string) {
		out = append(out, services.Resource{Service: "network", Kind: kind, ID: id, Name: name, Project: project, Status: status})
	}
	for _, n := range s.networks.List(nil) {
		add("network", n.ID, n.Name, n.Project, "ACTIVE")
	}
	for _, n := range s.subnets.List(nil) {
		add("subnet", n.ID, n.Name, n.Project, "ACTIVE")
	}
	for _, p := range s.ports.List(nil) {
		add("port", p.ID, p.Name, p.Project, p.Status)
	}
	for _, r := range s.routers.List(nil) {
		add("router", r.ID, r.Name, r.Project, r.Status)
	}
	for _, f := range s.fips.List(nil) {
		add("floatingip", f.ID, f.FloatingIP, f.Project, f.Status)
	}
	for _, g := range s.sgs.List(nil) {
		add("security_group", g.ID, g.Name, g.Project, "ACTIVE")
	}
	for _, q := range s.qos.List(nil) {
		add("qos_policy", q.ID, q.Name, q.Project, "ACTIVE")
	}
	return out
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": []any{s.versionDoc(r)}})
	return nil
}

func (s *Service) version(w http.ResponseWriter, r *http.Request) error {
	res := []map[string]any{}
	for _, c := range []string{"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"} {
		plural := c + "s"
		if c == "security_group" || c == "security_group_rule" {
			plural = strings.ReplaceAll(plural, "_", "-")
		}
		res = append(res, map[string]any{"name": c, "collection": plural,
			"links": []map[string]string{{"rel": "self", "href": baseURL(r) + "/network/v2.0/" + plural}}})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"resources": res})
	return nil
}

func (s *Service) versionDoc(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v2.0", "status": "CURRENT",
		"links": []map[string]string{{"rel": "self", "href": baseURL(r) + "/network/v2.0/"}},
	}
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// now is the timestamp of a change, at Neutron's second precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// ts formats a time as Neutron does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func newID() string { return uuid.NewString() }

func caller(r *http.Request) *httpapi.Principal {
	p := httpapi.PrincipalFrom(r.Context())
	if p == nil {
		return &httpapi.Principal{}
	}
	return p
}

// owner returns the project a new resource belongs to: the caller's, or for an admin the
// project_id/tenant_id of the body.
func owner(p *httpapi.Principal, projectID, tenantID string) (string, error) {
	want := projectID
	if want == "" {
		want = tenantID
	}
	if projectID != "" && tenantID != "" && projectID != tenantID {
		return "", httpapi.BadRequest("project_id and tenant_id do not match")
	}
	if want == "" || want == p.ProjectID {
		return p.ProjectID, nil
	}
	if !p.IsAdmin() {
		return "", httpapi.Forbidden("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges")
	}
	return want, nil
}

func (s *Service) emit(tx *store.Tx, kind, id, project, action, detail string) {
	tx.Emit(store.Event{Service: "network", Kind: kind, ID: id, Project: project, Action: action, Detail: detail})
}

// limit returns the quota of resource for project (-1 unlimited), honouring injected limits.
func (s *Service) limit(project, resource string) int {
	l := s.cfg.Quotas[resource]
	if q, ok := s.quotas.Get(project); ok {
		if v, ok := q.Limits[resource]; ok {
			l = v
		}
	}
	if s.env.Quotas != nil {
		if v, ok := s.env.Quotas.Limit(project, resource); ok {
			l = v
		} else if v, ok := s.env.Quotas.Limit(project, resource+"s"); ok {
			l = v
		}
	}
	return l
}

// usage counts what project holds of a quota resource.
func (s *Service) usage(project, resource string) int {
	switch resource {
	case "network":
		return s.networks.Count(func(_ string, v *Network) bool { return v.Project == project })
	case "subnet":
		return s.subnets.Count(func(_ string, v *Subnet) bool { return v.Project == project })
	case "port":
		return s.ports.Count(func(_ string, v *Port) bool { return v.Project == project })
	case "router":
		return s.routers.Count(func(_ string, v *Router) bool { return v.Project == project })
	case "floatingip":
		return s.fips.Count(func(_ string, v *FloatingIP) bool { return v.Project == project })
	case "security_group":
		return s.sgs.Count(func(_ string, v *SecurityGroup) bool { return v.Project == project })
	case "security_group_rule":
		return s.sgRules.Count(func(_ string, v *SecurityGroupRule) bool { return v.Project == project })
	}
	return 0
}

// checkQuota refuses to add n of resource to project beyond its limit: 409 OverQuota.
func (s *Service) checkQuota(project, resource string, n int) error {
	l := s.limit(project, resource)
	if l < 0 {
		return nil
	}
	if s.usage(project, resource)+n > l {
		return httpapi.OverQuota(http.StatusConflict, "Quota exceeded for resources: ['%s'].", resource)
	}
	return nil
}

// fieldsOf applies the fields= query parameter to a view.
func fieldsOf(r *http.Request, v map[string]any) map[string]any {
	fs := r.URL.Query()["fields"]
	if len(fs) == 0 {
		return v
	}
	out := map[string]any{}
	for _, f := range fs {
		for _, name := range strings.Split(f, ",") {
			if val, ok := v[name]; ok {
				out[name] = val
			}
		}
	}
	return out
}

// writeOne writes {key: view}.
func writeOne(w http.ResponseWriter, r *http.Request, status int, key string, v map[string]any) error {
	httpapi.WriteJSON(w, status, map[string]any{key: fieldsOf(r, v)})
	return nil
}

// writeList sorts views (by the sort_key/sort_dir parameters, then id), pages them with
// limit/marker and writes {collection: [...], collection_links: [...]}.
func writeList(w http.ResponseWriter, r *http.Request, collection string, views []map[string]any) error {
	q := r.URL.Query()
	keys, dirs := q["sort_key"], q["sort_dir"]
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return httpapi.BadRequest("Invalid input for sort_dir: '%s' is not in ['asc', 'desc'].", d)
		}
	}
	for _, k := range keys {
		if len(views) > 0 {
			if _, ok := views[0][k]; !ok {
				return httpapi.BadRequest("%s is an invalid attribute for sort_key", k)
			}
		}
	}
	idOf := func(v map[string]any) string { id, _ := v["id"].(string); return id }
	sort.SliceStable(views, func(i, j int) bool {
		for n, k := range keys {
			c := compareValues(views[i][k], views[j][k])
			if c == 0 {
				continue
			}
			if n < len(dirs) && dirs[n] == "desc" {
				return c > 0
			}
			return c < 0
		}
		return idOf(views[i]) < idOf(views[j])
	})
	if m := q.Get("marker"); m != "" {
		i := slices.IndexFunc(views, func(v map[string]any) bool { return idOf(v) == m })
		if i < 0 {
			return httpapi.BadRequest("marker [%s] not found", m)
		}
		views = views[i+1:]
	}
	next := ""
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return httpapi.BadRequest("Invalid input for limit: '%s' is not a non-negative integer.", s)
		}
		if n > 0 && len(views) > n {
			views = views[:n]
			next = idOf(views[n-1])
		}
	}
	items := make([]map[string]any, len(views))
	for i, v := range views {
		items[i] = fieldsOf(r, v)
	}
	body := map[string]any{collection: items}
	if q.Has("limit") {
		body[collection+"_links"] = httpapi.Links(r, next)
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

// compareValues orders two view values of the same attribute.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case int:
		y, _ := b.(int)
		return x - y
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// pathID reads and checks the {id} path parameter; a malformed id is a 404 as Neutron answers.
func pathID(r *http.Request, kind string) (string, error) {
	id := r.PathValue("id")
	if !httpapi.IsUUID(id) {
		return "", httpapi.NotFound(kind, id)
	}
	return id, nil
}
