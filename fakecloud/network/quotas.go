package network

import (
	"net/http"
	"sort"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// quotaProject checks the caller may read project's quota: its own, or any for an admin.
func quotaProject(r *http.Request) (string, error) {
	p := caller(r)
	project := r.PathValue("project")
	if project == "" || len(project) > 255 {
		return "", httpapi.BadRequest("Invalid project id %q.", project)
	}
	if !p.Sees(project) {
		return "", httpapi.Forbidden("Non-admin is not authorized to access quotas for another project")
	}
	return project, nil
}

// quotaSet returns every limit of project.
func (s *Service) quotaSet(project string) map[string]int {
	out := map[string]int{}
	for k := range s.cfg.Quotas {
		out[k] = s.limit(project, k)
	}
	return out
}

func (s *Service) listQuotas(w http.ResponseWriter, r *http.Request) error {
	if !caller(r).IsAdmin() {
		return httpapi.Forbidden("get_quota is disallowed by policy")
	}
	qs := s.quotas.List(nil)
	sort.Slice(qs, func(i, j int) bool { return qs[i].Project < qs[j].Project })
	out := []map[string]any{}
	for _, q := range qs {
		m := map[string]any{"project_id": q.Project, "tenant_id": q.Project}
		for k, v := range s.quotaSet(q.Project) {
			m[k] = v
		}
		out = append(out, m)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quotas": out})
	return nil
}

func (s *Service) getQuota(w http.ResponseWriter, r *http.Request) error {
	project, err := quotaProject(r)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": s.quotaSet(project)})
	return nil
}

func (s *Service) getQuotaDefault(w http.ResponseWriter, r *http.Request) error {
	if _, err := quotaProject(r); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": s.cfg.Quotas})
	return nil
}

func (s *Service) getQuotaDetails(w http.ResponseWriter, r *http.Request) error {
	project, err := quotaProject(r)
	if err != nil {
		return err
	}
	out := map[string]any{}
	for k, l := range s.quotaSet(project) {
		out[k] = map[string]int{"limit": l, "used": s.usage(project, k), "reserved": 0}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": out})
	return nil
}

func (s *Service) updateQuota(w http.ResponseWriter, r *http.Request) error {
	if !caller(r).IsAdmin() {
		return httpapi.Forbidden("update_quota is disallowed by policy")
	}
	project, err := quotaProject(r)
	if err != nil {
		return err
	}
	var body struct {
		Quota *map[string]flexInt `json:"quota"`
	}
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Quota == nil {
		return httpapi.BadRequest("Resource body required: 'quota'.")
	}
	for k, v := range *body.Quota {
		if _, ok := s.cfg.Quotas[k]; !ok {
			return httpapi.BadRequest("Unrecognized attribute(s) '%s'", k)
		}
		if v < -1 {
			return httpapi.BadRequest("Invalid input for %s. Reason: '%d' should be greater than or equal to -1.", k, v)
		}
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		q, ok := s.quotas.Get(project)
		if !ok {
			q = Quota{Project: project, Limits: map[string]int{}}
		}
		if q.Limits == nil {
			q.Limits = map[string]int{}
		}
		for k, v := range *body.Quota {
			q.Limits[k] = int(v)
		}
		s.emit(tx, "quota", project, project, "updated", "")
		return s.quotas.Put(tx, project, q)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": s.quotaSet(project)})
	return nil
}

func (s *Service) deleteQuota(w http.ResponseWriter, r *http.Request) error {
	if !caller(r).IsAdmin() {
		return httpapi.Forbidden("delete_quota is disallowed by policy")
	}
	project, err := quotaProject(r)
	if err != nil {
		return err
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if _, ok := s.quotas.Get(project); !ok {
			return nil
		}
		s.emit(tx, "quota", project, project, "deleted", "")
		return s.quotas.Delete(tx, project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
