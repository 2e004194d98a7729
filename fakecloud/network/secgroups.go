package network

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type sgFields struct {
	Name        *string  `json:"name"`
	Description *string  `json:"description"`
	Stateful    *bool    `json:"stateful"`
	ProjectID   string   `json:"project_id"`
	TenantID    string   `json:"tenant_id"`
	Tags        []string `json:"tags"`
}

type sgBody struct {
	SecurityGroup *sgFields `json:"security_group"`
}

type ruleFields struct {
	SecurityGroupID *string         `json:"security_group_id"`
	Direction       *string         `json:"direction"`
	EtherType       *string         `json:"ethertype"`
	Protocol        json.RawMessage `json:"protocol"`
	PortRangeMin    *flexInt        `json:"port_range_min"`
	PortRangeMax    *flexInt        `json:"port_range_max"`
	RemoteIPPrefix  *string         `json:"remote_ip_prefix"`
	RemoteGroupID   *string         `json:"remote_group_id"`
	Description     *string         `json:"description"`
	ProjectID       string          `json:"project_id"`
	TenantID        string          `json:"tenant_id"`
}

func (s *Service) sgView(g SecurityGroup, rules []SecurityGroupRule) map[string]any {
	rv := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		rv = append(rv, s.ruleView(r, g.Name == "default"))
	}
	return map[string]any{
		"id": g.ID, "name": g.Name, "description": g.Description, "project_id": g.Project, "tenant_id": g.Project,
		"stateful": g.Stateful, "shared": false, "security_group_rules": rv,
		"tags": nonNil(g.Tags), "revision_number": g.Revision, "created_at": ts(g.Created), "updated_at": ts(g.Updated),
	}
}

func (s *Service) ruleView(r SecurityGroupRule, inDefault bool) map[string]any {
	var min, max any
	if r.PortRangeMin != nil {
		min = *r.PortRangeMin
	}
	if r.PortRangeMax != nil {
		max = *r.PortRangeMax
	}
	norm := r.RemoteIPPrefix
	if norm == "" && r.RemoteGroupID == "" {
		norm = "0.0.0.0/0"
		if r.EtherType == "IPv6" {
			norm = "::/0"
		}
	}
	return map[string]any{
		"id": r.ID, "description": r.Description, "project_id": r.Project, "tenant_id": r.Project,
		"security_group_id": r.SecurityGroupID, "direction": r.Direction, "ethertype": r.EtherType,
		"protocol": nullable(r.Protocol), "port_range_min": min, "port_range_max": max,
		"remote_ip_prefix": nullable(r.RemoteIPPrefix), "remote_group_id": nullable(r.RemoteGroupID),
		"remote_address_group_id": nil, "normalized_cidr": nullable(norm), "belongs_to_default_sg": inDefault,
		"revision_number": r.Revision, "created_at": ts(r.Created), "updated_at": ts(r.Updated),
	}
}

// sgByName returns the id of project's security group called name, if exactly one exists.
func (s *Service) sgByName(project, name string) string {
	gs := s.sgs.List(func(_ string, g *SecurityGroup) bool { return g.Project == project && g.Name == name })
	if len(gs) != 1 {
		return ""
	}
	return gs[0].ID
}

// ensureDefaultSG returns project's "default" security group, creating it with Neutron's
// default rules (egress anywhere, ingress from the group itself, for IPv4 and IPv6) as part
// of tx when the project has none yet.
func (s *Service) ensureDefaultSG(tx *store.Tx, project string) (string, error) {
	if project == "" {
		return "", nil
	}
	if id := s.sgByName(project, "default"); id != "" {
		return id, nil
	}
	t := now()
	g := SecurityGroup{ID: newID(), Name: "default", Description: "Default security group", Project: project,
		Stateful: true, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	if err := s.sgs.Put(tx, g.ID, g); err != nil {
		return "", err
	}
	for _, dir := range []string{"egress", "ingress"} {
		for _, et := range []string{"IPv4", "IPv6"} {
			r := SecurityGroupRule{ID: newID(), Project: project, SecurityGroupID: g.ID, Direction: dir, EtherType: et,
				Revision: 0, Created: t, Updated: t}
			if dir == "ingress" {
				r.RemoteGroupID = g.ID
			}
			if err := s.sgRules.Put(tx, r.ID, r); err != nil {
				return "", err
			}
		}
	}
	s.emit(tx, "security_group", g.ID, project, "created", "default")
	return g.ID, nil
}

// ensureDefaultFor creates the caller's default group on first use, in an update of its own.
func (s *Service) ensureDefaultFor(project string) error {
	if project == "" || s.sgByName(project, "default") != "" {
		return nil
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		_, err := s.ensureDefaultSG(tx, project)
		return err
	})
}

func (s *Service) visibleSG(p *httpapi.Principal, id string) (SecurityGroup, error) {
	g, ok := s.sgs.Get(id)
	if !ok || !p.Sees(g.Project) {
		return SecurityGroup{}, httpapi.NotFound("Security group", id)
	}
	return g, nil
}

func (s *Service) rulesByGroup() map[string][]SecurityGroupRule {
	out := map[string][]SecurityGroupRule{}
	for _, r := range s.sgRules.List(nil) {
		out[r.SecurityGroupID] = append(out[r.SecurityGroupID], r)
	}
	return out
}

var sgFilters = fieldsOfT[SecurityGroup]{
	"id": func(v *SecurityGroup) string { return v.ID }, "name": func(v *SecurityGroup) string { return v.Name },
	"description": func(v *SecurityGroup) string { return v.Description },
	"project_id":  func(v *SecurityGroup) string { return v.Project }, "tenant_id": func(v *SecurityGroup) string { return v.Project },
	"stateful": func(v *SecurityGroup) string { return fmtBool(v.Stateful) },
}

var ruleFilters = fieldsOfT[SecurityGroupRule]{
	"id": func(v *SecurityGroupRule) string { return v.ID }, "description": func(v *SecurityGroupRule) string { return v.Description },
	"project_id": func(v *SecurityGroupRule) string { return v.Project }, "tenant_id": func(v *SecurityGroupRule) string { return v.Project },
	"security_group_id": func(v *SecurityGroupRule) string { return v.SecurityGroupID },
	"direction":         func(v *SecurityGroupRule) string { return v.Direction }, "ethertype": func(v *SecurityGroupRule) string { return v.EtherType },
	"protocol":         func(v *SecurityGroupRule) string { return v.Protocol },
	"remote_group_id":  func(v *SecurityGroupRule) string { return v.RemoteGroupID },
	"remote_ip_prefix": func(v *SecurityGroupRule) string { return v.RemoteIPPrefix },
}

func (s *Service) listSecurityGroups(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	if err := s.ensureDefaultFor(p.ProjectID); err != nil {
		return err
	}
	sees := visible(p)
	m := newMatcher(r, sgFilters, func(v *SecurityGroup) []string { return v.Tags })
	groups := s.sgs.List(func(_ string, g *SecurityGroup) bool { return sees(g.Project) && m.match(g) })
	rules := s.rulesByGroup()
	views := make([]map[string]any, len(groups))
	for i, g := range groups {
		views[i] = s.sgView(g, rules[g.ID])
	}
	return writeList(w, r, "security_groups", views)
}

func (s *Service) getSecurityGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Security group")
	if err != nil {
		return err
	}
	g, err := s.visibleSG(caller(r), id)
	if err != nil {
		return err
	}
	rules := s.sgRules.List(func(_ string, v *SecurityGroupRule) bool { return v.SecurityGroupID == id })
	return writeOne(w, r, http.StatusOK, "security_group", s.sgView(g, rules))
}

func (s *Service) createSecurityGroup(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "security_group", "security_groups", true, s.stageSecurityGroup, nil)
}

func (s *Service) stageSecurityGroup(p *httpapi.Principal, b *sgFields) (staged, error) {
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	t := now()
	g := SecurityGroup{ID: newID(), Project: project, Stateful: true, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	if b.Name != nil {
		if *b.Name == "default" {
			return staged{}, httpapi.Errorf(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
		}
		if len(*b.Name) > 255 {
			return staged{}, httpapi.BadRequest("Invalid input for name. Reason: exceeds maximum length of 255.")
		}
		g.Name = *b.Name
	}
	if b.Description != nil {
		g.Description = *b.Description
	}
	if b.Stateful != nil {
		g.Stateful = *b.Stateful
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
		g.Tags = dedupTags(b.Tags)
	}
	var rules []SecurityGroupRule
	put := func(tx *store.Tx) error {
		if _, err := s.ensureDefaultSG(tx, project); err != nil {
			return err
		}
		if err := s.checkQuota(project, "security_group", 1); err != nil {
			return err
		}
		if err := s.checkQuota(project, "security_group_rule", 2); err != nil {
			return err
		}
		if err := s.sgs.Put(tx, g.ID, g); err != nil {
			return err
		}
		// A new group lets everything out, as Neutron's does.
		for _, et := range []string{"IPv4", "IPv6"} {
			rule := SecurityGroupRule{ID: newID(), Project: project, SecurityGroupID: g.ID, Direction: "egress", EtherType: et, Created: t, Updated: t}
			if err := s.sgRules.Put(tx, rule.ID, rule); err != nil {
				return err
			}
			rules = append(rules, rule)
		}
		s.emit(tx, "security_group", g.ID, project, "created", g.Name)
		return nil
	}
	return staged{put: put, view: func() map[string]any { return s.sgView(g, rules) }}, nil
}

func (s *Service) updateSecurityGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Security group")
	if err != nil {
		return err
	}
	var body sgBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.SecurityGroup == nil {
		return httpapi.BadRequest("Resource body required: 'security_group'.")
	}
	b := body.SecurityGroup
	p := caller(r)
	var g SecurityGroup
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, err := s.visibleSG(p, id)
		if err != nil {
			return err
		}
		if cur.Name == "default" && b.Name != nil && *b.Name != "default" {
			return httpapi.Errorf(http.StatusConflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
		}
		if cur.Name != "default" && b.Name != nil && *b.Name == "default" {
			return httpapi.Errorf(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
		}
		g, err = s.sgs.Modify(tx, id, func(v *SecurityGroup) error {
			if b.Name != nil {
				v.Name = *b.Name
			}
			if b.Description != nil {
				v.Description = *b.Description
			}
			if b.Stateful != nil {
				v.Stateful = *b.Stateful
			}
			v.Revision++
			v.Updated = now()
			return nil
		})
		if err != nil {
			return err
		}
		s.emit(tx, "security_group", id, g.Project, "updated", g.Name)
		return s.reconcile(tx, taskSecGroupSync, id, g.Project)
	})
	if err != nil {
		return err
	}
	rules := s.sgRules.List(func(_ string, v *SecurityGroupRule) bool { return v.SecurityGroupID == id })
	return writeOne(w, r, http.StatusOK, "security_group", s.sgView(g, rules))
}

func (s *Service) deleteSecurityGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Security group")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		g, err := s.visibleSG(p, id)
		if err != nil {
			return err
		}
		if g.Name == "default" && !p.IsAdmin() {
			return httpapi.Errorf(http.StatusConflict, "SecurityGroupCannotRemoveDefault", "Removing default security group not allowed.")
		}
		inUse := s.ports.Count(func(_ string, v *Port) bool {
			for _, x := range v.SecurityGroups {
				if x == id {
					return true
				}
			}
			return false
		})
		if inUse > 0 {
			return httpapi.Errorf(http.StatusConflict, "SecurityGroupInUse", "Security Group %s in use.", id)
		}
		for _, rule := range s.sgRules.List(func(_ string, v *SecurityGroupRule) bool {
			return v.SecurityGroupID == id || v.RemoteGroupID == id
		}) {
			if err := s.sgRules.Delete(tx, rule.ID); err != nil {
				return err
			}
			if rule.SecurityGroupID != id {
				if err := s.reconcile(tx, taskSecGroupSync, rule.SecurityGroupID, rule.Project); err != nil {
					return err
				}
			}
		}
		if err := s.sgs.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "security_group", id, g.Project, "deleted", g.Name)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var protocolNumbers = map[string]int{
	"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0,
	"ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
	"udp": 17, "udplite": 136, "vrrp": 112,
}

// parseProtocol normalises a rule's protocol: a name, a number 0-255, or null/"any" for any.
func parseProtocol(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", httpapi.BadRequest("Invalid input for protocol.")
	}
	var s string
	switch x := v.(type) {
	case string:
		s = strings.ToLower(x)
	case float64:
		s = strconv.Itoa(int(x))
		if float64(int(x)) != x {
			return "", httpapi.BadRequest("Security group rule protocol %v not supported.", x)
		}
	default:
		return "", httpapi.BadRequest("Invalid input for protocol: %s.", string(raw))
	}
	if s == "" || s == "any" {
		return "", nil
	}
	if _, ok := protocolNumbers[s]; ok {
		return s, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 255 {
		return s, nil
	}
	return "", httpapi.BadRequest("Security group rule protocol %s not supported. Only protocol values [None, ah, dccp, egp, esp, gre, icmp, icmpv6, igmp, ipip, ipv6-encap, ipv6-frag, ipv6-icmp, ipv6-nonxt, ipv6-opts, ipv6-route, ospf, pgm, rsvp, sctp, tcp, udp, udplite, vrrp] and integer representations [0 to 255] are supported.", s)
}

func portsAllowed(proto string) bool {
	switch proto {
	case "tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136":
		return true
	}
	return false
}

func isICMP(proto string) bool {
	switch proto {
	case "icmp", "icmpv6", "ipv6-icmp", "1", "58":
		return true
	}
	return false
}

func (s *Service) listSecurityGroupRules(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	if err := s.ensureDefaultFor(p.ProjectID); err != nil {
		return err
	}
	sees := visible(p)
	m := newMatcher(r, ruleFilters, nil)
	defaults := map[string]bool{}
	for _, g := range s.sgs.List(func(_ string, g *SecurityGroup) bool { return g.Name == "default" }) {
		defaults[g.ID] = true
	}
	rules := s.sgRules.List(func(_ string, v *SecurityGroupRule) bool {
		return sees(v.Project) && m.match(v)
	})
	views := make([]map[string]any, len(rules))
	for i, rule := range rules {
		views[i] = s.ruleView(rule, defaults[rule.SecurityGroupID])
	}
	return writeList(w, r, "security_group_rules", views)
}

func (s *Service) getSecurityGroupRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Security group rule")
	if err != nil {
		return err
	}
	p := caller(r)
	rule, ok := s.sgRules.Get(id)
	if !ok || !p.Sees(rule.Project) {
		return httpapi.NotFound("Security group rule", id)
	}
	g, _ := s.sgs.Get(rule.SecurityGroupID)
	return writeOne(w, r, http.StatusOK, "security_group_rule", s.ruleView(rule, g.Name == "default"))
}

func (s *Service) createSecurityGroupRule(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "security_group_rule", "security_group_rules", true, s.stageSecurityGroupRule, duplicateRules)
}

// duplicateRules checks a bulk create of rules as Neutron does: all of one security group,
// and no rule twice.
func duplicateRules(items []staged) error {
	for i := range items {
		a, _ := items[i].item.(*SecurityGroupRule)
		if first, _ := items[0].item.(*SecurityGroupRule); a != nil && first != nil && a.SecurityGroupID != first.SecurityGroupID {
			return httpapi.Errorf(http.StatusBadRequest, "SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time")
		}
		for j := i + 1; j < len(items); j++ {
			b, _ := items[j].item.(*SecurityGroupRule)
			if a != nil && b != nil && sameRule(a, b) {
				return httpapi.Errorf(http.StatusBadRequest, "DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.")
			}
		}
	}
	return nil
}

func (s *Service) stageSecurityGroupRule(p *httpapi.Principal, b *ruleFields) (staged, error) {
	rule, err := parseRule(b)
	if err != nil {
		return staged{}, err
	}
	var g SecurityGroup
	put := func(tx *store.Tx) error {
		var err error
		g, err = s.visibleSG(p, rule.SecurityGroupID)
		if err != nil {
			return err
		}
		rule.Project = g.Project
		if b.ProjectID != "" || b.TenantID != "" {
			if rule.Project, err = owner(p, b.ProjectID, b.TenantID); err != nil {
				return err
			}
		}
		if rule.RemoteGroupID != "" {
			if _, err := s.visibleSG(p, rule.RemoteGroupID); err != nil {
				return err
			}
		}
		for _, other := range s.sgRules.List(func(_ string, v *SecurityGroupRule) bool { return v.SecurityGroupID == g.ID }) {
			if sameRule(&other, &rule) {
				return httpapi.Errorf(http.StatusConflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", other.ID)
			}
		}
		if err := s.checkQuota(rule.Project, "security_group_rule", 1); err != nil {
			return err
		}
		if err := s.sgRules.Put(tx, rule.ID, rule); err != nil {
			return err
		}
		s.emit(tx, "security_group_rule", rule.ID, rule.Project, "created", rule.Direction+" "+rule.EtherType+" "+rule.Protocol)
		return s.reconcile(tx, taskSecGroupSync, g.ID, g.Project)
	}
	return staged{put: put, view: func() map[string]any { return s.ruleView(rule, g.Name == "default") }, item: &rule}, nil
}

// parseRule validates a new rule's fields.
func parseRule(b *ruleFields) (SecurityGroupRule, error) {
	t := now()
	rule := SecurityGroupRule{ID: newID(), EtherType: "IPv4", Created: t, Updated: t}
	if b.SecurityGroupID == nil {
		return rule, httpapi.BadRequest("Failed to parse request. Required attribute 'security_group_id' not specified")
	}
	if err := httpapi.RequireUUID("security_group_id", *b.SecurityGroupID); err != nil {
		return rule, err
	}
	rule.SecurityGroupID = *b.SecurityGroupID
	if b.Direction == nil {
		return rule, httpapi.BadRequest("Failed to parse request. Required attribute 'direction' not specified")
	}
	if *b.Direction != "ingress" && *b.Direction != "egress" {
		return rule, httpapi.BadRequest("Invalid input for direction. Reason: '%s' is not in ['ingress', 'egress'].", *b.Direction)
	}
	rule.Direction = *b.Direction
	if b.EtherType != nil {
		switch strings.ToLower(*b.EtherType) {
		case "ipv4":
			rule.EtherType = "IPv4"
		case "ipv6":
			rule.EtherType = "IPv6"
		default:
			return rule, httpapi.BadRequest("Invalid input for ethertype. Reason: '%s' is not in ['IPv4', 'IPv6'].", *b.EtherType)
		}
	}
	if b.Description != nil {
		rule.Description = *b.Description
	}
	proto, err := parseProtocol(b.Protocol)
	if err != nil {
		return rule, err
	}
	rule.Protocol = proto
	pmin, pmax := intPtr(b.PortRangeMin), intPtr(b.PortRangeMax)
	if pmin != nil || pmax != nil {
		switch {
		case proto == "":
			return rule, httpapi.BadRequest("Must also specify protocol if port range is given.")
		case isICMP(proto):
			for _, v := range []*int{pmin, pmax} {
				if v != nil && (*v < 0 || *v > 255) {
					return rule, httpapi.BadRequest("Invalid value for ICMP field (port_range_min/max): %d. It must be 0 to 255.", *v)
				}
			}
			if pmin == nil && pmax != nil {
				return rule, httpapi.BadRequest("ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *pmax)
			}
		case portsAllowed(proto):
			for _, v := range []*int{pmin, pmax} {
				if v != nil && (*v < 0 || *v > 65535) {
					return rule, httpapi.BadRequest("Invalid value for port %d.", *v)
				}
			}
			if pmin != nil && pmax != nil && *pmin > *pmax {
				return rule, httpapi.BadRequest("For TCP/UDP protocols, port_range_min must be <= port_range_max")
			}
		default:
			return rule, httpapi.BadRequest("Invalid protocol %s for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.", proto)
		}
		rule.PortRangeMin, rule.PortRangeMax = pmin, pmax
		if portsAllowed(proto) && rule.PortRangeMin != nil && rule.PortRangeMax == nil {
			rule.PortRangeMax = rule.PortRangeMin
		}
	}
	if (proto == "icmp" || proto == "1") && rule.EtherType == "IPv6" {
		return rule, httpapi.BadRequest("Security group rule for ethertype 'IPv6' not supported. Allowed protocols are ipv6-icmp/icmpv6.")
	}
	if b.RemoteIPPrefix != nil && *b.RemoteIPPrefix != "" {
		if b.RemoteGroupID != nil && *b.RemoteGroupID != "" {
			return rule, httpapi.BadRequest("Only remote_ip_prefix or remote_group_id may be provided.")
		}
		pfx, err := netip.ParsePrefix(*b.RemoteIPPrefix)
		if err != nil {
			a, aerr := netip.ParseAddr(*b.RemoteIPPrefix)
			if aerr != nil {
				return rule, httpapi.BadRequest("Invalid input for remote_ip_prefix. Reason: '%s' is not a valid IP subnet.", *b.RemoteIPPrefix)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if (pfx.Addr().Is4() && rule.EtherType != "IPv4") || (pfx.Addr().Is6() && rule.EtherType != "IPv6") {
			return rule, httpapi.BadRequest("Conflicting value ethertype %s for CIDR %s", rule.EtherType, *b.RemoteIPPrefix)
		}
		rule.RemoteIPPrefix = pfx.Masked().String()
	}
	if b.RemoteGroupID != nil && *b.RemoteGroupID != "" {
		if err := httpapi.RequireUUID("remote_group_id", *b.RemoteGroupID); err != nil {
			return rule, err
		}
		rule.RemoteGroupID = *b.RemoteGroupID
	}
	return rule, nil
}

// sameRule compares rules as Neutron's duplicate check does (0.0.0.0/0 equals no prefix).
func sameRule(a, b *SecurityGroupRule) bool {
	norm := func(r *SecurityGroupRule) string {
		if r.RemoteIPPrefix == "0.0.0.0/0" || r.RemoteIPPrefix == "::/0" {
			return ""
		}
		return r.RemoteIPPrefix
	}
	eq := func(x, y *int) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return a.Direction == b.Direction && a.EtherType == b.EtherType && a.Protocol == b.Protocol &&
		eq(a.PortRangeMin, b.PortRangeMin) && eq(a.PortRangeMax, b.PortRangeMax) && norm(a) == norm(b) &&
		a.RemoteGroupID == b.RemoteGroupID
}

func (s *Service) deleteSecurityGroupRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Security group rule")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		rule, ok := s.sgRules.Get(id)
		if !ok || !p.Sees(rule.Project) {
			return httpapi.NotFound("Security group rule", id)
		}
		if err := s.sgRules.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "security_group_rule", id, rule.Project, "deleted", "")
		return s.reconcile(tx, taskSecGroupSync, rule.SecurityGroupID, rule.Project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
