package haproxy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// Health-check values used when a monitor leaves them at zero (Octavia's defaults).
const (
	defaultDelay = 5
	defaultFall  = 3
	defaultRise  = 3
)

// check is a pool's enabled health monitor.
type check struct {
	inter, fall, rise int
	timeout           int // seconds, 0 for HAProxy's default
	typ               string
	method, path      string // HTTP and HTTPS
	expect            string // the http-check expect line
}

// newCheck checks monitor m. HTTP and HTTPS become option httpchk (HTTPS over TLS without
// verification), TLS-HELLO option ssl-hello-chk; TCP, PING, UDP-CONNECT and SCTP become a TCP
// connect check (HAProxy cannot ping).
func newCheck(m loadbalancer.MonitorSpec) (check, error) {
	c := check{typ: m.Type, inter: m.Delay, fall: m.MaxRetriesDown, rise: m.MaxRetries, timeout: max(m.Timeout, 0)}
	if c.inter <= 0 {
		c.inter = defaultDelay
	}
	if c.fall <= 0 {
		c.fall = defaultFall
	}
	if c.rise <= 0 {
		c.rise = defaultRise
	}
	switch m.Type {
	case "HTTP", "HTTPS":
		c.method, c.path = m.HTTPMethod, m.URLPath
		if c.method == "" {
			c.method = "GET"
		}
		if c.path == "" {
			c.path = "/"
		}
		if err := checkMethod(c.method); err != nil {
			return c, fmt.Errorf("health monitor %s: %w", m.ID, err)
		}
		if err := checkURLPath(c.path); err != nil {
			return c, fmt.Errorf("health monitor %s: %w", m.ID, err)
		}
		codes := m.ExpectedCodes
		if codes == "" {
			codes = "200"
		}
		e, err := expectLine(codes)
		if err != nil {
			return c, fmt.Errorf("health monitor %s: %w", m.ID, err)
		}
		c.expect = e
	case "TLS-HELLO", "TCP", "PING", "UDP-CONNECT", "SCTP":
	default:
		return c, fmt.Errorf("health monitor %s: unknown type %q", m.ID, m.Type)
	}
	return c, nil
}

// lines are the check's lines in the backend section.
func (c check) lines() []string {
	var out []string
	if c.timeout > 0 {
		out = append(out, fmt.Sprintf("timeout check %ds", c.timeout))
	}
	switch c.typ {
	case "HTTP", "HTTPS":
		out = append(out, "option httpchk "+c.method+" "+c.path, c.expect)
	case "TLS-HELLO":
		out = append(out, "option ssl-hello-chk")
	}
	return out
}

// serverOptions are the check's options on every server line.
func (c check) serverOptions() []string {
	out := []string{"check", "inter", strconv.Itoa(c.inter) + "s", "fall", strconv.Itoa(c.fall), "rise", strconv.Itoa(c.rise)}
	if c.typ == "HTTPS" {
		out = append(out, "check-ssl", "verify", "none")
	}
	return out
}

// checkMethod accepts an HTTP method token.
func checkMethod(m string) error {
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return fmt.Errorf("http_method %q is not an upper-case token", m)
		}
	}
	return nil
}

// checkURLPath accepts an absolute path made of URL characters HAProxy reads unquoted.
func checkURLPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("url_path %q does not start with /", p)
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~/?:@!$&()*+,;=%", r)
		if !ok {
			return fmt.Errorf("url_path %q has a character that is not allowed unescaped in a URL path", p)
		}
	}
	return nil
}
