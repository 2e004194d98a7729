package baremetal

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// Response and request headers of Ironic's microversions.
const (
	hdrVersion = "X-OpenStack-Ironic-API-Version"
	hdrMin     = "X-OpenStack-Ironic-API-Minimum-Version"
	hdrMax     = "X-OpenStack-Ironic-API-Maximum-Version"
)

type versionKey struct{}

// minor returns the negotiated API minor version of a request (1.<minor>).
func minor(r *http.Request) int {
	if v, ok := r.Context().Value(versionKey{}).(int); ok {
		return v
	}
	return minMinor
}

// parseVersion reads the requested microversion: X-OpenStack-Ironic-API-Version, or
// OpenStack-API-Version: baremetal 1.x; none means the minimum (1.1), "latest" the maximum.
func parseVersion(r *http.Request) (int, error) {
	raw := strings.TrimSpace(r.Header.Get(hdrVersion))
	if raw == "" {
		for _, h := range r.Header.Values("OpenStack-API-Version") {
			for _, part := range strings.Split(h, ",") {
				if svc, v, ok := strings.Cut(strings.TrimSpace(part), " "); ok && strings.EqualFold(svc, "baremetal") {
					raw = strings.TrimSpace(v)
				}
			}
		}
	}
	if raw == "" {
		return minMinor, nil
	}
	if strings.EqualFold(raw, "latest") {
		return maxMinor, nil
	}
	majS, minS, ok := strings.Cut(raw, ".")
	maj, err1 := strconv.Atoi(majS)
	n, err2 := strconv.Atoi(minS)
	if !ok || err1 != nil || err2 != nil || maj < 0 || n < 0 {
		return 0, httpapi.BadRequest("Invalid value for %s header: %s", hdrVersion, raw)
	}
	if maj != 1 || n < minMinor || n > maxMinor {
		return 0, notAcceptable(raw)
	}
	return n, nil
}

func notAcceptable(raw string) error {
	return httpapi.Errorf(http.StatusNotAcceptable, "NotAcceptable",
		"Version %s was requested but the minor version is not supported by this service. The supported version range is: [1.%d, 1.%d].",
		raw, minMinor, maxMinor)
}

// versioned wraps a handler of the v1 API: it negotiates the microversion, answers with
// Ironic's version headers, and makes the version available through minor(r).
func versioned(h httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set(hdrMin, fmt.Sprintf("1.%d", minMinor))
		w.Header().Set(hdrMax, fmt.Sprintf("1.%d", maxMinor))
		w.Header().Add("Vary", hdrVersion)
		v, err := parseVersion(r)
		if err != nil {
			w.Header().Set(hdrVersion, fmt.Sprintf("1.%d", minMinor))
			return err
		}
		w.Header().Set(hdrVersion, fmt.Sprintf("1.%d", v))
		return h(w, r.WithContext(context.WithValue(r.Context(), versionKey{}, v)))
	}
}

// base returns the URL of the baremetal endpoint as the client reached it.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/baremetal"
}

func versionObject(r *http.Request) map[string]any {
	return map[string]any{
		"id":          "v1",
		"links":       []map[string]string{{"href": base(r) + "/v1/", "rel": "self"}},
		"status":      "CURRENT",
		"min_version": fmt.Sprintf("1.%d", minMinor),
		"version":     fmt.Sprintf("1.%d", maxMinor),
	}
}

// root answers GET /baremetal/: Ironic's list of API versions.
func (s *Service) root(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set(hdrMin, fmt.Sprintf("1.%d", minMinor))
	w.Header().Set(hdrMax, fmt.Sprintf("1.%d", maxMinor))
	v := versionObject(r)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"name":            "OpenStack Ironic API",
		"description":     "Ironic is an OpenStack project which enables the provision and management of baremetal machines.",
		"default_version": v,
		"versions":        []any{v},
	})
	return nil
}

// v1 answers GET /baremetal/v1: the v1 document with links to every resource.
func (s *Service) v1(w http.ResponseWriter, r *http.Request) error {
	link := func(name string) []map[string]string {
		return []map[string]string{
			{"href": base(r) + "/v1/" + name + "/", "rel": "self"},
			{"href": base(r) + "/" + name + "/", "rel": "bookmark"},
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"id": "v1",
		"links": []map[string]string{
			{"href": base(r) + "/v1/", "rel": "self"},
			{"href": "https://docs.openstack.org/ironic/latest/contributor/webapi.html", "rel": "describedby", "type": "text/html"},
		},
		"media_types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"}},
		"chassis":     link("chassis"),
		"nodes":       link("nodes"),
		"ports":       link("ports"),
		"drivers":     link("drivers"),
		"version":     versionObject(r),
	})
	return nil
}
