package haproxy

import (
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// baseSpec is one HTTP listener on 10.0.0.10:80 in front of pool p-http with one member.
func baseSpec() loadbalancer.Spec {
	return loadbalancer.Spec{
		ID: "lb-1", Name: "web", Project: "demo", AdminStateUp: true,
		VIP: loadbalancer.VIP{Address: "10.0.0.10"},
		Listeners: []loadbalancer.ListenerSpec{{
			ID: "l-http", Protocol: "HTTP", ProtocolPort: 80, AdminStateUp: true, ConnectionLimit: -1,
			DefaultPoolID: "p-http", TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
		}},
		Pools: []loadbalancer.PoolSpec{{
			ID: "p-http", Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN", AdminStateUp: true,
			Members: []loadbalancer.MemberSpec{{ID: "m-1", Address: "10.0.1.1", ProtocolPort: 8080, Weight: 1, AdminStateUp: true}},
		}},
	}
}

// kitchenSink uses every feature Render knows: HTTP, TCP, HTTPS, PROMETHEUS and UDP
// listeners, every algorithm, persistence type and monitor type, backups, disabled members,
// monitor addresses, PROXY protocol and IPv6 members.
func kitchenSink() loadbalancer.Spec {
	s := baseSpec()
	name := "JSESSIONID"
	s.Listeners = append(s.Listeners,
		loadbalancer.ListenerSpec{ID: "l-tcp", Protocol: "TCP", ProtocolPort: 6443, AdminStateUp: true, ConnectionLimit: 100,
			DefaultPoolID: "p-tcp", TimeoutClientData: 1000, TimeoutMemberConnect: 2000, TimeoutMemberData: 3000, TimeoutTCPInspect: 500,
			AllowedCIDRs: []string{"10.0.0.0/8", "2001:db8::/32"}},
		loadbalancer.ListenerSpec{ID: "l-https", Protocol: "HTTPS", ProtocolPort: 443, AdminStateUp: true, DefaultPoolID: "p-https"},
		loadbalancer.ListenerSpec{ID: "l-prom", Protocol: "PROMETHEUS", ProtocolPort: 9100, AdminStateUp: true},
		loadbalancer.ListenerSpec{ID: "l-proxy", Protocol: "HTTP", ProtocolPort: 8080, AdminStateUp: true, DefaultPoolID: "p-proxy",
			InsertHeaders: map[string]string{"X-Forwarded-For": "true", "X-Forwarded-Port": "True", "X-Forwarded-Proto": "true"}},
		loadbalancer.ListenerSpec{ID: "l-udp", Protocol: "UDP", ProtocolPort: 53, AdminStateUp: true, DefaultPoolID: "p-udp"},
		loadbalancer.ListenerSpec{ID: "l-off", Protocol: "TCP", ProtocolPort: 22, AdminStateUp: false},
	)
	s.Pools[0].SessionPersistence = &loadbalancer.SessionPersistence{Type: "APP_COOKIE", CookieName: &name}
	s.Pools[0].Monitor = &loadbalancer.MonitorSpec{ID: "hm-http", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 2,
		HTTPMethod: "HEAD", URLPath: "/healthz?full=1", ExpectedCodes: "200-204", AdminStateUp: true}
	s.Pools[0].Members = append(s.Pools[0].Members,
		loadbalancer.MemberSpec{ID: "m-2", Address: "2001:db8::2", ProtocolPort: 8080, Weight: 0, AdminStateUp: true, MonitorAddress: "2001:db8::99", MonitorPort: 9000},
		loadbalancer.MemberSpec{ID: "m-3", Address: "10.0.1.3", ProtocolPort: 8080, Weight: 256, Backup: true, AdminStateUp: false})
	s.Pools = append(s.Pools,
		loadbalancer.PoolSpec{ID: "p-tcp", Protocol: "TCP", LBAlgorithm: "LEAST_CONNECTIONS", AdminStateUp: true,
			SessionPersistence: &loadbalancer.SessionPersistence{Type: "SOURCE_IP"},
			Monitor:            &loadbalancer.MonitorSpec{ID: "hm-tcp", Type: "TCP", Delay: 2, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1, AdminStateUp: true},
			Members:            []loadbalancer.MemberSpec{{ID: "m-t1", Address: "10.0.1.11", ProtocolPort: 6443, Weight: 1, AdminStateUp: true, MonitorAddress: "10.0.1.12"}}},
		loadbalancer.PoolSpec{ID: "p-https", Protocol: "HTTPS", LBAlgorithm: "SOURCE_IP", AdminStateUp: true,
			Monitor: &loadbalancer.MonitorSpec{ID: "hm-https", Type: "HTTPS", Delay: 10, Timeout: 5, MaxRetries: 2, MaxRetriesDown: 3,
				HTTPMethod: "GET", URLPath: "/", ExpectedCodes: "200, 202", AdminStateUp: true},
			Members: []loadbalancer.MemberSpec{{ID: "m-s1", Address: "10.0.1.21", ProtocolPort: 443, Weight: 1, AdminStateUp: true}}},
		loadbalancer.PoolSpec{ID: "p-proxy", Protocol: "PROXY", LBAlgorithm: "SOURCE_IP_PORT", AdminStateUp: true,
			SessionPersistence: &loadbalancer.SessionPersistence{Type: "HTTP_COOKIE"},
			Monitor:            &loadbalancer.MonitorSpec{ID: "hm-tls", Type: "TLS-HELLO", Delay: 5, Timeout: 5, MaxRetries: 3, MaxRetriesDown: 3, AdminStateUp: true},
			Members:            []loadbalancer.MemberSpec{{ID: "m-p1", Address: "10.0.1.31", ProtocolPort: 80, Weight: 1, AdminStateUp: true}}},
		loadbalancer.PoolSpec{ID: "p-ping", Protocol: "PROXYV2", LBAlgorithm: "ROUND_ROBIN", AdminStateUp: false,
			Monitor: &loadbalancer.MonitorSpec{ID: "hm-ping", Type: "PING", Delay: 5, Timeout: 5, MaxRetries: 3, MaxRetriesDown: 3, AdminStateUp: true},
			Members: []loadbalancer.MemberSpec{{ID: "m-v2", Address: "10.0.1.41", ProtocolPort: 80, Weight: 1, AdminStateUp: true}}},
		loadbalancer.PoolSpec{ID: "p-udp", Protocol: "UDP", LBAlgorithm: "ROUND_ROBIN", AdminStateUp: true,
			Members: []loadbalancer.MemberSpec{{ID: "m-u1", Address: "10.0.1.51", ProtocolPort: 53, Weight: 1, AdminStateUp: true}}},
	)
	return s
}

// render renders spec with default options or fails the test.
func render(t *testing.T, spec loadbalancer.Spec) string {
	t.Helper()
	out, err := Render(spec, Options{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return string(out)
}

// section returns the lines of the section whose header is head ("backend p-http"), trimmed,
// or nil when there is none.
func section(cfg, head string) []string {
	var out []string
	in := false
	for l := range strings.SplitSeq(cfg, "\n") {
		if l != "" && l[0] != ' ' {
			in = l == head
			continue
		}
		if in && strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// line returns the one line of sec that starts with prefix, failing the test otherwise.
func line(t *testing.T, sec []string, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range sec {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one line starting %q, got %q in\n%s", prefix, found, strings.Join(sec, "\n"))
	}
	return found[0]
}

// hasLine reports whether sec has a line starting with prefix.
func hasLine(sec []string, prefix string) bool {
	for _, l := range sec {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
