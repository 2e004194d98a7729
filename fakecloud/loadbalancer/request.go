package loadbalancer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// opt is a request attribute that tells "absent" from "null" from a value, as Octavia's PUT
// semantics need (null resets an attribute to its default).
type opt[T any] struct {
	Set  bool // present in the body (possibly null)
	Null bool // present and null
	V    T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	if err := json.Unmarshal(b, &o.V); err != nil {
		return fmt.Errorf("wrong type: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// has reports that a non-null value was given.
func (o opt[T]) has() bool { return o.Set && !o.Null }

// decodeRoot reads a body of the shape {"<key>": {...}} into dst.
func decodeRoot(r *http.Request, key string, dst any) error {
	var root map[string]json.RawMessage
	if err := httpapi.Decode(r, &root); err != nil {
		return err
	}
	raw, ok := root[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errInput(key, "None", "Mandatory field missing.")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var typ *json.UnmarshalTypeError
		if ok := asTypeError(err, &typ); ok {
			return errInput(typ.Field, typ.Value, fmt.Sprintf("Wrong type. Expected '%s', got '%s'", typ.Type, typ.Value))
		}
		return httpapi.BadRequest("Invalid input for %s: %v", key, err)
	}
	return nil
}

func asTypeError(err error, typ **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*typ = t
	}
	return ok
}

// ---- attribute checks, in wsme's words ----

func checkString(field string, o opt[string], max int) error {
	if o.has() && len(o.V) > max {
		return errInput(field, o.V, fmt.Sprintf("Value should have a maximum character requirement of %d", max))
	}
	return nil
}

func checkEnum(field string, o opt[string], allowed []string) error {
	if o.has() && !slices.Contains(allowed, o.V) {
		return errInput(field, o.V, fmt.Sprintf("Value should be one of: %s", strings.Join(allowed, ", ")))
	}
	return nil
}

func checkRange(field string, o opt[int], lo, hi int) error {
	if !o.has() {
		return nil
	}
	if o.V < lo {
		return errInput(field, o.V, fmt.Sprintf("Value should be greater or equal to %d", lo))
	}
	if hi >= lo && o.V > hi {
		return errInput(field, o.V, fmt.Sprintf("Value should be lower or equal to %d", hi))
	}
	return nil
}

func checkUUID(field string, o opt[string]) error {
	if o.has() && !httpapi.IsUUID(o.V) {
		return errInput(field, o.V, "Invalid UUID value")
	}
	return nil
}

func checkIP(field string, o opt[string]) error {
	if o.has() && net.ParseIP(o.V) == nil {
		return errInput(field, o.V, fmt.Sprintf("Value should be IPv4 or IPv6 format"))
	}
	return nil
}

func checkTags(o opt[[]string]) error {
	if !o.has() {
		return nil
	}
	for _, t := range o.V {
		if len(t) > 255 {
			return errInput("tags", t, "Value should have a maximum character requirement of 255")
		}
	}
	return nil
}

func checkCIDRs(o opt[[]string]) error {
	if !o.has() {
		return nil
	}
	for _, c := range o.V {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return errInput("allowed_cidrs", c, "Value should be a valid CIDR.")
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

var (
	expectedCodesRe = regexp.MustCompile(`^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$`)
	cookieNameRe    = regexp.MustCompile(`^[^\s,;\\]+$`)
)

func orEmpty(o opt[string]) string {
	if o.has() {
		return o.V
	}
	return ""
}

func tagsOf(o opt[[]string]) []string {
	if o.has() {
		return slices.Clone(o.V)
	}
	return nil
}
