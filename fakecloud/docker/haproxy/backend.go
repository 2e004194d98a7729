package haproxy

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// Stick tables of SOURCE_IP and APP_COOKIE persistence, as in Octavia's amphora.
const (
	stickSize      = "10k"
	appCookieLen   = 64
	cookieNameMax  = 255
	httpCookieName = "SRV"
)

// backend is one pool's section.
type backend struct {
	id, protocol string
	balance      string
	persistence  []string // stick or cookie lines
	httpCookie   bool     // servers carry `cookie <member-id>`
	check        *check   // nil: no enabled monitor
	servers      []server
	backups      bool

	// Filled by plan from the listeners using the pool.
	users     []loadbalancer.ListenerSpec
	httpUsers int
	mode      string
	persist   *loadbalancer.SessionPersistence
}

// server is one member.
type server struct {
	id, addr  string
	weight    int
	backup    bool
	disabled  bool
	checkAddr string // `addr`, "" for the member's own
	checkPort int    // `port`, 0 for the member's own
	sendProxy string // "", send-proxy or send-proxy-v2
}

// newBackend checks pool p and makes its section; settle finishes it once the listeners
// using it are known.
func newBackend(p loadbalancer.PoolSpec) (*backend, error) {
	be := &backend{id: p.ID, protocol: p.Protocol, persist: p.SessionPersistence}
	if err := checkName("pool", p.ID); err != nil {
		return nil, err
	}
	switch p.Protocol {
	case "HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2":
	default:
		return nil, fmt.Errorf("pool %s: unknown protocol %q", p.ID, p.Protocol)
	}
	switch p.LBAlgorithm {
	case "ROUND_ROBIN":
		be.balance = "roundrobin"
	case "LEAST_CONNECTIONS":
		be.balance = "leastconn"
	case "SOURCE_IP", "SOURCE_IP_PORT": // HAProxy hashes the source address only
		be.balance = "source"
	default:
		return nil, fmt.Errorf("pool %s: unknown lb_algorithm %q", p.ID, p.LBAlgorithm)
	}
	if p.Monitor != nil && p.Monitor.AdminStateUp {
		c, err := newCheck(*p.Monitor)
		if err != nil {
			return nil, fmt.Errorf("pool %s: %w", p.ID, err)
		}
		be.check = &c
	}
	seen := map[string]bool{}
	for _, m := range p.Members {
		s, err := newServer(m, p)
		if err != nil {
			return nil, fmt.Errorf("pool %s: %w", p.ID, err)
		}
		if seen[s.id] {
			return nil, fmt.Errorf("pool %s: member %s appears twice", p.ID, s.id)
		}
		seen[s.id] = true
		be.backups = be.backups || s.backup
		be.servers = append(be.servers, s)
	}
	slices.SortFunc(be.servers, func(a, b server) int { return cmp.Compare(a.id, b.id) })
	return be, nil
}

func newServer(m loadbalancer.MemberSpec, p loadbalancer.PoolSpec) (server, error) {
	s := server{id: m.ID, weight: m.Weight, backup: m.Backup, disabled: !m.AdminStateUp || !p.AdminStateUp}
	if err := checkName("member", m.ID); err != nil {
		return s, err
	}
	a, err := checkAddr("member "+m.ID+": address", m.Address)
	if err != nil {
		return s, err
	}
	if err := checkPort("member "+m.ID+": protocol_port", m.ProtocolPort); err != nil {
		return s, err
	}
	s.addr = hostPort(a, m.ProtocolPort)
	if m.Weight < 0 || m.Weight > 256 {
		return s, fmt.Errorf("member %s: weight %d is not in 0-256", m.ID, m.Weight)
	}
	if m.MonitorAddress != "" {
		a, err := checkAddr("member "+m.ID+": monitor_address", m.MonitorAddress)
		if err != nil {
			return s, err
		}
		s.checkAddr = hostOnly(a)
	}
	if m.MonitorPort != 0 {
		if err := checkPort("member "+m.ID+": monitor_port", m.MonitorPort); err != nil {
			return s, err
		}
		s.checkPort = m.MonitorPort
	}
	switch p.Protocol {
	case "PROXY":
		s.sendProxy = "send-proxy"
	case "PROXYV2":
		s.sendProxy = "send-proxy-v2"
	}
	return s, nil
}

// settle picks the backend's mode from its protocol and its listeners, and its session
// persistence, which depends on the mode.
func (be *backend) settle() error {
	switch {
	case be.protocol == "HTTP":
		be.mode = modeHTTP
	case be.protocol == "PROXY" || be.protocol == "PROXYV2":
		// The mode of the listener in front: a TCP frontend may use an HTTP backend, not
		// the other way round.
		be.mode = modeTCP
		if be.httpUsers > 0 {
			be.mode = modeHTTP
		}
	default:
		be.mode = modeTCP
		if be.httpUsers > 0 {
			return fmt.Errorf("pool %s (%s) cannot be the default pool of an HTTP listener", be.id, be.protocol)
		}
	}
	sp := be.persist
	if sp == nil {
		return nil
	}
	switch sp.Type {
	case "SOURCE_IP":
		be.persistence = []string{"stick-table type ipv6 size " + stickSize, "stick on src"}
	case "HTTP_COOKIE":
		if be.mode == modeHTTP {
			be.persistence = []string{"cookie " + httpCookieName + " insert indirect nocache"}
			be.httpCookie = true
		}
	case "APP_COOKIE":
		if sp.CookieName == nil || *sp.CookieName == "" {
			return fmt.Errorf("pool %s: APP_COOKIE session persistence has no cookie_name", be.id)
		}
		name := *sp.CookieName
		if err := checkCookieName(name); err != nil {
			return fmt.Errorf("pool %s: %w", be.id, err)
		}
		if be.mode == modeHTTP {
			be.persistence = []string{
				fmt.Sprintf("stick-table type string len %d size %s", appCookieLen, stickSize),
				fmt.Sprintf("stick store-response res.cook(%s)", name),
				fmt.Sprintf("stick match req.cook(%s)", name),
			}
		}
	default:
		return fmt.Errorf("pool %s: unknown session_persistence type %q", be.id, sp.Type)
	}
	return nil
}

// checkCookieName accepts cookie names HAProxy reads inside res.cook(...) unquoted.
func checkCookieName(name string) error {
	if len(name) > cookieNameMax {
		return fmt.Errorf("cookie_name is longer than %d characters", cookieNameMax)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("cookie_name %q has a character other than letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// connectTimeouts are the largest member timeouts of the listeners using the pool (0: the
// defaults section's).
func (be *backend) connectTimeouts() (connect, data int) {
	for _, l := range be.users {
		connect, data = max(connect, l.TimeoutMemberConnect), max(data, l.TimeoutMemberData)
	}
	return connect, data
}

func writeBackend(b *bytes.Buffer, be *backend) {
	fmt.Fprintf(b, "\nbackend %s\n", be.id)
	fmt.Fprintf(b, "    mode %s\n", be.mode)
	fmt.Fprintf(b, "    balance %s\n", be.balance)
	for _, l := range be.persistence {
		fmt.Fprintf(b, "    %s\n", l)
	}
	connect, data := be.connectTimeouts()
	if connect > 0 {
		fmt.Fprintf(b, "    timeout connect %d\n", connect)
	}
	if data > 0 {
		fmt.Fprintf(b, "    timeout server %d\n", data)
	}
	if be.check != nil {
		for _, l := range be.check.lines() {
			fmt.Fprintf(b, "    %s\n", l)
		}
	}
	if be.backups {
		b.WriteString("    option allbackups\n")
	}
	for _, s := range be.servers {
		fmt.Fprintf(b, "    %s\n", be.serverLine(s))
	}
}

// serverLine is `server <member-id> <address>:<port> weight W` and its options.
func (be *backend) serverLine(s server) string {
	w := []string{"server", s.id, s.addr, "weight", fmt.Sprint(s.weight)}
	if c := be.check; c != nil {
		w = append(w, c.serverOptions()...)
		if s.checkAddr != "" {
			w = append(w, "addr", s.checkAddr)
		}
		if s.checkPort != 0 {
			w = append(w, "port", fmt.Sprint(s.checkPort))
		}
	}
	if be.httpCookie {
		w = append(w, "cookie", s.id)
	}
	if s.sendProxy != "" {
		w = append(w, s.sendProxy)
	}
	if s.backup {
		w = append(w, "backup")
	}
	if s.disabled {
		w = append(w, "disabled")
	}
	return strings.Join(w, " ")
}
