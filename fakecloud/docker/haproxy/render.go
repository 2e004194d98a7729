package haproxy

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// DefaultStatsSocket is where the admin stats socket listens unless Options.StatsSocket says
// otherwise.
const DefaultStatsSocket = "/run/haproxy/admin.sock"

// DefaultMaxConn is the global connection limit unless Options.MaxConn says otherwise.
// HAProxy needs about two file descriptors per connection and refuses to start when it
// cannot raise its open-files limit that far, so this is well below Octavia's 50000: it fits
// containers whose limit is 10,000 or more (this machine's docker gives 20,000).
const DefaultMaxConn = 4096

// Octavia's default timeouts in milliseconds, used in the defaults section.
const (
	defaultTimeoutConnect = 5000
	defaultTimeoutData    = 50000
)

// Options are the parts of haproxy.cfg that do not come from the Spec.
type Options struct {
	// StatsSocket is the path of the admin stats socket ("" means DefaultStatsSocket). It is
	// opened `mode 600 level admin expose-fd listeners`, so a reload is seamless.
	StatsSocket string
	// MaxConn is the global connection limit, also each frontend's unless its listener has a
	// connection_limit (0 means DefaultMaxConn). HAProxy refuses to start unless the
	// container's open-files limit exceeds about twice this.
	MaxConn int
	// BindAddress, when set, replaces the VIP address in every bind line, for a container that
	// does not own the VIP (e.g. "0.0.0.0" behind a DNAT).
	BindAddress string
	// ServerStateFile, when set, is where the caller saves `show servers state` before a
	// reload; the new process loads the members' health from it instead of starting over.
	ServerStateFile string
	// Log sends HAProxy's logs (connections and health changes) to stdout.
	Log bool
}

// Render returns the complete haproxy.cfg for load balancer spec. Listeners and pools HAProxy
// cannot serve are left out (see Skipped); an error names the object that cannot be rendered.
// The same spec and options always give the same bytes.
func Render(spec loadbalancer.Spec, opts Options) ([]byte, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("rendering haproxy.cfg for load balancer %s: %w", spec.ID, err)
	}
	p, err := plan(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("rendering haproxy.cfg for load balancer %s: %w", spec.ID, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# haproxy.cfg of load balancer %s, rendered by fakecloud/docker/haproxy: do not edit.\n", p.lbID)
	writeGlobal(&b, opts)
	for _, f := range p.frontends {
		writeFrontend(&b, f, opts)
	}
	for _, be := range p.backends {
		writeBackend(&b, be)
	}
	return b.Bytes(), nil
}

func (o Options) withDefaults() (Options, error) {
	if o.StatsSocket == "" {
		o.StatsSocket = DefaultStatsSocket
	}
	if err := checkPath("stats socket", o.StatsSocket); err != nil {
		return o, err
	}
	if o.ServerStateFile != "" {
		if err := checkPath("server state file", o.ServerStateFile); err != nil {
			return o, err
		}
	}
	if o.MaxConn == 0 {
		o.MaxConn = DefaultMaxConn
	}
	if o.MaxConn < 0 {
		return o, fmt.Errorf("max conn %d is negative", o.MaxConn)
	}
	if o.BindAddress != "" {
		if _, err := checkAddr("bind address", o.BindAddress); err != nil {
			return o, err
		}
	}
	return o, nil
}

func writeGlobal(b *bytes.Buffer, o Options) {
	b.WriteString("\nglobal\n")
	fmt.Fprintf(b, "    maxconn %d\n", o.MaxConn)
	fmt.Fprintf(b, "    stats socket %s mode 600 level admin expose-fd listeners\n", o.StatsSocket)
	b.WriteString("    stats timeout 30s\n")
	if o.ServerStateFile != "" {
		fmt.Fprintf(b, "    server-state-file %s\n", o.ServerStateFile)
	}
	if o.Log {
		b.WriteString("    log stdout format raw local0\n")
	}
	b.WriteString("\ndefaults\n")
	if o.Log {
		b.WriteString("    log global\n")
	}
	b.WriteString("    mode tcp\n")
	fmt.Fprintf(b, "    maxconn %d\n", o.MaxConn)
	b.WriteString("    retries 3\n")
	b.WriteString("    option redispatch\n")
	fmt.Fprintf(b, "    timeout connect %d\n", defaultTimeoutConnect)
	fmt.Fprintf(b, "    timeout client %d\n", defaultTimeoutData)
	fmt.Fprintf(b, "    timeout server %d\n", defaultTimeoutData)
	if o.ServerStateFile != "" {
		b.WriteString("    load-server-state-from-file global\n")
	}
}

// checkPath accepts an absolute path HAProxy reads as one word.
func checkPath(what, p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\r\n#'\"\\") {
		return fmt.Errorf("%s %q must be an absolute path without blanks, quotes, '#' or '\\'", what, p)
	}
	return nil
}
