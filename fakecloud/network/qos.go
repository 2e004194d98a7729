package network

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// QoSPolicy is a stored Neutron QoS policy (the qos extension). Its rules (bandwidth limits,
// DSCP marks) are not implemented: a policy is something ports, networks and load balancer
// VIPs can name.
type QoSPolicy struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Project     string    `json:"project_id"`
	Shared      bool      `json:"shared"`
	Tags        []string  `json:"tags"`
	Revision    int       `json:"revision_number"`
	Created     time.Time `json:"created_at"`
	Updated     time.Time `json:"updated_at"`
}

type qosFields struct {
	Name        *string  `json:"name"`
	Description *string  `json:"description"`
	Shared      *bool    `json:"shared"`
	IsDefault   *bool    `json:"is_default"`
	ProjectID   string   `json:"project_id"`
	TenantID    string   `json:"tenant_id"`
	Tags        []string `json:"tags"`
}

func (s *Service) qosView(q QoSPolicy) map[string]any {
	return map[string]any{
		"id": q.ID, "name": q.Name, "description": q.Description, "project_id": q.Project, "tenant_id": q.Project,
		"shared": q.Shared, "rules": []any{}, "tags": nonNil(q.Tags), "revision_number": q.Revision,
		"created_at": ts(q.Created), "updated_at": ts(q.Updated),
	}
}

// canSeeQoS reports whether p sees a policy: its project's, a shared one, or any for an admin.
func canSeeQoS(p *httpapi.Principal, q *QoSPolicy) bool { return p.Sees(q.Project) || q.Shared }

func (s *Service) visibleQoS(p *httpapi.Principal, id string) (QoSPolicy, error) {
	q, ok := s.qos.Get(id)
	if !ok || !canSeeQoS(p, &q) {
		return QoSPolicy{}, httpapi.Errorf(http.StatusNotFound, "QosPolicyNotFound", "QoS policy %s could not be found.", id)
	}
	return q, nil
}

// qosAdminOnly is Neutron's default policy: only admins create, update and delete QoS
// policies; members use the ones an admin made for their project or shared.
func qosAdminOnly(p *httpapi.Principal, action string) error {
	if p.IsAdmin() {
		return nil
	}
	return httpapi.Forbidden("rule:%s_policy is disallowed by policy", action)
}

var qosFilters = fieldsOfT[QoSPolicy]{
	"id": func(v *QoSPolicy) string { return v.ID }, "name": func(v *QoSPolicy) string { return v.Name },
	"description": func(v *QoSPolicy) string { return v.Description },
	"project_id":  func(v *QoSPolicy) string { return v.Project }, "tenant_id": func(v *QoSPolicy) string { return v.Project },
	"shared":          func(v *QoSPolicy) string { return fmtBool(v.Shared) },
	"revision_number": func(v *QoSPolicy) string { return itoa(v.Revision) },
}

func (s *Service) listQoSPolicies(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	m := newMatcher(r, qosFilters, func(v *QoSPolicy) []string { return v.Tags })
	list := s.qos.List(func(_ string, v *QoSPolicy) bool { return canSeeQoS(p, v) && m.match(v) })
	views := make([]map[string]any, len(list))
	for i, q := range list {
		views[i] = s.qosView(q)
	}
	return writeList(w, r, "policies", views)
}

func (s *Service) getQoSPolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	q, err := s.visibleQoS(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "policy", s.qosView(q))
}

// applyQoS validates and applies the changeable attributes of b.
func applyQoS(q *QoSPolicy, b *qosFields) error {
	if b.IsDefault != nil && *b.IsDefault {
		return httpapi.BadRequest("Unrecognized attribute(s) 'is_default': default QoS policies (the qos-default extension) are not supported by this cloud.")
	}
	if b.Name != nil {
		if len(*b.Name) > 255 {
			return httpapi.BadRequest("Invalid input for name. Reason: '%s' exceeds maximum length of 255.", *b.Name)
		}
		q.Name = *b.Name
	}
	if b.Description != nil {
		if len(*b.Description) > 1024 {
			return httpapi.BadRequest("Invalid input for description. Reason: exceeds maximum length of 1024.")
		}
		q.Description = *b.Description
	}
	if b.Shared != nil {
		q.Shared = *b.Shared
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return err
		}
		q.Tags = dedupTags(b.Tags)
	}
	return nil
}

func (s *Service) createQoSPolicy(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "policy", "policies", true, s.stageQoSPolicy, nil)
}

func (s *Service) stageQoSPolicy(p *httpapi.Principal, b *qosFields) (staged, error) {
	if err := qosAdminOnly(p, "create"); err != nil {
		return staged{}, err
	}
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	t := now()
	q := QoSPolicy{ID: newID(), Project: project, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	if err := applyQoS(&q, b); err != nil {
		return staged{}, err
	}
	put := func(tx *store.Tx) error {
		if err := s.qos.Put(tx, q.ID, q); err != nil {
			return err
		}
		s.emit(tx, "qos_policy", q.ID, q.Project, "created", q.Name)
		return nil
	}
	return staged{put: put, view: func() map[string]any { return s.qosView(q) }}, nil
}

func (s *Service) updateQoSPolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var body struct {
		Policy *qosFields `json:"policy"`
	}
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Policy == nil {
		return httpapi.BadRequest("Resource body required: 'policy'.")
	}
	b := body.Policy
	if b.ProjectID != "" || b.TenantID != "" {
		return httpapi.BadRequest("Cannot update read-only attribute project_id")
	}
	p := caller(r)
	var q QoSPolicy
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		if q, err = s.visibleQoS(p, id); err != nil {
			return err
		}
		if err := qosAdminOnly(p, "update"); err != nil {
			return err
		}
		if b.Shared != nil && !*b.Shared && q.Shared {
			if user, kind := s.qosUserOutside(q); user != "" {
				return httpapi.Errorf(http.StatusConflict, "RbacPolicyInUse",
					"RBAC policy on object %s cannot be removed because other objects depend on it: %s %s of another project uses it.", id, kind, user)
			}
		}
		if err := applyQoS(&q, b); err != nil {
			return err
		}
		q.Revision++
		q.Updated = now()
		if err := s.qos.Put(tx, id, q); err != nil {
			return err
		}
		s.emit(tx, "qos_policy", id, q.Project, "updated", q.Name)
		return nil
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "policy", s.qosView(q))
}

// qosUser returns a port or network that names the policy ("" if none) and its kind.
func (s *Service) qosUser(id string) (string, string) {
	if ps := s.ports.List(func(_ string, v *Port) bool { return v.QoSPolicyID == id }); len(ps) > 0 {
		return ps[0].ID, "port"
	}
	if ns := s.networks.List(func(_ string, v *Network) bool { return v.QoSPolicyID == id }); len(ns) > 0 {
		return ns[0].ID, "network"
	}
	return "", ""
}

// qosUserOutside returns a port or network of another project than the policy's that names it.
func (s *Service) qosUserOutside(q QoSPolicy) (string, string) {
	if ps := s.ports.List(func(_ string, v *Port) bool { return v.QoSPolicyID == q.ID && v.Project != q.Project }); len(ps) > 0 {
		return ps[0].ID, "port"
	}
	if ns := s.networks.List(func(_ string, v *Network) bool { return v.QoSPolicyID == q.ID && v.Project != q.Project }); len(ns) > 0 {
		return ns[0].ID, "network"
	}
	return "", ""
}

func (s *Service) deleteQoSPolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := caller(r)
	err := s.env.DB.Update(func(tx *store.Tx) error {
		q, err := s.visibleQoS(p, id)
		if err != nil {
			return err
		}
		if err := qosAdminOnly(p, "delete"); err != nil {
			return err
		}
		if user, kind := s.qosUser(id); user != "" {
			return httpapi.Errorf(http.StatusConflict, "QosPolicyInUse", "QoS Policy %s is used by %s %s.", id, kind, user)
		}
		if err := s.qos.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "qos_policy", id, q.Project, "deleted", q.Name)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// qosPolicyArg reads a qos_policy_id attribute (string or null): given reports presence,
// "" is null (no policy).
func qosPolicyArg(raw json.RawMessage) (id string, given bool, err error) {
	if len(raw) == 0 {
		return "", false, nil
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, httpapi.BadRequest("Invalid input for qos_policy_id: %s is not a string or null.", string(raw))
	}
	if v == nil || *v == "" {
		return "", true, nil
	}
	if err := httpapi.RequireUUID("qos_policy_id", *v); err != nil {
		return "", true, err
	}
	return *v, true, nil
}

// checkQoSFor checks that a resource of project may name policy id: the policy exists and is
// the project's or shared (an admin may name any). As Neutron: 404 QosPolicyNotFound.
func (s *Service) checkQoSFor(project string, admin bool, id string) error {
	q, ok := s.qos.Get(id)
	if !ok || !(admin || q.Project == project || q.Shared) {
		return httpapi.Errorf(http.StatusNotFound, "QosPolicyNotFound", "QoS policy %s could not be found.", id)
	}
	return nil
}

// QoSPolicyExists reports whether a QoS policy exists, whatever its project: Octavia checks
// a VIP's policy with its own service credentials, which see them all.
func (s *Service) QoSPolicyExists(id string) bool {
	_, ok := s.qos.Get(id)
	return ok
}
