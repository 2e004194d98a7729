package loadbalancer

import (
	"net/http"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// emptyRoutes serves the collections fakecloud does not model (flavors, availability zones,
// L7 policies, amphorae) as Octavia with none of them configured would: empty lists, and 404
// for any id.
func (s *Service) emptyRoutes(rt routeSet, base string) {
	empty := []struct{ path, key, kind string }{
		{"/flavors", "flavors", "Flavor"},
		{"/flavorprofiles", "flavorprofiles", "Flavor Profile"},
		{"/availabilityzones", "availability_zones", "Availability Zone"},
		{"/availabilityzoneprofiles", "availability_zone_profiles", "Availability Zone Profile"},
		{"/l7policies", "l7policies", "L7 Policy"},
	}
	for _, e := range empty {
		rt.Handle("GET "+base+e.path, strings.TrimPrefix(e.path, "/")+".list", func(w http.ResponseWriter, r *http.Request) error {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{e.key: []any{}, e.key + "_links": []any{}})
			return nil
		})
		rt.Handle("GET "+base+e.path+"/{id}", strings.TrimPrefix(e.path, "/")+".get", func(w http.ResponseWriter, r *http.Request) error {
			return errNotFound(e.kind, r.PathValue("id"))
		})
	}
}

// listAmphorae is the admin-only /octavia/amphorae: the memory backend runs none.
func (s *Service) listAmphorae(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"amphorae": []any{}, "amphorae_links": []any{}})
	return nil
}

func (s *Service) listProviders(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"providers": s.cfg.Providers})
	return nil
}

// apiVersions are the versions Octavia's root document lists, with their dates; the last is
// CURRENT.
var apiVersions = []struct{ id, updated string }{
	{"v2.0", "2016-12-11T00:00:00Z"}, {"v2.1", "2018-04-20T00:00:00Z"}, {"v2.2", "2018-07-31T00:00:00Z"},
	{"v2.3", "2018-12-18T00:00:00Z"}, {"v2.4", "2018-12-19T00:00:00Z"}, {"v2.5", "2019-01-21T00:00:00Z"},
	{"v2.6", "2019-01-25T00:00:00Z"}, {"v2.7", "2018-01-25T12:00:00Z"}, {"v2.8", "2019-02-12T00:00:00Z"},
	{"v2.9", "2019-03-04T00:00:00Z"}, {"v2.10", "2019-03-05T00:00:00Z"}, {"v2.11", "2019-06-24T00:00:00Z"},
	{"v2.12", "2019-09-11T00:00:00Z"}, {"v2.13", "2019-09-13T00:00:00Z"}, {"v2.14", "2019-11-10T00:00:00Z"},
	{"v2.15", "2020-03-10T00:00:00Z"}, {"v2.16", "2020-03-15T00:00:00Z"}, {"v2.17", "2020-04-29T00:00:00Z"},
	{"v2.18", "2020-04-29T01:00:00Z"}, {"v2.19", "2020-05-12T00:00:00Z"}, {"v2.20", "2020-08-02T00:00:00Z"},
	{"v2.21", "2020-09-03T00:00:00Z"}, {"v2.22", "2020-09-04T00:00:00Z"}, {"v2.23", "2020-09-07T00:00:00Z"},
	{"v2.24", "2020-10-15T00:00:00Z"}, {"v2.25", "2021-10-02T00:00:00Z"}, {"v2.26", "2022-08-29T00:00:00Z"},
	{"v2.27", "2023-05-05T00:00:00Z"}, {"v2.28", "2023-11-08T00:00:00Z"}, {"v2.29", "2024-10-15T00:00:00Z"},
	{"v2.30", "2025-02-26T00:00:00Z"},
}

// versions is the root document: every v2.x, each linking to <endpoint>/v2.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) error {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + r.URL.Path
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	out := make([]map[string]any, len(apiVersions))
	for i, v := range apiVersions {
		status := "SUPPORTED"
		if i == len(apiVersions)-1 {
			status = "CURRENT"
		}
		out[i] = map[string]any{
			"id": v.id, "status": status, "updated": v.updated,
			"links": []map[string]string{{"href": base + "v2", "rel": "self"}},
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": out})
	return nil
}

// version answers GET /v2.0/ as Octavia does: the JSON string "v2".
func (s *Service) version(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, "v2")
	return nil
}
