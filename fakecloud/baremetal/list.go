package baremetal

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

const maxLimit = 1000

// listParams are the paging, sorting and field-selection parameters of Ironic's lists.
type listParams struct {
	limit   int
	marker  string
	sortKey string
	desc    bool
	fields  []string // nil: the list's default fields
}

// parseListParams reads limit, marker, sort_key, sort_dir, fields and detail. all are the
// resource's fields, short its fields without details, version the microversion adding a
// field; unsortable fields cannot be sort keys.
func parseListParams(r *http.Request, detail bool, all, short []string, version map[string]int, unsortable map[string]bool) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{limit: maxLimit, marker: q.Get("marker"), sortKey: q.Get("sort_key")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return lp, httpapi.BadRequest("Invalid input for field/attribute limit. Value: '%s'. Wrong type. Expected 'int', got 'str'", s)
		}
		if n < 0 {
			return lp, httpapi.BadRequest("Limit must be positive")
		}
		if n > 0 {
			lp.limit = min(n, maxLimit)
		}
	}
	if lp.marker != "" && !httpapi.IsUUID(lp.marker) {
		return lp, httpapi.BadRequest("Expected a UUID but received %s.", lp.marker)
	}
	lp.marker = strings.ToLower(lp.marker)
	switch d := q.Get("sort_dir"); d {
	case "", "asc":
	case "desc":
		lp.desc = true
	default:
		return lp, httpapi.BadRequest("Invalid sort direction: %s. Acceptable values are 'asc' or 'desc'", d)
	}
	if lp.sortKey != "" && (!slices.Contains(all, lp.sortKey) || unsortable[lp.sortKey] || minor(r) < version[lp.sortKey]) {
		return lp, httpapi.BadRequest("The sort_key value \"%s\" is an invalid field for sorting", lp.sortKey)
	}
	wantDetail := detail
	if s := q.Get("detail"); s != "" {
		if detail {
			return lp, httpapi.BadRequest("Invalid input for field/attribute detail. The detail parameter can not be used with the /detail resource.")
		}
		b, err := parseBool("detail", s)
		if err != nil {
			return lp, err
		}
		wantDetail = b
	}
	if s := q.Get("fields"); s != "" {
		if wantDetail {
			return lp, httpapi.BadRequest("Can not specify ?detail=True and fields in the same request.")
		}
		var bad []string
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if !slices.Contains(all, f) || minor(r) < version[f] {
				bad = append(bad, f)
				continue
			}
			lp.fields = append(lp.fields, f)
		}
		if len(bad) > 0 {
			return lp, httpapi.BadRequest("Field(s) \"%s\" are not valid", strings.Join(bad, ", "))
		}
	} else if wantDetail {
		lp.fields = all
	} else {
		lp.fields = short
	}
	return lp, nil
}

// sortString renders a view value so that string order is the API's order.
func sortString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

// page sorts items (with full views), applies the marker and limit, and returns the page and
// the value of Ironic's "next" link ("" on the last page).
func page[T any](r *http.Request, lp listParams, items []T, id func(*T) string, created func(*T) string, full func(*T) map[string]any, collection string) ([]T, string, error) {
	key := func(t *T) string {
		if lp.sortKey == "" || lp.sortKey == "id" {
			return created(t)
		}
		return sortString(full(t)[lp.sortKey])
	}
	keys := make(map[string]string, len(items))
	for i := range items {
		keys[id(&items[i])] = key(&items[i])
	}
	cmp := func(a, b *T) int {
		c := strings.Compare(keys[id(a)], keys[id(b)])
		if c == 0 {
			c = strings.Compare(id(a), id(b))
		}
		if lp.desc {
			c = -c
		}
		return c
	}
	slices.SortFunc(items, func(a, b T) int { return cmp(&a, &b) })
	if lp.marker != "" {
		i := slices.IndexFunc(items, func(t T) bool { return id(&t) == lp.marker })
		if i < 0 {
			return nil, "", httpapi.Errorf(http.StatusNotFound, "NotFound", "Marker %s could not be found.", lp.marker)
		}
		items = items[i+1:]
	}
	next := ""
	if len(items) > lp.limit {
		items = items[:lp.limit]
	}
	if len(items) == lp.limit && len(items) > 0 {
		q := r.URL.Query()
		q.Set("limit", strconv.Itoa(lp.limit))
		q.Set("marker", id(&items[len(items)-1]))
		next = base(r) + "/v1/" + collection + "?" + q.Encode()
	}
	return items, next, nil
}
