package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Style is the shape of a service's error bodies: each OpenStack service has its own.
type Style int

// The error body styles of the services fakecloud serves.
const (
	StyleKeystone Style = iota // {"error": {"code", "title", "message"}}
	StyleNova                  // {"itemNotFound": {"code", "message"}}
	StyleNeutron               // {"NeutronError": {"type", "message", "detail"}}
	StyleOctavia               // {"faultcode", "faultstring", "debuginfo"}
	StyleGlance                // {"code", "title", "message"} (glance's webob JSON)
	StyleIronic                // {"error_message": "<JSON string of faultcode/faultstring>"}
)

// Error is an API error: an HTTP status, a type name for services that report one (Neutron's
// "NetworkNotFound"), and a message for the user.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

// Errorf builds an *Error.
func Errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with the given message.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "BadRequest", format, args...)
}

// NotFound is a 404 naming the kind and id that do not exist (for this caller).
func NotFound(kind, id string) *Error {
	return Errorf(http.StatusNotFound, typeName(kind)+"NotFound", "%s %s could not be found.", kind, id)
}

// Conflict is a 409 with the given message.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "Conflict", format, args...)
}

// Forbidden is a 403 with the given message.
func Forbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, "PolicyNotAuthorized", format, args...)
}

// OverQuota is a 413 (Nova, Octavia) or 409 (Neutron) quota error; services pick the status.
func OverQuota(status int, format string, args ...any) *Error {
	return Errorf(status, "OverQuota", format, args...)
}

func typeName(kind string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(kind, func(r rune) bool { return r == ' ' || r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// AsError converts any error to an *Error: *Error passes through, store.ErrNotFound becomes
// 404, anything else 500.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "NotFound", "%s", err.Error())
	}
	return Errorf(http.StatusInternalServerError, "InternalError", "%s", err.Error())
}

var novaKeys = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable",
}

// WriteError writes err as the given style's JSON error body with its status code.
func WriteError(w http.ResponseWriter, style Style, err error) {
	e := AsError(err)
	title := http.StatusText(e.Status)
	var body any
	switch style {
	case StyleNova:
		key, ok := novaKeys[e.Status]
		if !ok {
			key = "computeFault"
		}
		body = map[string]any{key: map[string]any{"code": e.Status, "message": e.Message}}
	case StyleNeutron:
		body = map[string]any{"NeutronError": map[string]any{"type": e.Type, "message": e.Message, "detail": ""}}
	case StyleOctavia:
		code := "Client"
		if e.Status >= 500 {
			code = "Server"
		}
		body = map[string]any{"faultcode": code, "faultstring": e.Message, "debuginfo": nil}
	case StyleIronic:
		code := "Client"
		if e.Status >= 500 {
			code = "Server"
		}
		inner, _ := json.Marshal(map[string]any{"faultcode": code, "faultstring": e.Message, "debuginfo": nil})
		body = map[string]any{"error_message": string(inner)}
	case StyleGlance:
		body = map[string]any{"code": e.Status, "title": title, "message": e.Message}
	default:
		body = map[string]any{"error": map[string]any{"code": e.Status, "title": title, "message": e.Message}}
	}
	WriteJSON(w, e.Status, body)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil && status != http.StatusNoContent {
		_ = json.NewEncoder(w).Encode(v)
	}
}
