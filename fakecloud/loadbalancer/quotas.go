package loadbalancer

import (
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) quotaRoutes(rt routeSet, base string) {
	rt.Handle("GET "+base+"/quotas", "quota.list", s.listQuotas)
	rt.Handle("GET "+base+"/quotas/{project}", "quota.get", s.getQuota)
	rt.Handle("GET "+base+"/quotas/{project}/default", "quota.defaults", s.getQuotaDefaults)
	rt.Handle("PUT "+base+"/quotas/{project}", "quota.update", s.updateQuota)
	rt.Handle("DELETE "+base+"/quotas/{project}", "quota.delete", s.deleteQuota)
}

// quotaView is Octavia's QuotaResponse, with both spellings of the renamed attributes.
type quotaView struct {
	ProjectID     string `json:"project_id"`
	LoadBalancer  int    `json:"loadbalancer"`
	LoadBalancer2 int    `json:"load_balancer"`
	Listener      int    `json:"listener"`
	Member        int    `json:"member"`
	Pool          int    `json:"pool"`
	HealthMonitor int    `json:"healthmonitor"`
	HealthMon2    int    `json:"health_monitor"`
	L7Policy      int    `json:"l7policy"`
	L7Rule        int    `json:"l7rule"`
}

func (s *Service) viewQuota(project string, q Quota, defaults bool) quotaView {
	d := *s.cfg.Quotas
	pick := func(v *int, def int) int {
		if v != nil && !defaults {
			return *v
		}
		return def
	}
	v := quotaView{
		ProjectID:    project,
		LoadBalancer: pick(q.LoadBalancer, d.LoadBalancer), Listener: pick(q.Listener, d.Listener),
		Member: pick(q.Member, d.Member), Pool: pick(q.Pool, d.Pool),
		HealthMonitor: pick(q.HealthMonitor, d.HealthMonitor), L7Policy: pick(q.L7Policy, d.L7Policy),
		L7Rule: pick(q.L7Rule, d.L7Rule),
	}
	v.LoadBalancer2, v.HealthMon2 = v.LoadBalancer, v.HealthMonitor
	return v
}

func (s *Service) listQuotas(w http.ResponseWriter, r *http.Request) error {
	project, err := listScope(r)
	if err != nil {
		return err
	}
	want := r.URL.Query().Get("project_id")
	out := []quotaView{}
	for _, q := range s.quotas.List(func(_ string, q *Quota) bool {
		return (project == "" || q.ProjectID == project) && (want == "" || q.ProjectID == want)
	}) {
		out = append(out, s.viewQuota(q.ProjectID, q, false))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quotas": out, "quotas_links": []any{}})
	return nil
}

func (s *Service) getQuota(w http.ResponseWriter, r *http.Request) error {
	project := r.PathValue("project")
	if err := authorize(r, project); err != nil {
		return err
	}
	q, _ := s.quotas.Get(project)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": s.viewQuota(project, q, false)})
	return nil
}

func (s *Service) getQuotaDefaults(w http.ResponseWriter, r *http.Request) error {
	project := r.PathValue("project")
	if err := authorize(r, project); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": s.viewQuota(project, Quota{}, true)})
	return nil
}

func requireAdmin(r *http.Request) error {
	if !httpapi.PrincipalFrom(r.Context()).IsAdmin() {
		return errForbidden()
	}
	return nil
}

// quotaBody is the body of PUT /quotas/{project}; null resets a limit to the default.
type quotaBody struct {
	LoadBalancer  opt[int] `json:"loadbalancer"`
	LoadBalancer2 opt[int] `json:"load_balancer"`
	Listener      opt[int] `json:"listener"`
	Member        opt[int] `json:"member"`
	Pool          opt[int] `json:"pool"`
	HealthMonitor opt[int] `json:"healthmonitor"`
	HealthMon2    opt[int] `json:"health_monitor"`
	L7Policy      opt[int] `json:"l7policy"`
	L7Rule        opt[int] `json:"l7rule"`
}

func (s *Service) updateQuota(w http.ResponseWriter, r *http.Request) error {
	project := r.PathValue("project")
	if err := requireAdmin(r); err != nil {
		return err
	}
	var b quotaBody
	if err := decodeRoot(r, "quota", &b); err != nil {
		return err
	}
	fieldsIn := []struct {
		name string
		o    opt[int]
	}{
		{"loadbalancer", b.LoadBalancer}, {"load_balancer", b.LoadBalancer2}, {"listener", b.Listener},
		{"member", b.Member}, {"pool", b.Pool}, {"healthmonitor", b.HealthMonitor},
		{"health_monitor", b.HealthMon2}, {"l7policy", b.L7Policy}, {"l7rule", b.L7Rule},
	}
	for _, f := range fieldsIn {
		if err := checkRange(f.name, f.o, quotaUnlimited, maxQuota); err != nil {
			return err
		}
	}
	var q Quota
	err := s.env.DB.Update(func(tx *store.Tx) error {
		q, _ = s.quotas.Get(project)
		q.ProjectID = project
		set := func(dst **int, os ...opt[int]) {
			for _, o := range os {
				if !o.Set {
					continue
				}
				*dst = nil
				if o.has() {
					v := o.V
					*dst = &v
				}
			}
		}
		set(&q.LoadBalancer, b.LoadBalancer2, b.LoadBalancer)
		set(&q.Listener, b.Listener)
		set(&q.Member, b.Member)
		set(&q.Pool, b.Pool)
		set(&q.HealthMonitor, b.HealthMon2, b.HealthMonitor)
		set(&q.L7Policy, b.L7Policy)
		set(&q.L7Rule, b.L7Rule)
		if err := s.quotas.Put(tx, project, q); err != nil {
			return err
		}
		s.emit(tx, "quota", project, project, "updated", "", "")
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"quota": s.viewQuota(project, q, false)})
	return nil
}

func (s *Service) deleteQuota(w http.ResponseWriter, r *http.Request) error {
	project := r.PathValue("project")
	if err := requireAdmin(r); err != nil {
		return err
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if _, ok := s.quotas.Get(project); !ok {
			return nil
		}
		if err := s.quotas.Delete(tx, project); err != nil {
			return err
		}
		s.emit(tx, "quota", project, project, "deleted", "", "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
