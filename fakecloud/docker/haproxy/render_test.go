package haproxy

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

func TestRenderBase(t *testing.T) {
	cfg := render(t, baseSpec())
	g := section(cfg, "global")
	if l := line(t, g, "stats socket"); l != "stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners" {
		t.Errorf("stats socket line: %q", l)
	}
	if l := line(t, g, "maxconn"); l != "maxconn 4096" {
		t.Errorf("global maxconn: %q", l)
	}
	f := section(cfg, "frontend l-http")
	for _, want := range []string{"bind 10.0.0.10:80", "mode http", "timeout client 50000", "default_backend p-http"} {
		line(t, f, want)
	}
	if hasLine(f, "maxconn") {
		t.Errorf("connection_limit -1 must leave maxconn to the defaults:\n%s", cfg)
	}
	b := section(cfg, "backend p-http")
	for _, want := range []string{"mode http", "balance roundrobin", "timeout connect 5000", "timeout server 50000"} {
		line(t, b, want)
	}
	if l := line(t, b, "server "); l != "server m-1 10.0.1.1:8080 weight 1" {
		t.Errorf("a pool without monitor has a plain server line, got %q", l)
	}
	if hasLine(b, "option httpchk") || hasLine(b, "timeout check") {
		t.Errorf("a pool without monitor has no check options:\n%s", cfg)
	}
}

func TestRenderOptions(t *testing.T) {
	out, err := Render(baseSpec(), Options{StatsSocket: "/tmp/s.sock", MaxConn: 10, BindAddress: "0.0.0.0", ServerStateFile: "/run/haproxy/state", Log: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(out)
	g := section(cfg, "global")
	line(t, g, "stats socket /tmp/s.sock ")
	line(t, g, "maxconn 10")
	line(t, g, "server-state-file /run/haproxy/state")
	line(t, g, "log stdout")
	d := section(cfg, "defaults")
	line(t, d, "load-server-state-from-file global")
	line(t, d, "log global")
	f := section(cfg, "frontend l-http")
	line(t, f, "bind 0.0.0.0:80")
	line(t, f, "option httplog")

	for _, o := range []Options{{StatsSocket: "relative.sock"}, {StatsSocket: "/a b"}, {MaxConn: -1}, {BindAddress: "host"}, {ServerStateFile: "/x#y"}} {
		if _, err := Render(baseSpec(), o); err == nil {
			t.Errorf("Render with %+v: want an error", o)
		}
	}
}

func TestRenderMembers(t *testing.T) {
	cfg := render(t, kitchenSink())
	b := section(cfg, "backend p-http")
	tests := []struct{ id, want string }{
		{"m-1", "server m-1 10.0.1.1:8080 weight 1 check inter 5s fall 2 rise 3"},
		{"m-2", "server m-2 [2001:db8::2]:8080 weight 0 check inter 5s fall 2 rise 3 addr [2001:db8::99] port 9000"},
		{"m-3", "server m-3 10.0.1.3:8080 weight 256 check inter 5s fall 2 rise 3 backup disabled"},
	}
	for _, tt := range tests {
		if got := line(t, b, "server "+tt.id+" "); got != tt.want {
			t.Errorf("member %s:\n got %q\nwant %q", tt.id, got, tt.want)
		}
	}
	line(t, b, "option allbackups")
	tcp := section(cfg, "backend p-tcp")
	if got := line(t, tcp, "server "); got != "server m-t1 10.0.1.11:6443 weight 1 check inter 2s fall 1 rise 1 addr 10.0.1.12" {
		t.Errorf("TCP monitor server line: %q", got)
	}
	if hasLine(tcp, "option httpchk") || hasLine(tcp, "option allbackups") {
		t.Errorf("TCP pool without backups:\n%s", strings.Join(tcp, "\n"))
	}
	line(t, tcp, "timeout check 1s")
	https := section(cfg, "backend p-https")
	if got := line(t, https, "server "); !strings.HasSuffix(got, "check inter 10s fall 3 rise 2 check-ssl verify none") {
		t.Errorf("HTTPS monitor server line: %q", got)
	}
	// A disabled pool disables every member.
	if got := line(t, section(cfg, "backend p-ping"), "server "); !strings.HasSuffix(got, " send-proxy-v2 disabled") {
		t.Errorf("member of a disabled PROXYV2 pool: %q", got)
	}
}

func TestRenderMonitors(t *testing.T) {
	tests := []struct {
		name  string
		mon   *loadbalancer.MonitorSpec
		want  []string // lines of the backend
		check bool     // server lines carry check
	}{
		{"none", nil, nil, false},
		{"disabled", &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, AdminStateUp: false}, nil, false},
		{"http default", &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3, AdminStateUp: true},
			[]string{"timeout check 3s", "option httpchk GET /", "http-check expect status 200"}, true},
		{"http one code", &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, HTTPMethod: "POST", URLPath: "/ping", ExpectedCodes: "204", AdminStateUp: true},
			[]string{"option httpchk POST /ping", "http-check expect status 204"}, true},
		{"http list", &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, ExpectedCodes: "200, 202,301", AdminStateUp: true},
			[]string{"http-check expect rstatus ^(200|202|301)$"}, true},
		{"http range", &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, ExpectedCodes: "200-204", AdminStateUp: true},
			[]string{"http-check expect rstatus ^(20[0-4])$"}, true},
		{"tls hello", &loadbalancer.MonitorSpec{ID: "hm", Type: "TLS-HELLO", Delay: 5, Timeout: 3, MaxRetries: 3, AdminStateUp: true},
			[]string{"option ssl-hello-chk"}, true},
		{"ping is a tcp check", &loadbalancer.MonitorSpec{ID: "hm", Type: "PING", Delay: 5, Timeout: 3, MaxRetries: 3, AdminStateUp: true},
			[]string{"timeout check 3s"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			s.Pools[0].Monitor = tt.mon
			b := section(render(t, s), "backend p-http")
			for _, w := range tt.want {
				line(t, b, w)
			}
			srv := line(t, b, "server ")
			if got := strings.Contains(srv, " check"); got != tt.check {
				t.Errorf("server line %q: check=%v, want %v", srv, got, tt.check)
			}
			if !tt.check && (hasLine(b, "option httpchk") || hasLine(b, "timeout check")) {
				t.Errorf("no enabled monitor, yet check options:\n%s", strings.Join(b, "\n"))
			}
			if tt.mon != nil && tt.mon.Type != "HTTP" && hasLine(b, "option httpchk") {
				t.Errorf("%s monitor with httpchk", tt.mon.Type)
			}
		})
	}
}

func TestRenderPools(t *testing.T) {
	cfg := render(t, kitchenSink())
	tests := []struct {
		backend string
		want    []string
	}{
		{"p-http", []string{"mode http", "balance roundrobin", "stick-table type string len 64 size 10k", "stick store-response res.cook(JSESSIONID)", "stick match req.cook(JSESSIONID)"}},
		{"p-tcp", []string{"mode tcp", "balance leastconn", "stick-table type ipv6 size 10k", "stick on src", "timeout connect 2000", "timeout server 3000"}},
		{"p-https", []string{"mode tcp", "balance source", "http-check expect rstatus ^(200|202)$"}},
		{"p-proxy", []string{"mode http", "balance source", "cookie SRV insert indirect nocache", "option ssl-hello-chk"}},
		{"p-ping", []string{"mode tcp"}},
	}
	for _, tt := range tests {
		b := section(cfg, "backend "+tt.backend)
		for _, w := range tt.want {
			line(t, b, w)
		}
	}
	if got := line(t, section(cfg, "backend p-proxy"), "server "); got != "server m-p1 10.0.1.31:80 weight 1 check inter 5s fall 3 rise 3 cookie m-p1 send-proxy" {
		t.Errorf("PROXY member with HTTP_COOKIE: %q", got)
	}
	if section(cfg, "backend p-udp") != nil {
		t.Errorf("UDP pool rendered:\n%s", cfg)
	}
}

func TestRenderListeners(t *testing.T) {
	cfg := render(t, kitchenSink())
	tcp := section(cfg, "frontend l-tcp")
	for _, w := range []string{"bind 10.0.0.10:6443", "mode tcp", "maxconn 100", "timeout client 1000", "tcp-request inspect-delay 500",
		"acl allowed_cidr src 10.0.0.0/8 2001:db8::/32", "tcp-request connection reject unless allowed_cidr", "default_backend p-tcp"} {
		line(t, tcp, w)
	}
	line(t, section(cfg, "frontend l-https"), "mode tcp")
	prom := section(cfg, "frontend l-prom")
	line(t, prom, "mode http")
	line(t, prom, "http-request use-service prometheus-exporter if { path /metrics }")
	proxy := section(cfg, "frontend l-proxy")
	for _, w := range []string{"option forwardfor", "http-request set-header X-Forwarded-Port %[dst_port]", "http-request set-header X-Forwarded-Proto http"} {
		line(t, proxy, w)
	}
	if hasLine(section(cfg, "frontend l-http"), "option forwardfor") {
		t.Error("X-Forwarded-For without insert_headers")
	}
	for _, id := range []string{"l-udp", "l-off"} {
		if section(cfg, "frontend "+id) != nil {
			t.Errorf("frontend %s rendered", id)
		}
	}
	// Frontends in port order.
	var ports []string
	for l := range strings.SplitSeq(cfg, "\n") {
		if strings.HasPrefix(l, "frontend ") {
			ports = append(ports, strings.TrimPrefix(l, "frontend "))
		}
	}
	if want := []string{"l-http", "l-https", "l-tcp", "l-proxy", "l-prom"}; !slices.Equal(ports, want) {
		t.Errorf("frontends %v, want %v", ports, want)
	}

	s := kitchenSink()
	s.Listeners[0].InsertHeaders = map[string]string{"X-Forwarded-For": "false"}
	if hasLine(section(render(t, s), "frontend l-http"), "option forwardfor") {
		t.Error(`X-Forwarded-For "false" inserts the header`)
	}
}

func TestRenderDisabledLoadBalancer(t *testing.T) {
	s := kitchenSink()
	s.AdminStateUp = false
	s.VIP.Address = "" // not needed when nothing binds
	cfg := render(t, s)
	if strings.Contains(cfg, "\nfrontend ") {
		t.Errorf("disabled load balancer with frontends:\n%s", cfg)
	}
	if section(cfg, "backend p-http") == nil {
		t.Error("the pools of a disabled load balancer keep their backends (and member health)")
	}
}

func TestSkipped(t *testing.T) {
	s := kitchenSink()
	s.Listeners = append(s.Listeners,
		loadbalancer.ListenerSpec{ID: "l-tls", Protocol: "TERMINATED_HTTPS", ProtocolPort: 8443, AdminStateUp: true},
		loadbalancer.ListenerSpec{ID: "l-sctp-off", Protocol: "SCTP", ProtocolPort: 9, AdminStateUp: false})
	got := Skipped(s)
	want := []Skip{
		{Kind: "listener", ID: "l-udp", Protocol: "UDP", Reason: "HAProxy does not serve UDP"},
		{Kind: "listener", ID: "l-tls", Protocol: "TERMINATED_HTTPS", Reason: "the spec carries no TLS certificate to terminate HTTPS with"},
		{Kind: "pool", ID: "p-udp", Protocol: "UDP", Reason: "HAProxy does not serve UDP"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Skipped:\n got %+v\nwant %+v", got, want)
	}
	if cfg := render(t, s); section(cfg, "frontend l-tls") != nil {
		t.Error("TERMINATED_HTTPS rendered")
	}
	if got := Skipped(baseSpec()); got != nil {
		t.Errorf("Skipped(base) = %+v", got)
	}
}

func TestRenderDeterministic(t *testing.T) {
	a := render(t, kitchenSink())
	for range 5 {
		if b := render(t, kitchenSink()); b != a {
			t.Fatal("two renders of one spec differ")
		}
	}
	// The order of listeners, pools and members in the spec does not matter.
	s := kitchenSink()
	slices.Reverse(s.Listeners)
	slices.Reverse(s.Pools)
	for i := range s.Pools {
		slices.Reverse(s.Pools[i].Members)
	}
	if b := render(t, s); b != a {
		t.Errorf("reordered spec renders differently:\n%s\n----\n%s", a, b)
	}
	if !bytes.HasSuffix([]byte(a), []byte("\n")) {
		t.Error("no final newline")
	}
}

func TestRenderErrors(t *testing.T) {
	bad := "a b"
	tests := []struct {
		name   string
		mutate func(*loadbalancer.Spec)
		want   string
	}{
		{"lb id", func(s *loadbalancer.Spec) { s.ID = "lb 1" }, "load balancer id"},
		{"no lb id", func(s *loadbalancer.Spec) { s.ID = "" }, "has no id"},
		{"listener id", func(s *loadbalancer.Spec) { s.Listeners[0].ID = "l\nglobal" }, "listener id"},
		{"pool id", func(s *loadbalancer.Spec) { s.Pools[0].ID = "p#1" }, "pool id"},
		{"member id", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].ID = "m/1" }, "member id"},
		{"vip", func(s *loadbalancer.Spec) { s.VIP.Address = "10.0.0.300" }, "VIP address"},
		{"member address", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].Address = "example.com" }, "member m-1: address"},
		{"zone", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].Address = "fe80::1%eth0" }, "has a zone"},
		{"monitor address", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].MonitorAddress = "x" }, "monitor_address"},
		{"member port", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].ProtocolPort = 0 }, "protocol_port 0"},
		{"monitor port", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].MonitorPort = 70000 }, "monitor_port 70000"},
		{"weight", func(s *loadbalancer.Spec) { s.Pools[0].Members[0].Weight = 257 }, "weight 257"},
		{"listener port", func(s *loadbalancer.Spec) { s.Listeners[0].ProtocolPort = -1 }, "protocol_port -1"},
		{"listener protocol", func(s *loadbalancer.Spec) { s.Listeners[0].Protocol = "QUIC" }, `unknown protocol "QUIC"`},
		{"pool protocol", func(s *loadbalancer.Spec) { s.Pools[0].Protocol = "" }, "unknown protocol"},
		{"algorithm", func(s *loadbalancer.Spec) { s.Pools[0].LBAlgorithm = "RANDOM" }, "unknown lb_algorithm"},
		{"cidr", func(s *loadbalancer.Spec) { s.Listeners[0].AllowedCIDRs = []string{"10.0.0.0/33"} }, "allowed_cidrs"},
		{"duplicate port", func(s *loadbalancer.Spec) {
			s.Listeners = append(s.Listeners, loadbalancer.ListenerSpec{ID: "l-2", Protocol: "TCP", ProtocolPort: 80, AdminStateUp: true})
		}, "both use port 80"},
		{"duplicate pool", func(s *loadbalancer.Spec) { s.Pools = append(s.Pools, s.Pools[0]) }, "appears twice"},
		{"duplicate member", func(s *loadbalancer.Spec) { s.Pools[0].Members = append(s.Pools[0].Members, s.Pools[0].Members[0]) }, "appears twice"},
		{"http listener, tcp pool", func(s *loadbalancer.Spec) { s.Pools[0].Protocol = "TCP" }, "cannot be the default pool of an HTTP listener"},
		{"persistence type", func(s *loadbalancer.Spec) {
			s.Pools[0].SessionPersistence = &loadbalancer.SessionPersistence{Type: "RANDOM"}
		}, "unknown session_persistence"},
		{"app cookie without name", func(s *loadbalancer.Spec) {
			s.Pools[0].SessionPersistence = &loadbalancer.SessionPersistence{Type: "APP_COOKIE"}
		}, "no cookie_name"},
		{"app cookie name", func(s *loadbalancer.Spec) {
			s.Pools[0].SessionPersistence = &loadbalancer.SessionPersistence{Type: "APP_COOKIE", CookieName: &bad}
		}, "cookie_name"},
		{"monitor type", func(s *loadbalancer.Spec) {
			s.Pools[0].Monitor = &loadbalancer.MonitorSpec{ID: "hm", Type: "ICMP", AdminStateUp: true}
		}, `unknown type "ICMP"`},
		{"expected codes", func(s *loadbalancer.Spec) {
			s.Pools[0].Monitor = &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", ExpectedCodes: "2xx", AdminStateUp: true}
		}, "expected_codes"},
		{"url path", func(s *loadbalancer.Spec) {
			s.Pools[0].Monitor = &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", URLPath: "/a b", AdminStateUp: true}
		}, "url_path"},
		{"http method", func(s *loadbalancer.Spec) {
			s.Pools[0].Monitor = &loadbalancer.MonitorSpec{ID: "hm", Type: "HTTP", HTTPMethod: "get /x", AdminStateUp: true}
		}, "http_method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			tt.mutate(&s)
			out, err := Render(s, Options{})
			if err == nil {
				t.Fatalf("want an error containing %q, got\n%s", tt.want, out)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "load balancer") {
				t.Errorf("error %q, want it to contain %q and name the load balancer", err, tt.want)
			}
		})
	}
}
