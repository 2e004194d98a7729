package network

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// maxTagLen is Neutron's limit on the length of one tag.
const maxTagLen = 60

func itoa(n int) string { return strconv.Itoa(n) }

// checkTags validates tags as Neutron does.
func checkTags(tags []string) error {
	for _, t := range tags {
		if err := checkTag(t); err != nil {
			return err
		}
	}
	return nil
}

func checkTag(t string) error {
	if t == "" || len(t) > maxTagLen || strings.Contains(t, ",") {
		return httpapi.BadRequest("Invalid input for tags. Reason: '%s' is not a valid tag: 1 to %d characters without commas.", t, maxTagLen)
	}
	return nil
}

// dedupTags returns tags without repeats, in order, never nil.
func dedupTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// tagResult is what a tag operation decided: the new tags (when changed) and the answer.
type tagResult struct {
	next    []string
	changed bool
	status  int
	body    any
}

type tagFunc func(r *http.Request, tags []string) (tagResult, error)

// tagHandler serves /v2.0/{resource}/{id}/tags[/{tag}] for one resource kind: fn reads the
// current tags and decides the new ones and the answer, written once the change is committed.
func (s *Service) tagHandler(resource string, fn tagFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		p := caller(r)
		write := r.Method != http.MethodGet
		var res tagResult
		err := s.env.DB.Update(func(tx *store.Tx) error {
			tags, err := s.readTags(p, resource, id, write)
			if err != nil {
				return err
			}
			if res, err = fn(r, tags); err != nil || !res.changed {
				return err
			}
			return s.writeTags(tx, resource, id, res.next)
		})
		if err != nil {
			return err
		}
		if res.body == nil {
			w.WriteHeader(res.status)
			return nil
		}
		httpapi.WriteJSON(w, res.status, res.body)
		return nil
	}
}

// readTags returns the tags of a resource the caller sees (and, to write, owns).
func (s *Service) readTags(p *httpapi.Principal, resource, id string, write bool) ([]string, error) {
	var tags []string
	var project string
	var err error
	switch resource {
	case "networks":
		var n Network
		n, err = s.visibleNetwork(p, id)
		tags, project = n.Tags, n.Project
	case "subnets":
		var sn Subnet
		sn, err = s.visibleSubnet(p, id)
		tags, project = sn.Tags, sn.Project
	case "ports":
		var port Port
		port, err = s.visiblePort(p, id)
		tags, project = port.Tags, port.Project
	case "routers":
		var rt Router
		rt, err = s.visibleRouter(p, id)
		tags, project = rt.Tags, rt.Project
	case "floatingips":
		var f FloatingIP
		f, err = s.visibleFIP(p, id)
		tags, project = f.Tags, f.Project
	case "security-groups":
		var g SecurityGroup
		g, err = s.visibleSG(p, id)
		tags, project = g.Tags, g.Project
	default:
		return nil, httpapi.NotFound("Resource", resource)
	}
	if err != nil {
		return nil, err
	}
	if write && !p.Sees(project) {
		return nil, httpapi.Forbidden("Changing the tags of %s %s is disallowed by policy", resource, id)
	}
	return nonNil(tags), nil
}

func (s *Service) writeTags(tx *store.Tx, resource, id string, tags []string) error {
	var err error
	t := now()
	switch resource {
	case "networks":
		_, err = s.networks.Modify(tx, id, func(v *Network) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	case "subnets":
		_, err = s.subnets.Modify(tx, id, func(v *Subnet) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	case "ports":
		_, err = s.ports.Modify(tx, id, func(v *Port) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	case "routers":
		_, err = s.routers.Modify(tx, id, func(v *Router) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	case "floatingips":
		_, err = s.fips.Modify(tx, id, func(v *FloatingIP) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	case "security-groups":
		_, err = s.sgs.Modify(tx, id, func(v *SecurityGroup) error { v.Tags, v.Updated = tags, t; v.Revision++; return nil })
	}
	return err
}

func (s *Service) listTags(_ *http.Request, tags []string) (tagResult, error) {
	return tagResult{status: http.StatusOK, body: map[string]any{"tags": tags}}, nil
}

func (s *Service) replaceTags(r *http.Request, _ []string) (tagResult, error) {
	var body struct {
		Tags *[]string `json:"tags"`
	}
	if err := httpapi.Decode(r, &body); err != nil {
		return tagResult{}, err
	}
	if body.Tags == nil {
		return tagResult{}, httpapi.BadRequest("Invalid input: the body must be {\"tags\": [...]}.")
	}
	if err := checkTags(*body.Tags); err != nil {
		return tagResult{}, err
	}
	next := dedupTags(*body.Tags)
	return tagResult{next: next, changed: true, status: http.StatusOK, body: map[string]any{"tags": next}}, nil
}

func (s *Service) clearTags(_ *http.Request, _ []string) (tagResult, error) {
	return tagResult{next: []string{}, changed: true, status: http.StatusNoContent}, nil
}

func (s *Service) checkTag(r *http.Request, tags []string) (tagResult, error) {
	t := r.PathValue("tag")
	if !slices.Contains(tags, t) {
		return tagResult{}, httpapi.Errorf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found for %s.", t, r.PathValue("id"))
	}
	return tagResult{status: http.StatusNoContent}, nil
}

func (s *Service) addTag(r *http.Request, tags []string) (tagResult, error) {
	t := r.PathValue("tag")
	if err := checkTag(t); err != nil {
		return tagResult{}, err
	}
	if slices.Contains(tags, t) {
		return tagResult{status: http.StatusCreated}, nil
	}
	return tagResult{next: append(tags, t), changed: true, status: http.StatusCreated}, nil
}

func (s *Service) deleteTag(r *http.Request, tags []string) (tagResult, error) {
	t := r.PathValue("tag")
	i := slices.Index(tags, t)
	if i < 0 {
		return tagResult{}, httpapi.Errorf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found for %s.", t, r.PathValue("id"))
	}
	return tagResult{next: slices.Delete(tags, i, i+1), changed: true, status: http.StatusNoContent}, nil
}
