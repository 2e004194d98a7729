package httpapi

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Page is one page of a listing: the items and, when more remain, the marker of the last.
type Page[T any] struct {
	Items []T
	Next  string // the marker for the next page; "" when this is the last page
}

// Paginate sorts items by key and returns the page after marker with at most limit items,
// from the request's "limit" and "marker" query parameters. An unknown marker is a 400, and
// so is a limit that is not a non-negative integer.
func Paginate[T any](r *http.Request, items []T, key func(T) string) (Page[T], error) {
	q := r.URL.Query()
	limit := -1
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Page[T]{}, BadRequest("Invalid input for query parameter limit: %q is not a non-negative integer.", s)
		}
		limit = n
	}
	sort.Slice(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	if m := q.Get("marker"); m != "" {
		i := sort.Search(len(items), func(i int) bool { return key(items[i]) >= m })
		if i == len(items) || key(items[i]) != m {
			return Page[T]{}, BadRequest("marker [%s] not found", m)
		}
		items = items[i+1:]
	}
	if limit >= 0 && len(items) > limit {
		if limit == 0 {
			return Page[T]{Items: []T{}}, nil
		}
		return Page[T]{Items: items[:limit], Next: key(items[limit-1])}, nil
	}
	return Page[T]{Items: items}, nil
}

// NextLink returns the request's own URL with marker set to next: the "next" link of a page.
func NextLink(r *http.Request, next string) string {
	u := *r.URL
	q := u.Query()
	q.Set("marker", next)
	u.RawQuery = q.Encode()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + u.RequestURI()
}

// Links returns the OpenStack "<collection>_links" value for a page: a next link or nothing.
func Links(r *http.Request, next string) []map[string]string {
	if next == "" {
		return []map[string]string{}
	}
	return []map[string]string{{"rel": "next", "href": NextLink(r, next)}}
}

// Filter matches a resource's fields against the request's query parameters. Each field the
// resource offers for filtering is given by name; parameters not offered are ignored, as
// Nova does for unknown filters.
type Filter struct {
	q url.Values
}

// NewFilter reads the request's query parameters.
func NewFilter(r *http.Request) Filter { return Filter{q: r.URL.Query()} }

// Str reports whether value passes the filter on name: true when the parameter is absent,
// otherwise when value equals one of the given values (Neutron allows repeats).
func (f Filter) Str(name, value string) bool {
	vals, ok := f.q[name]
	if !ok {
		return true
	}
	for _, v := range vals {
		if v == value {
			return true
		}
	}
	return false
}

// Bool is Str for a boolean field ("true"/"false", case-insensitive).
func (f Filter) Bool(name string, value bool) bool {
	v := f.q.Get(name)
	if v == "" {
		return true
	}
	return strings.EqualFold(v, strconv.FormatBool(value))
}

// Tags implements Neutron's tags, tags-any, not-tags and not-tags-any filters.
func (f Filter) Tags(have []string) bool {
	set := map[string]bool{}
	for _, t := range have {
		set[t] = true
	}
	split := func(name string) []string {
		var out []string
		for _, v := range f.q[name] {
			for _, t := range strings.Split(v, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	all := func(ts []string) bool {
		for _, t := range ts {
			if !set[t] {
				return false
			}
		}
		return true
	}
	anyOf := func(ts []string) bool {
		for _, t := range ts {
			if set[t] {
				return true
			}
		}
		return false
	}
	if ts := split("tags"); len(ts) > 0 && !all(ts) {
		return false
	}
	if ts := split("tags-any"); len(ts) > 0 && !anyOf(ts) {
		return false
	}
	if ts := split("not-tags"); len(ts) > 0 && all(ts) {
		return false
	}
	if ts := split("not-tags-any"); len(ts) > 0 && anyOf(ts) {
		return false
	}
	return true
}

// Get returns the first value of a query parameter.
func (f Filter) Get(name string) string { return f.q.Get(name) }

// Has reports whether a query parameter is present.
func (f Filter) Has(name string) bool { _, ok := f.q[name]; return ok }
