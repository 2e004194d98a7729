package haproxy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// Frontend modes.
const (
	modeTCP        = "tcp"
	modeHTTP       = "http"
	modePrometheus = "prometheus" // mode http serving HAProxy's prometheus-exporter
)

// frontend is one listener's section.
type frontend struct {
	id, mode, bind string
	port           int
	maxConn        int
	timeoutClient  int
	inspectDelay   int
	allowed        []string
	headers        []string // http-request lines and options for insert_headers
	backend        string   // default_backend, "" for none
}

// newFrontend checks listener l and makes its section, bound to bind.
func newFrontend(l loadbalancer.ListenerSpec, bind netip.Addr) (frontend, error) {
	f := frontend{id: l.ID, port: l.ProtocolPort}
	if err := checkName("listener", l.ID); err != nil {
		return f, err
	}
	switch l.Protocol {
	case "HTTP":
		f.mode = modeHTTP
	case "TCP", "HTTPS":
		f.mode = modeTCP
	case "PROMETHEUS":
		f.mode = modePrometheus
	default:
		return f, fmt.Errorf("listener %s: unknown protocol %q", l.ID, l.Protocol)
	}
	if err := checkPort("listener "+l.ID+": protocol_port", l.ProtocolPort); err != nil {
		return f, err
	}
	f.bind = hostPort(bind, l.ProtocolPort)
	if l.ConnectionLimit > 0 {
		f.maxConn = l.ConnectionLimit
	}
	f.timeoutClient = max(l.TimeoutClientData, 0)
	f.inspectDelay = max(l.TimeoutTCPInspect, 0)
	for _, c := range l.AllowedCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return f, fmt.Errorf("listener %s: allowed_cidrs: %w", l.ID, err)
		}
		f.allowed = append(f.allowed, p.String())
	}
	if f.mode == modeHTTP {
		f.headers = insertHeaders(l.InsertHeaders)
	}
	return f, nil
}

// insertHeaders turns Octavia's insert_headers ({"X-Forwarded-For": "true", ...}) into
// frontend lines, in a fixed order. Headers about client certificates need TLS termination
// and are ignored.
func insertHeaders(h map[string]string) []string {
	on := func(k string) bool { return strings.EqualFold(h[k], "true") }
	var out []string
	if on("X-Forwarded-For") {
		out = append(out, "option forwardfor")
	}
	if on("X-Forwarded-Port") {
		out = append(out, "http-request set-header X-Forwarded-Port %[dst_port]")
	}
	if on("X-Forwarded-Proto") {
		out = append(out, "http-request set-header X-Forwarded-Proto http")
	}
	return out
}

func writeFrontend(b *bytes.Buffer, f frontend, o Options) {
	fmt.Fprintf(b, "\nfrontend %s\n", f.id)
	fmt.Fprintf(b, "    bind %s\n", f.bind)
	mode := f.mode
	if mode == modePrometheus {
		mode = modeHTTP
	}
	fmt.Fprintf(b, "    mode %s\n", mode)
	if o.Log {
		fmt.Fprintf(b, "    option %slog\n", mode)
	}
	if f.maxConn > 0 {
		fmt.Fprintf(b, "    maxconn %d\n", f.maxConn)
	}
	if f.timeoutClient > 0 {
		fmt.Fprintf(b, "    timeout client %d\n", f.timeoutClient)
	}
	if f.inspectDelay > 0 {
		fmt.Fprintf(b, "    tcp-request inspect-delay %d\n", f.inspectDelay)
	}
	if len(f.allowed) > 0 {
		fmt.Fprintf(b, "    acl allowed_cidr src %s\n", strings.Join(f.allowed, " "))
		b.WriteString("    tcp-request connection reject unless allowed_cidr\n")
	}
	for _, h := range f.headers {
		fmt.Fprintf(b, "    %s\n", h)
	}
	if f.mode == modePrometheus {
		b.WriteString("    http-request use-service prometheus-exporter if { path /metrics }\n")
	}
	if f.backend != "" {
		fmt.Fprintf(b, "    default_backend %s\n", f.backend)
	}
}
