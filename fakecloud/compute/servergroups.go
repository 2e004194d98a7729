package compute

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) groupRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/os-server-groups", "servergroup.list", h(s.listGroups))
	rt.Handle("POST /v2.1/os-server-groups", "servergroup.create", h(s.createGroup))
	rt.Handle("GET /v2.1/os-server-groups/{id}", "servergroup.get", h(s.getGroup))
	rt.Handle("DELETE /v2.1/os-server-groups/{id}", "servergroup.delete", h(s.deleteGroup))
}

func (c *call) groupBody(g *ServerGroup) map[string]any {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	b := map[string]any{"id": g.ID, "name": g.Name, "members": members}
	if c.mv.AtLeast(64) {
		b["policy"] = g.Policy
		rules := map[string]any{}
		if g.Policy == "anti-affinity" && g.MaxServerPerHost > 0 {
			rules["max_server_per_host"] = g.MaxServerPerHost
		}
		b["rules"] = rules
	} else {
		b["policies"] = []string{g.Policy}
		b["metadata"] = map[string]string{}
	}
	if c.mv.AtLeast(13) {
		b["project_id"] = g.Project
		b["user_id"] = g.UserID
	}
	return b
}

func (s *Service) lookupGroup(c *call, id string) (ServerGroup, error) {
	g, ok := s.groups.Get(id)
	if !ok || !c.p.Sees(g.Project) {
		return g, httpapi.Errorf(http.StatusNotFound, "InstanceGroupNotFound", "Instance group %s could not be found.", id)
	}
	return g, nil
}

func (s *Service) listGroups(c *call) error {
	q := c.r.URL.Query()
	all := false
	if v, ok := q["all_projects"]; ok {
		b, err := boolParam("all_projects", v[0])
		if err != nil {
			return err
		}
		all = b && c.p.IsAdmin()
	}
	groups := s.groups.List(func(_ string, g *ServerGroup) bool { return all || g.Project == c.p.ProjectID })
	sort.Slice(groups, func(i, j int) bool { return groups[i].ID < groups[j].ID })
	offset, limit := 0, maxListLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return httpapi.BadRequest("Invalid input for query parameters offset. Value: %s. is not a non-negative integer", v)
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return httpapi.BadRequest("Invalid input for query parameters limit. Value: %s. is not a positive integer", v)
		}
		limit = min(n, maxListLimit)
	}
	groups = groups[min(offset, len(groups)):]
	groups = groups[:min(limit, len(groups))]
	out := make([]map[string]any, 0, len(groups))
	for i := range groups {
		out = append(out, c.groupBody(&groups[i]))
	}
	return c.json(http.StatusOK, map[string]any{"server_groups": out})
}

func (s *Service) getGroup(c *call) error {
	g, err := s.lookupGroup(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"server_group": c.groupBody(&g)})
}

func (s *Service) createGroup(c *call) error {
	var body struct {
		Group *struct {
			Name     *string         `json:"name"`
			Policies []string        `json:"policies"`
			Policy   *string         `json:"policy"`
			Rules    json.RawMessage `json:"rules"`
		} `json:"server_group"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	in := body.Group
	if in == nil {
		return httpapi.BadRequest("Invalid input for field/attribute server_group. 'server_group' is a required property")
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" || len(*in.Name) > 255 {
		return httpapi.BadRequest("Invalid input for field/attribute name. 'name' is a required property of 1 to 255 characters")
	}
	g := ServerGroup{ID: uuid.NewString(), Name: *in.Name, Project: c.p.ProjectID, UserID: c.p.UserID, Members: []string{}, Created: time.Now().UTC()}
	allowed := map[string]bool{"affinity": true, "anti-affinity": true}
	if c.mv.AtLeast(15) {
		allowed["soft-affinity"], allowed["soft-anti-affinity"] = true, true
	}
	if c.mv.AtLeast(64) {
		if in.Policies != nil {
			return httpapi.BadRequest("Invalid input for field/attribute server_group. Additional properties are not allowed ('policies' was unexpected)")
		}
		if in.Policy == nil {
			return httpapi.BadRequest("Invalid input for field/attribute server_group. 'policy' is a required property")
		}
		g.Policy = *in.Policy
		if len(in.Rules) > 0 && string(in.Rules) != "null" && string(in.Rules) != "{}" {
			if g.Policy != "anti-affinity" {
				return httpapi.BadRequest("Only anti-affinity policy supports rules.")
			}
			var rules map[string]json.RawMessage
			if err := json.Unmarshal(in.Rules, &rules); err != nil {
				return httpapi.BadRequest("Invalid input for field/attribute rules. Value: %s. is not of type 'object'", in.Rules)
			}
			for k, v := range rules {
				if k != "max_server_per_host" {
					return httpapi.BadRequest("Invalid input for field/attribute rules. Additional properties are not allowed ('%s' was unexpected)", k)
				}
				n, err := intField(v, "max_server_per_host", 1)
				if err != nil {
					return err
				}
				g.MaxServerPerHost = n
			}
		}
	} else {
		if in.Policy != nil || len(in.Rules) > 0 {
			return httpapi.BadRequest("Invalid input for field/attribute server_group. Additional properties are not allowed ('policy' was unexpected)")
		}
		if len(in.Policies) != 1 {
			return httpapi.BadRequest("Invalid input for field/attribute policies. Value: %v. exactly one policy is required", in.Policies)
		}
		g.Policy = in.Policies[0]
	}
	if !allowed[g.Policy] {
		return httpapi.BadRequest("Invalid input for field/attribute policy. Value: %s. '%s' is not one of the supported policies", g.Policy, g.Policy)
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if lim := s.limit(g.Project, "server_groups"); lim >= 0 {
			if s.groups.Count(func(_ string, o *ServerGroup) bool { return o.Project == g.Project }) >= lim {
				return httpapi.Forbidden("Quota exceeded, too many server groups.")
			}
		}
		if err := s.groups.Put(tx, g.ID, g); err != nil {
			return err
		}
		emit(tx, "server_group", g.ID, g.Project, "created", g.Policy)
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"server_group": c.groupBody(&g)})
}

func (s *Service) deleteGroup(c *call) error {
	g, err := s.lookupGroup(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.groups.Delete(tx, g.ID); err != nil {
			return httpapi.Errorf(http.StatusNotFound, "InstanceGroupNotFound", "Instance group %s could not be found.", g.ID)
		}
		emit(tx, "server_group", g.ID, g.Project, "deleted", "")
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
