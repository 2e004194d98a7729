package compute

import (
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

func (c *call) versionDoc(id string) map[string]any {
	doc := map[string]any{
		"id":          id,
		"status":      "CURRENT",
		"version":     MaxVersion.String(),
		"min_version": MinVersion.String(),
		"updated":     "2013-07-23T11:33:21Z",
		"links": []map[string]string{
			{"rel": "self", "href": c.base + "/" + id + "/"},
			{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
		},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}},
	}
	if id == "v2.0" {
		doc["status"] = "SUPPORTED"
		doc["version"] = ""
		doc["min_version"] = ""
		doc["updated"] = "2011-01-21T11:33:21Z"
	}
	return doc
}

// versionRoutes serves Nova's version discovery documents at /compute/ and /compute/v2.1/.
func (s *Service) versionRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	root := h(func(c *call) error {
		return c.json(http.StatusOK, map[string]any{"versions": []any{c.versionDoc("v2.0"), c.versionDoc("v2.1")}})
	})
	v21 := h(func(c *call) error {
		return c.json(http.StatusOK, map[string]any{"version": c.versionDoc("v2.1")})
	})
	rt.HandlePublic("GET ", "versions", root)
	rt.HandlePublic("GET /{$}", "versions", root)
	rt.HandlePublic("GET /v2.1", "version", v21)
	rt.HandlePublic("GET /v2.1/{$}", "version", v21)
}
