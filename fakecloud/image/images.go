package image

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// listQuery is a parsed GET /v2/images request.
type listQuery struct {
	limit   int
	marker  string
	keys    []string
	dirs    []string
	filters url.Values
}

// core filter parameters; any other parameter filters on an extra property.
var coreFilters = map[string]bool{"limit": true, "marker": true, "sort_key": true, "sort_dir": true, "sort": true,
	"name": true, "status": true, "visibility": true, "owner": true, "member_status": true, "tag": true,
	"container_format": true, "disk_format": true, "size_min": true, "size_max": true, "id": true,
	"os_hidden": true, "protected": true, "created_at": true, "updated_at": true, "min_ram": true, "min_disk": true}

func parseList(r *http.Request) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{limit: defaultLimit, marker: q.Get("marker"), filters: q}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return lq, httpapi.BadRequest("limit param must be an integer")
		}
		if n < 0 {
			return lq, httpapi.BadRequest("limit param must be positive")
		}
		lq.limit = min(n, maxLimit)
	}
	if q.Has("sort") {
		if q.Has("sort_key") || q.Has("sort_dir") {
			return lq, httpapi.BadRequest("Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(q.Get("sort"), ",") {
			key, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			if dir == "" {
				dir = "desc"
			}
			lq.keys = append(lq.keys, key)
			lq.dirs = append(lq.dirs, dir)
		}
	} else {
		lq.keys = q["sort_key"]
		lq.dirs = q["sort_dir"]
		if len(lq.keys) == 0 {
			lq.keys = []string{"created_at"}
		}
		if len(lq.dirs) > 1 && len(lq.dirs) != len(lq.keys) {
			return lq, httpapi.BadRequest("Number of sort dirs does not match the number of sort keys")
		}
		if len(lq.dirs) == 0 {
			lq.dirs = []string{"desc"}
		}
		for len(lq.dirs) < len(lq.keys) {
			lq.dirs = append(lq.dirs, lq.dirs[0])
		}
	}
	for i, k := range lq.keys {
		if !slices.Contains(sortKeys, k) {
			return lq, httpapi.BadRequest("Invalid sort key: %s. It must be one of the following: %s.", k, strings.Join(sortKeys, ", "))
		}
		if d := lq.dirs[i]; d != "asc" && d != "desc" {
			return lq, httpapi.BadRequest("Invalid sort direction: %s", d)
		}
	}
	if v := q.Get("visibility"); v != "" && v != "all" && !slices.Contains(visibilities, v) {
		return lq, httpapi.BadRequest("Invalid visibility value: %s", v)
	}
	if v := q.Get("member_status"); v != "" && !slices.Contains([]string{"pending", "accepted", "rejected", "all"}, v) {
		return lq, httpapi.BadRequest("Invalid status: %s", v)
	}
	if v := q.Get("status"); v != "" {
		for _, st := range inValues(v) {
			if !slices.Contains(allStatuses, st) {
				return lq, httpapi.BadRequest("Invalid status value: %s", st)
			}
		}
	}
	for _, name := range []string{"size_min", "size_max"} {
		if v := q.Get(name); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
				return lq, httpapi.BadRequest("Unable to filter on a range with a non-numeric value: %s=%s", name, v)
			}
		}
	}
	for _, name := range []string{"created_at", "updated_at"} {
		if v := q.Get(name); v != "" {
			if _, _, err := parseTimeFilter(v); err != nil {
				return lq, err
			}
		}
	}
	for _, name := range []string{"os_hidden", "protected"} {
		if v := q.Get(name); v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return lq, httpapi.BadRequest("Invalid value for %s: %s. It must be true or false.", name, v)
		}
	}
	return lq, nil
}

// parseTimeFilter reads Glance's "<op>:<ISO 8601 time>" filter on created_at and updated_at;
// a bare time means eq.
func parseTimeFilter(v string) (string, time.Time, error) {
	op, rest := "eq", v
	if o, r, ok := strings.Cut(v, ":"); ok && slices.Contains([]string{"gt", "gte", "lt", "lte", "eq", "neq"}, o) {
		op, rest = o, r
	}
	at, err := time.Parse(time.RFC3339, rest)
	if err != nil {
		return "", time.Time{}, httpapi.BadRequest("Unable to parse datetime '%s'. Please use ISO 8601 formatting (e.g. 2015-07-15T11:43:35Z), optionally with one of the operators gt, gte, lt, lte, eq, neq.", v)
	}
	return op, at.UTC(), nil
}

func compareTime(op string, have, at time.Time) bool {
	switch op {
	case "gt":
		return have.After(at)
	case "gte":
		return !have.Before(at)
	case "lt":
		return have.Before(at)
	case "lte":
		return !have.After(at)
	case "neq":
		return !have.Equal(at)
	}
	return have.Equal(at)
}

// inValues splits Glance's "in:a,b" operator; a plain value is a list of one.
func inValues(v string) []string {
	if rest, ok := strings.CutPrefix(v, "in:"); ok {
		return strings.Split(rest, ",")
	}
	return []string{v}
}

func matchIn(param, value string, q url.Values) bool {
	v := q.Get(param)
	return v == "" || slices.Contains(inValues(v), value)
}

// listed reports whether im belongs in p's listing under the query's filters.
func (s *Service) listed(p *httpapi.Principal, im *Image, q url.Values) bool {
	own := im.Owner == p.ProjectID
	wantMS := q.Get("member_status")
	if wantMS == "" {
		wantMS = MemberAccepted
	}
	status, isMember := s.memberStatus(im.ID, p.ProjectID)
	memberOK := isMember && (wantMS == "all" || status == wantMS)
	sharedOK := im.Visibility != VisibilityShared || own || p.IsAdmin() || memberOK
	switch vis := q.Get("visibility"); vis {
	case "":
		// Glance's default list: everything of one's own, public images, shared images whose
		// membership was accepted, and (for admins) everything; community images of others
		// only when asked for.
		if !p.IsAdmin() && !own && im.Visibility != VisibilityPublic && !(im.Visibility == VisibilityShared && memberOK) {
			return false
		}
	case "all":
		if !s.visible(p, im) || !sharedOK {
			return false
		}
	default:
		if im.Visibility != vis || !s.visible(p, im) || !sharedOK {
			return false
		}
	}
	hidden := strings.EqualFold(q.Get("os_hidden"), "true")
	if im.Hidden != hidden {
		return false
	}
	if v := q.Get("protected"); v != "" && strings.EqualFold(v, "true") != im.Protected {
		return false
	}
	if !matchIn("name", im.NameOr(""), q) || !matchIn("status", im.Status, q) || !matchIn("id", im.ID, q) ||
		!matchIn("container_format", im.ContainerFormat, q) || !matchIn("disk_format", im.DiskFormat, q) {
		return false
	}
	if v := q.Get("owner"); v != "" && im.Owner != v {
		return false
	}
	for _, t := range q["tag"] {
		if !slices.Contains(im.Tags, t) {
			return false
		}
	}
	size := int64(-1)
	if im.Size != nil {
		size = *im.Size
	}
	if v := q.Get("size_min"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		if size < n {
			return false
		}
	}
	if v := q.Get("size_max"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		if size < 0 || size > n {
			return false
		}
	}
	for name, have := range map[string]time.Time{"created_at": im.CreatedAt, "updated_at": im.UpdatedAt} {
		if v := q.Get(name); v != "" {
			op, at, _ := parseTimeFilter(v)
			if !compareTime(op, have.UTC().Truncate(time.Second), at) {
				return false
			}
		}
	}
	for _, name := range []string{"min_ram", "min_disk"} {
		if v := q.Get(name); v != "" {
			have := im.MinRAM
			if name == "min_disk" {
				have = im.MinDisk
			}
			if v != strconv.Itoa(have) {
				return false
			}
		}
	}
	for k, vals := range q {
		if coreFilters[k] {
			continue
		}
		have, ok := im.Properties[k]
		if !ok || !slices.Contains(vals, have) {
			return false
		}
	}
	return true
}

// compare orders two images by the query's sort keys, then by id in the last direction.
func (lq listQuery) compare(a, b *Image) int {
	for i, k := range lq.keys {
		var c int
		switch k {
		case "name":
			c = cmpStr(a.NameOr(""), b.NameOr(""))
		case "status":
			c = cmpStr(a.Status, b.Status)
		case "container_format":
			c = cmpStr(a.ContainerFormat, b.ContainerFormat)
		case "disk_format":
			c = cmpStr(a.DiskFormat, b.DiskFormat)
		case "size":
			as, bs := int64(-1), int64(-1)
			if a.Size != nil {
				as = *a.Size
			}
			if b.Size != nil {
				bs = *b.Size
			}
			c = cmpInt(as, bs)
		case "id":
			c = cmpStr(a.ID, b.ID)
		case "created_at":
			c = a.CreatedAt.Compare(b.CreatedAt)
		case "updated_at":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		if lq.dirs[i] == "desc" {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := cmpStr(a.ID, b.ID)
	if lq.dirs[len(lq.dirs)-1] == "desc" {
		c = -c
	}
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.PrincipalFrom(r.Context())
	lq, err := parseList(r)
	if err != nil {
		return err
	}
	items := s.images.List(func(_ string, im *Image) bool { return s.listed(p, im, lq.filters) })
	slices.SortFunc(items, func(a, b Image) int { return lq.compare(&a, &b) })
	if lq.marker != "" {
		m, ok := s.images.Get(lq.marker)
		if !ok || !s.visible(p, &m) {
			return httpapi.BadRequest("Marker %s could not be found.", lq.marker)
		}
		i, _ := slices.BinarySearchFunc(items, m, func(a, b Image) int { return lq.compare(&a, &b) })
		if i < len(items) && items[i].ID == m.ID {
			i++
		}
		items = items[i:]
	}
	if len(items) > lq.limit {
		items = items[:lq.limit]
	}
	out := make([]map[string]any, len(items))
	for i := range items {
		out[i] = view(&items[i])
	}
	params := r.URL.Query()
	params.Del("marker")
	body := map[string]any{"images": out, "first": "/v2/images", "schema": "/v2/schemas/images"}
	if len(params) > 0 {
		body["first"] = "/v2/images?" + params.Encode()
	}
	if len(items) > 0 && len(items) == lq.limit {
		params.Set("marker", items[len(items)-1].ID)
		body["next"] = "/v2/images?" + params.Encode()
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) error {
	im, _, err := s.lookup(r)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, view(&im))
	return nil
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.PrincipalFrom(r.Context())
	var body map[string]any
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body == nil {
		return httpapi.BadRequest("Body expected in request.")
	}
	now := time.Now().UTC().Truncate(time.Second)
	im := Image{ID: uuid.NewString(), Status: StatusQueued, Visibility: VisibilityShared, Owner: p.ProjectID,
		Tags: []string{}, Properties: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic error reporting
	for _, k := range keys {
		if err := setAttr(p, &im, k, body[k], true); err != nil {
			return err
		}
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.images.Get(im.ID); dup {
			return httpapi.Conflict("Image with identifier %s already exists!", im.ID)
		}
		if s.env.Quotas != nil {
			if limit, ok := s.env.Quotas.Limit(im.Owner, "images"); ok {
				n := s.images.Count(func(_ string, v *Image) bool { return v.Owner == im.Owner })
				if n >= limit {
					return httpapi.OverQuota(http.StatusRequestEntityTooLarge,
						"Maximum number of images exceeded: the limit for project %s is %d.", im.Owner, limit)
				}
			}
		}
		if err := s.images.Put(tx, im.ID, im); err != nil {
			return err
		}
		s.emit(tx, &im, "created", im.NameOr(""))
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v2/images/"+im.ID)
	httpapi.WriteJSON(w, http.StatusCreated, view(&im))
	return nil
}

func (s *Service) delete(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to delete this image.")
	}
	if im.Protected {
		return forbidden("Image %s is protected and cannot be deleted.", im.ID)
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.images.Delete(tx, im.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return notFound(im.ID)
			}
			return err
		}
		if _, ok := s.data.Get(im.ID); ok {
			if err := s.data.Delete(tx, im.ID); err != nil {
				return err
			}
		}
		for _, m := range s.members.List(func(_ string, m *Member) bool { return m.ImageID == im.ID }) {
			if err := s.members.Delete(tx, memberKey(m.ImageID, m.MemberID)); err != nil {
				return err
			}
		}
		s.emit(tx, &im, "deleted", "")
		return nil
	})
	if err != nil {
		return err
	}
	if im.DataKept == "file" {
		_ = os.Remove(s.dataPath(im.ID))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) deactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActive(w, r, false)
}

func (s *Service) reactivate(w http.ResponseWriter, r *http.Request) error {
	return s.setActive(w, r, true)
}

// setActive implements the admin actions deactivate and reactivate.
func (s *Service) setActive(w http.ResponseWriter, r *http.Request, active bool) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	action, want, from := "deactivate", StatusDeactivated, StatusActive
	if active {
		action, want, from = "reactivate", StatusActive, StatusDeactivated
	}
	if !p.IsAdmin() {
		return forbidden("You are not authorized to complete %s action.", action)
	}
	if im.Status == want {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if im.Status != from {
		return forbidden("Not allowed to %s image in status '%s'", action, im.Status)
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		v, err := s.images.Modify(tx, im.ID, func(v *Image) error {
			v.Status = want
			v.UpdatedAt = time.Now().UTC().Truncate(time.Second)
			return nil
		})
		if err != nil {
			return err
		}
		s.emit(tx, &v, "status", want)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
