package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// MaxBody is the largest request body accepted; larger ones get 413, as Nova answers.
const MaxBody = 1 << 20

// Decode reads r's JSON body into dst. A body over MaxBody is a 413; malformed JSON, a value of
// the wrong type or trailing data is a 400 that says where.
func Decode(r *http.Request, dst any) error {
	return decode(r, dst, false)
}

// DecodeStrict is Decode that also refuses unknown fields, for APIs that validate their schema
// with additionalProperties: false.
func DecodeStrict(r *http.Request, dst any) error {
	return decode(r, dst, true)
}

func decode(r *http.Request, dst any, strict bool) error {
	if r.Body == nil {
		return BadRequest("The request body is empty; a JSON object was expected.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return BadRequest("Could not read the request body: %v", err)
	}
	if len(body) > MaxBody {
		return Errorf(http.StatusRequestEntityTooLarge, "RequestTooLarge", "Request is too large: the body exceeds %d bytes.", MaxBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return BadRequest("The request body is empty; a JSON object was expected.")
	}
	return unmarshal(body, dst, strict)
}

// Unmarshal decodes one JSON value (a part of a request body, such as one item of a bulk
// create) into dst, with Decode's 400s.
func Unmarshal(data []byte, dst any) error {
	return unmarshal(data, dst, false)
}

func unmarshal(body []byte, dst any, strict bool) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return BadRequest("Malformed request body: invalid JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return BadRequest("Invalid input for field %q: expected %s, got %s.", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return BadRequest("Additional properties are not allowed: %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return BadRequest("Malformed request body: %v", err)
		}
	}
	if dec.More() {
		return BadRequest("Malformed request body: data after the JSON object.")
	}
	return nil
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID (with or without dashes, as OpenStack accepts).
func IsUUID(s string) bool { return uuidRe.MatchString(s) }

// RequireUUID returns a 400 naming field when s is not a UUID.
func RequireUUID(field, s string) error {
	if !IsUUID(s) {
		return BadRequest("Invalid input for %s: '%s' is not a valid UUID.", field, s)
	}
	return nil
}
