package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"
)

// RequestIDHeader carries the request id every OpenStack service returns.
const RequestIDHeader = "X-Openstack-Request-Id"

// Op names one API operation, e.g. {Service: "compute", Name: "server.create"}. Faults match
// on it and the event log reports it.
type Op struct {
	Service string
	Name    string
}

func (o Op) String() string { return o.Service + ":" + o.Name }

// Authenticator turns an X-Auth-Token into a Principal (Keystone implements it).
type Authenticator interface {
	Authenticate(token string) (*Principal, error)
}

// Gate runs before every operation; it may delay the request, or answer it itself (an
// injected error or outage), in which case it returns true. The fault injector implements it.
type Gate interface {
	Intercept(w http.ResponseWriter, r *http.Request, op Op, style Style) bool
}

// HandlerFunc is an API handler: it writes a success response, or returns an error that the
// router writes in the service's error style.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Router registers one service's routes on a shared mux.
type Router struct {
	Mux     *http.ServeMux
	Service string // compute, network, load-balancer, image, baremetal, identity
	Prefix  string // the path prefix of the service's endpoint, e.g. "/compute"
	Style   Style
	Auth    Authenticator
	Gate    Gate // may be nil
	Log     *slog.Logger

	fallback bool // the unknown-path handler is registered
}

// Handle registers an authenticated route. pattern is "METHOD /path" relative to Prefix,
// in net/http.ServeMux syntax ("GET /v2.1/servers/{id}"). name is the operation name.
func (rt *Router) Handle(pattern, name string, h HandlerFunc) {
	rt.handle(pattern, name, h, true)
}

// HandlePublic registers a route that needs no token (version documents, token issue).
func (rt *Router) HandlePublic(pattern, name string, h HandlerFunc) {
	rt.handle(pattern, name, h, false)
}

func (rt *Router) handle(pattern, name string, h HandlerFunc, authenticated bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic(fmt.Sprintf("route %q: want \"METHOD /path\"", pattern))
	}
	op := Op{Service: rt.Service, Name: name}
	if !rt.fallback {
		rt.fallback = true
		rt.Mux.HandleFunc(rt.Prefix, rt.unknown)
		rt.Mux.HandleFunc(rt.Prefix+"/", rt.unknown)
	}
	rt.Mux.HandleFunc(method+" "+rt.Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				rt.logger().Error("handler panicked", "op", op.String(), "panic", v, "stack", string(debug.Stack()))
				WriteError(w, rt.Style, Errorf(http.StatusInternalServerError, "InternalError", "internal error in %s", op))
			}
		}()
		if w.Header().Get(RequestIDHeader) == "" {
			w.Header().Set(RequestIDHeader, "req-"+uuid.NewString())
		}
		if rt.Gate != nil && rt.Gate.Intercept(w, r, op, rt.Style) {
			return
		}
		if authenticated {
			tok := r.Header.Get("X-Auth-Token")
			if tok == "" {
				WriteError(w, rt.Style, Errorf(http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication."))
				return
			}
			p, err := rt.Auth.Authenticate(tok)
			if err != nil {
				WriteError(w, rt.Style, Errorf(http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication: %v", err))
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !p.CanWrite() {
				WriteError(w, rt.Style, Forbidden("Policy doesn't allow %s to be performed: the reader role is read-only.", op.Name))
				return
			}
			r = r.WithContext(WithPrincipal(r.Context(), p))
		}
		if err := h(w, r); err != nil {
			e := AsError(err)
			if e.Status >= 500 {
				rt.logger().Error("request failed", "op", op.String(), "err", err)
			}
			WriteError(w, rt.Style, e)
		}
	})
}

// probeMethods are the methods tried on a path no route matched with the request's method.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// unknown answers the requests under the service's prefix that no route takes, in the
// service's error style: 405 (with Allow) when the path has routes for other methods, else
// 404. Without it the mux would answer Go's plain-text "404 page not found".
func (rt *Router) unknown(w http.ResponseWriter, r *http.Request) {
	if w.Header().Get(RequestIDHeader) == "" {
		w.Header().Set(RequestIDHeader, "req-"+uuid.NewString())
	}
	op := Op{Service: rt.Service, Name: "unknown"}
	if rt.Gate != nil && rt.Gate.Intercept(w, r, op, rt.Style) {
		return
	}
	var allowed []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := rt.Mux.Handler(probe); strings.Contains(pattern, " ") {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		WriteError(w, rt.Style, Errorf(http.StatusMethodNotAllowed, "HTTPMethodNotAllowed",
			"The method %s is not allowed for the resource %s.", r.Method, r.URL.Path))
		return
	}
	WriteError(w, rt.Style, Errorf(http.StatusNotFound, "HTTPNotFound", "The resource could not be found: %s %s.", r.Method, r.URL.Path))
}

func (rt *Router) logger() *slog.Logger {
	if rt.Log != nil {
		return rt.Log
	}
	return slog.Default()
}
