package loadbalancer

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// auxiliary query parameters are not filters (Octavia's PaginationHelper._auxiliary_arguments).
var auxiliary = map[string]bool{
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true,
	"fields": true, "page_reverse": true,
	"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true,
}

// fields maps the filterable and sortable attributes of a resource to their string form.
type fields[T any] map[string]func(*T) string

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

func fmtTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := fmtTime(*t)
	return &s
}

func sortTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000") }

func boolStr(b bool) string { return strconv.FormatBool(b) }

type sortSpec struct {
	key  string
	desc bool
}

func parseSort(q map[string][]string, valid func(string) bool) ([]sortSpec, error) {
	var out []sortSpec
	checkDir := func(d string) (bool, error) {
		switch strings.ToLower(d) {
		case "", "asc":
			return false, nil
		case "desc":
			return true, nil
		}
		return false, httpapi.Errorf(http.StatusBadRequest, "InvalidSortDirection", "Supplied sort direction '%s' is not valid.", strings.ToLower(d))
	}
	if s := first(q["sort"]); s != "" {
		for _, kd := range strings.Split(s, ",") {
			k, d, _ := strings.Cut(kd, ":")
			desc, err := checkDir(d)
			if err != nil {
				return nil, err
			}
			out = append(out, sortSpec{k, desc})
		}
	} else if s := first(q["sort_key"]); s != "" {
		dirs := strings.Split(first(q["sort_dir"]), ",")
		for i, k := range strings.Split(s, ",") {
			d := ""
			if i < len(dirs) {
				d = dirs[i]
			}
			desc, err := checkDir(d)
			if err != nil {
				return nil, err
			}
			out = append(out, sortSpec{k, desc})
		}
	}
	for _, sp := range out {
		if !valid(sp.key) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "InvalidSortKey", "Supplied sort key '%s' is not valid.", sp.key)
		}
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(out, func(sp sortSpec) bool { return sp.key == k }) {
			out = append(out, sortSpec{key: k})
		}
	}
	return out, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// writeList answers a list request with one page of listRows, each row shown through view,
// under key and key+"_links" as Octavia does.
func writeList[T any, PT row[T], V any](w http.ResponseWriter, r *http.Request, key string, t *store.Table[T], fs fields[T],
	tags func(*T) []string, scope func(*T) bool, cand func(map[string][]string) ([]string, bool), view func(T) V) error {
	rows, links, err := listRows[T, PT](r, t, fs, tags, scope, cand)
	if err != nil {
		return err
	}
	out := make([]V, len(rows))
	for i, x := range rows {
		out[i] = view(x)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{key: out, key + "_links": links})
	return nil
}

// row is what listRows needs of a stored type beside its fields.
type row[T any] interface {
	*T
	created() time.Time
}

// listRows returns one page of the rows of t that scope admits and the request's filters
// match, and the page's links. It decodes only the rows of the page.
//
// cand, when not nil, may narrow the rows to examine from an index (returning ok); those rows
// are decoded and matched like the others.
func listRows[T any, PT row[T]](r *http.Request, t *store.Table[T], fs fields[T], tags func(*T) []string, scope func(*T) bool, cand func(map[string][]string) ([]string, bool)) ([]T, []map[string]string, error) {
	q := r.URL.Query()
	type filter struct {
		get  func(*T) string
		vals []string
	}
	var filters []filter
	for k, vals := range q {
		if auxiliary[k] {
			continue
		}
		get, ok := fs[k]
		if !ok {
			return nil, nil, httpapi.Errorf(http.StatusBadRequest, "InvalidFilterArgument", "One or more arguments are either duplicate or invalid")
		}
		filters = append(filters, filter{get, vals})
	}
	sorts, err := parseSort(q, func(k string) bool { _, ok := fs[k]; return ok })
	if err != nil {
		return nil, nil, err
	}
	limit := maxPageLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, nil, httpapi.Errorf(http.StatusBadRequest, "InvalidLimit", "Supplied pagination limit '%s' is not valid.", s)
		}
		if n > 0 {
			limit = min(n, maxPageLimit)
		}
	}
	tf := parseTagFilter(q)
	type hit struct {
		id      string
		created int64    // created_at, in ns
		keys    []string // the other sort keys, by position in sorts
		val     *T       // decoded already (index path), or nil
	}
	var hits []hit
	match := func(v *T) bool {
		if scope != nil && !scope(v) {
			return false
		}
		for _, f := range filters {
			got := f.get(v)
			if !slices.ContainsFunc(f.vals, func(w string) bool { return strings.EqualFold(w, got) }) {
				return false
			}
		}
		return tags == nil || !tf.active || tf.match(tags(v))
	}
	custom := slices.ContainsFunc(sorts, func(sp sortSpec) bool { return sp.key != "created_at" && sp.key != "id" })
	keysOf := func(v *T) []string {
		if !custom {
			return nil
		}
		keys := make([]string, len(sorts))
		for i, sp := range sorts {
			if sp.key != "created_at" && sp.key != "id" {
				keys[i] = fs[sp.key](v)
			}
		}
		return keys
	}
	var ids []string
	narrowed := false
	if cand != nil {
		ids, narrowed = cand(q)
	}
	if narrowed {
		for _, id := range ids {
			v, ok := t.Get(id)
			if ok && match(&v) {
				hits = append(hits, hit{id, PT(&v).created().UnixNano(), keysOf(&v), &v})
			}
		}
	} else {
		hits = make([]hit, 0, t.Len())
		t.List(func(id string, v *T) bool {
			if match(v) {
				hits = append(hits, hit{id: id, created: PT(v).created().UnixNano(), keys: keysOf(v)})
			}
			return false
		})
	}
	order := func(a, b hit) int {
		for i, sp := range sorts {
			var c int
			switch sp.key {
			case "created_at":
				c = cmp.Compare(a.created, b.created)
			case "id":
				c = strings.Compare(a.id, b.id)
			default:
				c = strings.Compare(a.keys[i], b.keys[i])
			}
			if sp.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	if m := q.Get("marker"); m != "" {
		i := slices.IndexFunc(hits, func(h hit) bool { return h.id == m })
		if i < 0 {
			return nil, nil, httpapi.Errorf(http.StatusBadRequest, "InvalidMarker", "Supplied pagination marker '%s' is not valid.", m)
		}
		mark := hits[i]
		hits = slices.DeleteFunc(hits, func(h hit) bool { return order(h, mark) <= 0 })
	}
	full := len(hits) > limit
	hits = smallest(hits, limit, order)
	out := make([]T, 0, len(hits))
	for _, h := range hits {
		if h.val != nil {
			out = append(out, *h.val)
		} else if v, ok := t.Get(h.id); ok {
			out = append(out, v)
		}
	}
	links := []map[string]string{}
	if full && len(hits) > 0 {
		links = httpapi.Links(r, hits[len(hits)-1].id)
	}
	return out, links, nil
}

// listScope decides which project's objects a list shows: for an admin all of them, or those
// of the project_id asked; for anyone else their own (asking for another project is a 403, as
// Octavia's policy answers). The project_id filter itself is applied by listRows.
func listScope(r *http.Request) (project string, err error) {
	p := httpapi.PrincipalFrom(r.Context())
	if p == nil {
		return "", errForbidden()
	}
	asked := r.URL.Query().Get("project_id")
	if p.IsAdmin() {
		return "", nil
	}
	if asked != "" && asked != p.ProjectID {
		return "", errForbidden()
	}
	return p.ProjectID, nil
}

type idOnly struct {
	ID string `json:"id"`
}

func idsOf(ids []string) []idOnly {
	out := make([]idOnly, len(ids))
	for i, id := range ids {
		out[i] = idOnly{id}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tagFilter is Neutron-style tags, tags-any, not-tags and not-tags-any filtering, parsed once
// per request.
type tagFilter struct {
	active                     bool
	all, anyOf, notAll, notAny []string
}

func parseTagFilter(q map[string][]string) tagFilter {
	split := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			for _, t := range strings.Split(v, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	f := tagFilter{all: split("tags"), anyOf: split("tags-any"), notAll: split("not-tags"), notAny: split("not-tags-any")}
	f.active = len(f.all)+len(f.anyOf)+len(f.notAll)+len(f.notAny) > 0
	return f
}

func (f tagFilter) match(have []string) bool {
	hasAll := func(ts []string) bool {
		for _, t := range ts {
			if !slices.Contains(have, t) {
				return false
			}
		}
		return true
	}
	hasAny := func(ts []string) bool {
		return slices.ContainsFunc(ts, func(t string) bool { return slices.Contains(have, t) })
	}
	if len(f.all) > 0 && !hasAll(f.all) {
		return false
	}
	if len(f.anyOf) > 0 && !hasAny(f.anyOf) {
		return false
	}
	if len(f.notAll) > 0 && hasAll(f.notAll) {
		return false
	}
	if len(f.notAny) > 0 && hasAny(f.notAny) {
		return false
	}
	return true
}

// smallest returns the k first items of hits in order, sorted: a bounded heap, so that a page
// of a long list costs O(n log k) rather than a sort of everything.
func smallest[H any](hits []H, k int, order func(a, b H) int) []H {
	if len(hits) <= k || k <= 0 {
		slices.SortFunc(hits, order)
		return hits
	}
	// heap[0] is the largest of the k smallest seen so far.
	heap := slices.Clone(hits[:k])
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < k && order(heap[l], heap[big]) > 0 {
				big = l
			}
			if r := l + 1; r < k && order(heap[r], heap[big]) > 0 {
				big = r
			}
			if big == i {
				return
			}
			heap[i], heap[big] = heap[big], heap[i]
			i = big
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, h := range hits[k:] {
		if order(h, heap[0]) < 0 {
			heap[0] = h
			down(0)
		}
	}
	slices.SortFunc(heap, order)
	return heap
}
