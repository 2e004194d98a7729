package network

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// fieldsOfT maps a filterable query parameter to the value of that field of a T.
type fieldsOfT[T any] map[string]func(v *T) string

// matcher is a list filter compiled once per request: only the parameters present are
// checked for each row, so filtering 10,000 rows costs a few closures each.
type matcher[T any] struct {
	preds []func(v *T) bool
}

// ignored query parameters: paging, field selection, sorting and tags (handled apart).
var notFilters = map[string]bool{"fields": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true,
	"page_reverse": true, "tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true, "all_tenants": true}

// newMatcher compiles the request's filters on fields; tags gives a row's tags (nil when the
// resource has none). Unknown parameters are ignored.
func newMatcher[T any](r *http.Request, fields fieldsOfT[T], tags func(v *T) []string) *matcher[T] {
	m := &matcher[T]{}
	q := r.URL.Query()
	for name, vals := range q {
		if notFilters[name] {
			continue
		}
		get, ok := fields[name]
		if !ok {
			continue
		}
		if len(vals) == 1 {
			want := vals[0]
			if strings.EqualFold(want, "true") || strings.EqualFold(want, "false") {
				want = strings.ToLower(want) // booleans: True, true
			}
			m.preds = append(m.preds, func(v *T) bool { return get(v) == want })
			continue
		}
		allowed := make(map[string]bool, len(vals))
		for _, v := range vals {
			if strings.EqualFold(v, "true") || strings.EqualFold(v, "false") {
				v = strings.ToLower(v)
			}
			allowed[v] = true
		}
		m.preds = append(m.preds, func(v *T) bool { return allowed[get(v)] })
	}
	if tags != nil {
		for _, k := range []string{"tags", "tags-any", "not-tags", "not-tags-any"} {
			if q.Has(k) {
				f := httpapi.NewFilter(r)
				m.preds = append(m.preds, func(v *T) bool { return f.Tags(tags(v)) })
				break
			}
		}
	}
	return m
}

// visible returns a fast "does the caller see project" check for list scans.
func visible(p *httpapi.Principal) func(project string) bool {
	if p.IsAdmin() {
		return func(string) bool { return true }
	}
	own := p.ProjectID
	return func(project string) bool { return project == own }
}

// add appends a custom predicate.
func (m *matcher[T]) add(p func(v *T) bool) { m.preds = append(m.preds, p) }

// match reports whether v passes every filter.
func (m *matcher[T]) match(v *T) bool {
	for _, p := range m.preds {
		if !p(v) {
			return false
		}
	}
	return true
}

func fmtBool(b bool) string { return strconv.FormatBool(b) }

// flexInt is an integer field that, as Neutron's convert_to_int, also accepts a numeric
// string ("1400"): the openstack CLI sends some numbers that way.
type flexInt int

// UnmarshalJSON accepts 5 and "5".
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return httpapi.BadRequest("Invalid input: '%s' is not an integer.", s)
	}
	*f = flexInt(n)
	return nil
}

func intPtr(f *flexInt) *int {
	if f == nil {
		return nil
	}
	v := int(*f)
	return &v
}
