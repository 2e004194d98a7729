package compute

import (
	"encoding/json"
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) quotaRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/os-quota-sets/{project}", "quota.get", h(func(c *call) error { return s.getQuota(c, false) }))
	rt.Handle("GET /v2.1/os-quota-sets/{project}/detail", "quota.get", h(func(c *call) error { return s.getQuota(c, true) }))
	rt.Handle("GET /v2.1/os-quota-sets/{project}/defaults", "quota.defaults", h(s.getQuotaDefaults))
	rt.Handle("PUT /v2.1/os-quota-sets/{project}", "quota.update", h(s.updateQuota))
	rt.Handle("DELETE /v2.1/os-quota-sets/{project}", "quota.delete", h(s.deleteQuota))
	rt.Handle("GET /v2.1/limits", "limits.get", h(s.getLimits))
}

// quotaNames are the quota resources fakecloud enforces, in Nova's names.
var quotaNames = []string{"instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members", "metadata_items", "injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}

// legacyQuotas are reported before microversion 2.36 and not enforced.
var legacyQuotas = map[string]int{"fixed_ips": -1, "floating_ips": 10, "security_groups": 10, "security_group_rules": 20}

func (q *Quota) field(name string) *int {
	switch name {
	case "instances":
		return &q.Instances
	case "cores":
		return &q.Cores
	case "ram":
		return &q.RAM
	case "key_pairs":
		return &q.KeyPairs
	case "server_groups":
		return &q.ServerGroups
	case "server_group_members":
		return &q.ServerGroupMembers
	case "metadata_items":
		return &q.MetadataItems
	case "injected_files":
		return &q.InjectedFiles
	case "injected_file_content_bytes":
		return &q.InjectedFileContentBytes
	case "injected_file_path_bytes":
		return &q.InjectedFilePathBytes
	}
	return nil
}

func (q Quota) get(name string) int {
	if p := q.field(name); p != nil {
		return *p
	}
	return -1
}

// quotaOf returns the quota set of a project (its own, or the default).
func (s *Service) quotaOf(project string) Quota {
	if q, ok := s.quotas.Get(project); ok {
		return q
	}
	return *s.cfg.Quota
}

// inUse returns what a project uses of each quota resource.
func (s *Service) inUse(project, userID string) map[string]int {
	u := s.usageFor(project)
	return map[string]int{
		"instances": u.Instances, "cores": u.Cores, "ram": u.RAM,
		"key_pairs":     s.keypairs.Count(func(_ string, k *KeyPair) bool { return k.UserID == userID }),
		"server_groups": s.groups.Count(func(_ string, g *ServerGroup) bool { return g.Project == project }),
	}
}

func (c *call) visibleQuotaNames() []string {
	var out []string
	for _, n := range quotaNames {
		if c.mv.AtLeast(57) && (n == "injected_files" || n == "injected_file_content_bytes" || n == "injected_file_path_bytes") {
			continue
		}
		out = append(out, n)
	}
	return out
}

func (c *call) quotaBody(project string, limit func(string) int, used map[string]int, detail bool) map[string]any {
	b := map[string]any{}
	if project != "" {
		b["id"] = project
	}
	put := func(name string, lim int) {
		if detail {
			b[name] = map[string]int{"limit": lim, "in_use": used[name], "reserved": 0}
		} else {
			b[name] = lim
		}
	}
	for _, n := range c.visibleQuotaNames() {
		put(n, limit(n))
	}
	if !c.mv.AtLeast(36) {
		for n, v := range legacyQuotas {
			put(n, v)
		}
	}
	return b
}

func (s *Service) quotaProject(c *call, rule string) (string, error) {
	project := c.r.PathValue("project")
	if project != c.p.ProjectID && !c.p.IsAdmin() {
		return "", httpapi.Forbidden("Policy doesn't allow %s to be performed.", rule)
	}
	return project, nil
}

func (s *Service) getQuota(c *call, detail bool) error {
	project, err := s.quotaProject(c, "os_compute_api:os-quota-sets:show")
	if err != nil {
		return err
	}
	used := map[string]int{}
	if detail {
		user := c.r.URL.Query().Get("user_id")
		if user == "" {
			user = c.p.UserID
		}
		used = s.inUse(project, user)
	}
	return c.json(http.StatusOK, map[string]any{"quota_set": c.quotaBody(project, func(n string) int { return s.limit(project, n) }, used, detail)})
}

func (s *Service) getQuotaDefaults(c *call) error {
	project := c.r.PathValue("project")
	def := *s.cfg.Quota
	return c.json(http.StatusOK, map[string]any{"quota_set": c.quotaBody(project, def.get, nil, false)})
}

func (s *Service) updateQuota(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-quota-sets:update"); err != nil {
		return err
	}
	project := c.r.PathValue("project")
	var body struct {
		QuotaSet map[string]json.RawMessage `json:"quota_set"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if body.QuotaSet == nil {
		return httpapi.BadRequest("Invalid input for field/attribute quota_set. 'quota_set' is a required property")
	}
	force := false
	values := map[string]int{}
	for k, raw := range body.QuotaSet {
		if k == "force" {
			f, err := parseBool(raw, "force")
			if err != nil {
				return err
			}
			force = f
			continue
		}
		var q Quota
		if q.field(k) == nil || (c.mv.AtLeast(57) && (k == "injected_files" || k == "injected_file_content_bytes" || k == "injected_file_path_bytes")) {
			if _, legacy := legacyQuotas[k]; legacy && !c.mv.AtLeast(36) {
				continue
			}
			return httpapi.BadRequest("Invalid input for field/attribute quota_set. Additional properties are not allowed ('%s' was unexpected)", k)
		}
		n, err := intField(raw, k, -1)
		if err != nil {
			return err
		}
		values[k] = n
	}
	used := s.inUse(project, c.p.UserID)
	var q Quota
	err := s.env.DB.Update(func(tx *store.Tx) error {
		q = s.quotaOf(project)
		for k, v := range values {
			if !force && v >= 0 && v < used[k] {
				return httpapi.BadRequest("Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, k, used[k])
			}
			*q.field(k) = v
		}
		if err := s.quotas.Put(tx, project, q); err != nil {
			return err
		}
		emit(tx, "quota", project, project, "updated", "")
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"quota_set": c.quotaBody("", q.get, nil, false)})
}

func (s *Service) deleteQuota(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-quota-sets:delete"); err != nil {
		return err
	}
	project := c.r.PathValue("project")
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if _, ok := s.quotas.Get(project); !ok {
			return nil
		}
		if err := s.quotas.Delete(tx, project); err != nil {
			return err
		}
		emit(tx, "quota", project, project, "deleted", "")
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Service) getLimits(c *call) error {
	project := c.p.ProjectID
	if t := c.r.URL.Query().Get("tenant_id"); t != "" && c.p.IsAdmin() {
		project = t
	}
	lim := func(n string) int { return s.limit(project, n) }
	used := s.inUse(project, c.p.UserID)
	abs := map[string]int{
		"maxServerMeta": lim("metadata_items"), "maxImageMeta": lim("metadata_items"),
		"maxTotalInstances": lim("instances"), "maxTotalCores": lim("cores"), "maxTotalRAMSize": lim("ram"),
		"maxTotalKeypairs": lim("key_pairs"), "maxServerGroups": lim("server_groups"),
		"maxServerGroupMembers": lim("server_group_members"),
		"totalInstancesUsed":    used["instances"], "totalCoresUsed": used["cores"], "totalRAMUsed": used["ram"],
		"totalServerGroupsUsed": used["server_groups"],
	}
	if !c.mv.AtLeast(57) {
		abs["maxPersonality"] = lim("injected_files")
		abs["maxPersonalitySize"] = lim("injected_file_content_bytes")
	}
	if !c.mv.AtLeast(36) {
		abs["maxSecurityGroups"] = legacyQuotas["security_groups"]
		abs["maxSecurityGroupRules"] = legacyQuotas["security_group_rules"]
		abs["maxTotalFloatingIps"] = legacyQuotas["floating_ips"]
		abs["totalSecurityGroupsUsed"] = 0
		abs["totalFloatingIpsUsed"] = 0
	}
	return c.json(http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
}
