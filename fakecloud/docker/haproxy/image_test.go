//go:build imagetest

package haproxy

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
)

// The image tests run the HAProxy amphora image (kaas/haproxy:latest, built by
// hack/images/haproxy.sh) against the real docker engine the way fakecloud's docker backend
// runs it (fakecloud/docker/loadbalancers.go): a configuration from Render with the stats
// socket at /run/haproxy/admin.sock and logs to stdout, the configuration directory mounted at
// /usr/local/etc/haproxy, the image's own command (`haproxy -W -db -f .../haproxy.cfg`), the
// VIP as the container's address on a docker network. The members are busybox httpd
// containers on that network, each serving a page naming itself. Requests come from the test
// process: docker bridges are routed from the host. They need dockerd and the images:
// `make test-images` builds the amphora image and runs them.
//
// What they assert: a TCP and an HTTP listener forward to both members in strict round robin;
// the health monitors mark a stopped member DOWN (read as fakecloud reads it: `show stat`
// through socat, ParseStats) and traffic then reaches only the other member; a seamless
// reload (haproxy -c, then SIGUSR2 to the container) serves the new configuration while a TCP
// connection established before it stays open on the old configuration's member; haproxy -c
// refuses broken configurations.

const (
	amphoraRepo  = "kaas/haproxy"
	amphoraTag   = "latest"
	memberRepo   = "kaas.local/busybox"
	memberTag    = "1.35.0"
	memberPort   = 8080
	amphoraDir   = "/usr/local/etc/haproxy"  // lbConfigDir in fakecloud/docker
	amphoraStats = "/run/haproxy/admin.sock" // lbStatsSocket in fakecloud/docker
	httpPort     = 80
	tcpPort      = 6443
)

type amphoraEnv struct {
	t      *testing.T
	pool   *dockertest.Pool
	net    *dockertest.Network
	name   string // prefix of the containers' and the network's names
	subnet netip.Prefix
	vip    string
	dir    string // mounted at amphoraDir
	lb     *dockertest.Resource
	ips    map[string]string // member name ("a") -> address
	mres   map[string]*dockertest.Resource
}

func newAmphoraEnv(t *testing.T) *amphoraEnv {
	t.Helper()
	pool, err := dockertest.NewPool("")
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	if err := pool.Client.Ping(); err != nil {
		t.Fatalf("docker does not answer (make test-images needs it): %v", err)
	}
	for _, img := range []string{amphoraRepo + ":" + amphoraTag, memberRepo + ":" + memberTag} {
		if _, err := pool.Client.InspectImage(img); err != nil {
			t.Fatalf("image %s is missing (hack/images/haproxy.sh builds kaas/haproxy, hack/images/addons.sh kaas.local/busybox): %v", img, err)
		}
	}
	suffix := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.Name(), "TestImage"), "/", "-"))
	e := &amphoraEnv{t: t, pool: pool, name: "kaas-hapt-" + suffix, dir: t.TempDir(),
		ips: map[string]string{}, mres: map[string]*dockertest.Resource{}}
	// Leftovers of a run that was killed.
	for _, c := range []string{"lb", "a", "b"} {
		_ = pool.RemoveContainerByName("^/" + e.name + "-" + c + "$")
	}
	_ = pool.Client.RemoveNetwork(e.name)
	// A subnet of our own, as the VIP is a fixed address (docker allows one only on a network
	// with a configured subnet); another network may hold the first candidate.
	h := fnv.New32a()
	h.Write([]byte(e.name))
	for i := range uint32(40) {
		n := (h.Sum32()+i)%250 + 1
		subnet := netip.MustParsePrefix(fmt.Sprintf("10.213.%d.0/24", n))
		nw, err := pool.CreateNetwork(e.name, func(o *docker.CreateNetworkOptions) {
			o.Driver = "bridge"
			o.Labels = map[string]string{"kaas.test": "haproxy-image"}
			o.IPAM = &docker.IPAMOptions{Config: []docker.IPAMConfig{{Subnet: subnet.String(), Gateway: subnet.Addr().Next().String()}}}
		})
		if err != nil {
			if strings.Contains(err.Error(), "overlap") {
				continue
			}
			t.Fatalf("creating docker network %s on %s: %v", e.name, subnet, err)
		}
		e.net, e.subnet = nw, subnet
		t.Cleanup(func() { _ = nw.Close() })
		break
	}
	if e.net == nil {
		t.Fatalf("creating docker network %s: every candidate subnet of 10.213.0.0/16 overlaps another network", e.name)
	}
	e.vip = e.host(100)
	return e
}

// host is address .n of the env's subnet.
func (e *amphoraEnv) host(n byte) string {
	a := e.subnet.Addr().As4()
	a[3] = n
	return netip.AddrFrom4(a).String()
}

// cleanup prints the logs of container id when the test failed and removes the container.
func (e *amphoraEnv) cleanup(name, id string) {
	e.t.Cleanup(func() {
		if e.t.Failed() {
			var logs bytes.Buffer
			_ = e.pool.Client.Logs(docker.LogsOptions{Container: id, OutputStream: &logs, ErrorStream: &logs, Stdout: true, Stderr: true})
			e.t.Logf("logs of %s:\n%s", name, logs.String())
		}
		_ = e.pool.Client.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true})
	})
}

// member starts busybox httpd on memberPort serving "member-<name>" and waits until it serves.
func (e *amphoraEnv) member(name string) string {
	e.t.Helper()
	cname := e.name + "-" + name
	r, err := e.pool.RunWithOptions(&dockertest.RunOptions{
		Name: cname, Repository: memberRepo, Tag: memberTag, Networks: []*dockertest.Network{e.net},
		Cmd: []string{"sh", "-c", fmt.Sprintf("mkdir -p /www && echo member-%s > /www/index.html && exec httpd -f -p %d -h /www", name, memberPort)},
	})
	if err != nil {
		e.t.Fatalf("starting member %s: %v", cname, err)
	}
	e.cleanup(cname, r.Container.ID)
	ip := r.GetIPInNetwork(e.net)
	if ip == "" {
		e.t.Fatalf("member %s has no address on %s", cname, e.net.Network.Name)
	}
	e.ips[name], e.mres[name] = ip, r
	addr := net.JoinHostPort(ip, fmt.Sprint(memberPort))
	testenv.Eventually(e.t, "member "+name+" serves on "+addr, 10*time.Second, func() (bool, string) {
		page, err := getPage(addr)
		return page == "member-"+name, fmt.Sprintf("%q, %v", page, err)
	})
	return ip
}

// render is Render as fakecloud's docker backend calls it.
func (e *amphoraEnv) render(spec loadbalancer.Spec) []byte {
	e.t.Helper()
	cfg, err := Render(spec, Options{StatsSocket: amphoraStats, Log: true})
	if err != nil {
		e.t.Fatalf("Render: %v", err)
	}
	return cfg
}

// start writes the configuration of spec and starts the amphora on the VIP, as
// EnsureLoadBalancer does for a new load balancer, then waits until its stats socket answers.
func (e *amphoraEnv) start(spec loadbalancer.Spec) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "haproxy.cfg"), e.render(spec), 0o644); err != nil {
		e.t.Fatal(err)
	}
	cname := e.name + "-lb"
	c, err := e.pool.Client.CreateContainer(docker.CreateContainerOptions{
		Name:       cname,
		Config:     &docker.Config{Image: amphoraRepo + ":" + amphoraTag, Hostname: "amphora-" + spec.ID[:min(8, len(spec.ID))]},
		HostConfig: &docker.HostConfig{Binds: []string{e.dir + ":" + amphoraDir}},
		NetworkingConfig: &docker.NetworkingConfig{EndpointsConfig: map[string]*docker.EndpointConfig{
			e.net.Network.Name: {IPAMConfig: &docker.EndpointIPAMConfig{IPv4Address: e.vip}},
		}},
	})
	if err != nil {
		e.t.Fatalf("creating the amphora %s: %v", cname, err)
	}
	e.cleanup(cname, c.ID)
	if err := e.pool.Client.StartContainer(c.ID, nil); err != nil {
		e.t.Fatalf("starting the amphora %s: %v", cname, err)
	}
	r, ok := e.pool.ContainerByName("^/" + cname + "$")
	if !ok {
		e.t.Fatalf("the amphora %s is gone right after it started", cname)
	}
	e.lb = r
	testenv.Eventually(e.t, "the amphora's stats socket answers", 15*time.Second, func() (bool, string) {
		if c, err := e.pool.Client.InspectContainer(r.Container.ID); err != nil || !c.State.Running {
			e.t.Fatalf("the amphora is not running: %v %+v", err, c.State)
		}
		_, err := e.health()
		return err == nil, fmt.Sprint(err)
	})
}

// exec runs cmd in r and returns its exit code, stdout and stderr.
func (e *amphoraEnv) exec(r *dockertest.Resource, cmd ...string) (int, string, string) {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	code, err := r.Exec(cmd, dockertest.ExecOptions{StdOut: &stdout, StdErr: &stderr})
	if err != nil {
		e.t.Fatalf("exec %v in %s: %v", cmd, r.Container.Name, err)
	}
	return code, stdout.String(), stderr.String()
}

// admin sends one command to the stats socket as fakecloud does.
func (e *amphoraEnv) admin(command string) (string, error) {
	code, out, errOut := e.exec(e.lb, "sh", "-c", "echo '"+command+"' | socat stdio "+amphoraStats)
	if code != 0 {
		return "", fmt.Errorf("%s: exit %d: %s%s", command, code, out, errOut)
	}
	return out, nil
}

// health is MemberHealth: `show stat` parsed by ParseStats.
func (e *amphoraEnv) health() (map[string]string, error) {
	out, err := e.admin("show stat")
	if err != nil {
		return nil, err
	}
	return ParseStats([]byte(out))
}

// checkStatus returns the check_status column of `show stat` (L4OK, L7OK, L4TOUT, INI, ...)
// by server name: HAProxy starts servers UP before their first check, so ONLINE alone does
// not show that a monitor passes.
func (e *amphoraEnv) checkStatus() (map[string]string, error) {
	out, err := e.admin("show stat")
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("show stat: %v: %q", err, out)
	}
	sv, st := slices.Index(rows[0], "svname"), slices.Index(rows[0], "check_status")
	if sv < 0 || st < 0 {
		return nil, fmt.Errorf("show stat has no svname or check_status column: %q", rows[0])
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		if len(row) > max(sv, st) && row[sv] != "FRONTEND" && row[sv] != "BACKEND" {
			got[row[sv]] = row[st]
		}
	}
	return got, nil
}

// waitChecksPass waits until the HTTP monitor's checks of the named members pass (L7OK) and
// the TCP monitor's (L4OK), i.e. each has run against a healthy member.
func (e *amphoraEnv) waitChecksPass(members ...string) {
	e.t.Helper()
	want := map[string]string{}
	for _, m := range members {
		want["m-http-"+m], want["m-tcp-"+m] = "L7OK", "L4OK"
	}
	took := testenv.Eventually(e.t, fmt.Sprintf("the monitors' checks pass: %v", want), 10*time.Second, func() (bool, string) {
		got, err := e.checkStatus()
		return err == nil && maps.Equal(got, want), fmt.Sprintf("%v, %v", got, err)
	})
	e.t.Logf("checks of %v passed within %s", members, took.Round(time.Millisecond))
}

// waitHealth waits until the members' health is want and returns how long that took.
func (e *amphoraEnv) waitHealth(d time.Duration, want map[string]string) time.Duration {
	e.t.Helper()
	return testenv.Eventually(e.t, fmt.Sprintf("member health %v", want), d, func() (bool, string) {
		got, err := e.health()
		return err == nil && maps.Equal(got, want), fmt.Sprintf("%v, %v", got, err)
	})
}

// reload installs the configuration of spec as reloadLoadBalancer does: haproxy.cfg.next,
// checked by `haproxy -c` in the container, renamed over haproxy.cfg, SIGUSR2 to the container.
func (e *amphoraEnv) reload(spec loadbalancer.Spec) {
	e.t.Helper()
	next := filepath.Join(e.dir, "haproxy.cfg.next")
	if err := os.WriteFile(next, e.render(spec), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if code, out, errOut := e.exec(e.lb, "haproxy", "-c", "-q", "-f", amphoraDir+"/haproxy.cfg.next"); code != 0 {
		e.t.Fatalf("haproxy -c refuses the new configuration: exit %d: %s%s", code, out, errOut)
	}
	if err := os.Rename(next, filepath.Join(e.dir, "haproxy.cfg")); err != nil {
		e.t.Fatal(err)
	}
	if err := e.pool.Client.KillContainer(docker.KillContainerOptions{ID: e.lb.Container.ID, Signal: docker.SIGUSR2}); err != nil {
		e.t.Fatalf("SIGUSR2 to the amphora: %v", err)
	}
}

func (e *amphoraEnv) at(port int) string { return net.JoinHostPort(e.vip, fmt.Sprint(port)) }

// testSpec is a load balancer on the VIP with an HTTP listener on httpPort in front of pool
// p-http (HTTP monitor) and a TCP listener on tcpPort in front of pool p-tcp (TCP monitor),
// both round robin over the named members; monitors check every second, fall and rise 2.
func (e *amphoraEnv) testSpec(members ...string) loadbalancer.Spec {
	listener := func(id, proto string, port int, pool string) loadbalancer.ListenerSpec {
		return loadbalancer.ListenerSpec{ID: id, Protocol: proto, ProtocolPort: port, AdminStateUp: true, ConnectionLimit: -1,
			DefaultPoolID: pool, TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000}
	}
	pool := func(id, proto, monitor string) loadbalancer.PoolSpec {
		p := loadbalancer.PoolSpec{ID: id, Protocol: proto, LBAlgorithm: "ROUND_ROBIN", AdminStateUp: true,
			Monitor: &loadbalancer.MonitorSpec{ID: "hm-" + id, Type: monitor, Delay: 1, Timeout: 1, MaxRetries: 2, MaxRetriesDown: 2,
				AdminStateUp: true}}
		if monitor == "HTTP" {
			p.Monitor.HTTPMethod, p.Monitor.URLPath, p.Monitor.ExpectedCodes = "GET", "/", "200"
		}
		for _, m := range members {
			p.Members = append(p.Members, loadbalancer.MemberSpec{ID: "m-" + strings.TrimPrefix(id, "p-") + "-" + m,
				Address: e.ips[m], ProtocolPort: memberPort, Weight: 1, AdminStateUp: true})
		}
		return p
	}
	return loadbalancer.Spec{
		ID: "lb-imagetest", Name: "imagetest", Project: "demo", AdminStateUp: true,
		VIP:       loadbalancer.VIP{Address: e.vip},
		Listeners: []loadbalancer.ListenerSpec{listener("l-http", "HTTP", httpPort, "p-http"), listener("l-tcp", "TCP", tcpPort, "p-tcp")},
		Pools:     []loadbalancer.PoolSpec{pool("p-http", "HTTP", "HTTP"), pool("p-tcp", "TCP", "TCP")},
	}
}

// Requests from the test process: no proxy from the environment, a new connection each time.
var pageClient = &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// getPage fetches http://addr/ and returns the body, trimmed.
func getPage(addr string) (string, error) {
	resp, err := pageClient.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, body)
	}
	return strings.TrimSpace(string(body)), nil
}

// pages fetches http://addr/ n times and returns the bodies, failing the test on an error.
func pages(t *testing.T, addr string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		p, err := getPage(addr)
		if err != nil {
			t.Fatalf("request %d to %s: %v (pages so far: %q)", i+1, addr, err, out)
		}
		out = append(out, p)
	}
	return out
}

// assertRoundRobin checks that got alternates strictly between member-a and member-b.
func assertRoundRobin(t *testing.T, what string, got []string) {
	t.Helper()
	seen := map[string]bool{}
	for i, p := range got {
		seen[p] = true
		if i > 0 && p == got[i-1] {
			t.Errorf("%s: requests %d and %d both reached %s; want round robin: %q", what, i, i+1, p, got)
			return
		}
	}
	if !maps.Equal(seen, map[string]bool{"member-a": true, "member-b": true}) {
		t.Errorf("%s: reached %v, want member-a and member-b in turn: %q", what, slices.Sorted(maps.Keys(seen)), got)
	}
}

func allOnline(ids ...string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		out[id] = loadbalancer.OpOnline
	}
	return out
}

// TestImageListenersRoundRobin: an HTTP and a TCP listener forward to both members, in turn.
func TestImageListenersRoundRobin(t *testing.T) {
	e := newAmphoraEnv(t)
	e.member("a")
	e.member("b")
	e.start(e.testSpec("a", "b"))
	e.waitHealth(10*time.Second, allOnline("m-http-a", "m-http-b", "m-tcp-a", "m-tcp-b"))
	e.waitChecksPass("a", "b")
	assertRoundRobin(t, "HTTP listener "+e.at(httpPort), pages(t, e.at(httpPort), 6))
	assertRoundRobin(t, "TCP listener "+e.at(tcpPort), pages(t, e.at(tcpPort), 6))
}

// TestImageHealthMonitorMarksStoppedMemberDown: with member a stopped, both monitors mark it
// DOWN (ERROR) and keep b ONLINE, and both listeners send everything to b.
func TestImageHealthMonitorMarksStoppedMemberDown(t *testing.T) {
	e := newAmphoraEnv(t)
	e.member("a")
	e.member("b")
	e.start(e.testSpec("a", "b"))
	e.waitHealth(10*time.Second, allOnline("m-http-a", "m-http-b", "m-tcp-a", "m-tcp-b"))
	e.waitChecksPass("a", "b")
	assertRoundRobin(t, "before the stop: HTTP listener", pages(t, e.at(httpPort), 4))
	assertRoundRobin(t, "before the stop: TCP listener", pages(t, e.at(tcpPort), 4))

	if err := e.pool.Client.StopContainer(e.mres["a"].Container.ID, 0); err != nil {
		t.Fatalf("stopping member a: %v", err)
	}
	down := e.waitHealth(15*time.Second, map[string]string{
		"m-http-a": loadbalancer.OpError, "m-tcp-a": loadbalancer.OpError,
		"m-http-b": loadbalancer.OpOnline, "m-tcp-b": loadbalancer.OpOnline,
	})
	t.Logf("member a ERROR %s after it stopped (inter 1s, fall 2, timeout 1s)", down.Round(time.Millisecond))
	for _, port := range []int{httpPort, tcpPort} {
		got := pages(t, e.at(port), 6)
		for i, p := range got {
			if p != "member-b" {
				t.Errorf("%s: request %d reached %s with member a DOWN: %q", e.at(port), i+1, p, got)
				break
			}
		}
	}
}

// TestImageSeamlessReload: a TCP connection established through the old configuration (to
// member a) stays open across a reload to a configuration whose pool holds only member b and
// which adds a listener; new connections get the new configuration; the container (the
// master process) keeps running.
func TestImageSeamlessReload(t *testing.T) {
	e := newAmphoraEnv(t)
	e.member("a")
	e.member("b")
	e.start(e.testSpec("a"))
	e.waitHealth(10*time.Second, allOnline("m-http-a", "m-tcp-a"))
	before, err := e.pool.Client.InspectContainer(e.lb.Container.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Half a request: busybox httpd waits for the rest, HAProxy (mode tcp) has connected to a.
	conn, err := net.DialTimeout("tcp", e.at(tcpPort), 3*time.Second)
	if err != nil {
		t.Fatalf("connecting to the TCP listener: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.0\r\n")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the old worker holds the connection to member a", 5*time.Second, func() (bool, string) {
		out, err := e.admin("show sess")
		return err == nil && strings.Contains(out, "fe=l-tcp be=p-tcp srv=m-tcp-a"), fmt.Sprintf("%s %v", out, err)
	})

	next := e.testSpec("b")
	extra := next.Listeners[1]
	extra.ID, extra.ProtocolPort = "l-tcp-2", tcpPort+1
	next.Listeners = append(next.Listeners, extra)
	e.reload(next)
	took := testenv.Eventually(t, "the new configuration serves: member b on "+e.at(tcpPort), 10*time.Second, func() (bool, string) {
		p, err := getPage(e.at(tcpPort))
		return p == "member-b", fmt.Sprintf("%q, %v", p, err)
	})
	t.Logf("new configuration served %s after SIGUSR2", took.Round(time.Millisecond))
	for _, port := range []int{httpPort, tcpPort, tcpPort + 1} {
		for i, p := range pages(t, e.at(port), 4) {
			if p != "member-b" {
				t.Errorf("after the reload %s: request %d reached %s; the new configuration has member b only", e.at(port), i+1, p)
				break
			}
		}
	}
	e.waitHealth(10*time.Second, allOnline("m-http-b", "m-tcp-b"))

	// The old connection: still open, still to member a.
	if _, err := conn.Write([]byte("\r\n")); err != nil {
		t.Fatalf("the connection established before the reload is gone: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the connection established before the reload got no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the answer on the old connection: %v", err)
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "member-a" {
		t.Errorf("the connection established before the reload: %s %q, want 200 member-a", resp.Status, body)
	}

	after, err := e.pool.Client.InspectContainer(e.lb.Container.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.State.Running || after.State.StartedAt != before.State.StartedAt || after.RestartCount != 0 {
		t.Errorf("the amphora restarted instead of reloading: running %v, started %s then %s, restarts %d",
			after.State.Running, before.State.StartedAt, after.State.StartedAt, after.RestartCount)
	}
}

// TestImageCheckRefusesBrokenConfig: `haproxy -c -q` in the running amphora (the check
// reloadLoadBalancer makes before SIGUSR2) accepts Render's configuration and refuses broken
// ones, for the reason each is broken.
func TestImageCheckRefusesBrokenConfig(t *testing.T) {
	e := newAmphoraEnv(t)
	// Members need not exist: nothing is forwarded.
	e.ips["a"], e.ips["b"] = e.host(201), e.host(202)
	spec := e.testSpec("a", "b")
	e.start(spec)
	good := string(e.render(spec))
	next := filepath.Join(e.dir, "haproxy.cfg.next")
	check := func(cfg string) (int, string) {
		t.Helper()
		if err := os.WriteFile(next, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := e.exec(e.lb, "haproxy", "-c", "-q", "-f", amphoraDir+"/haproxy.cfg.next")
		if code == 0 {
			return 0, out + errOut
		}
		// -q prints nothing: again without it, for the reason.
		_, out, errOut = e.exec(e.lb, "haproxy", "-c", "-f", amphoraDir+"/haproxy.cfg.next")
		return code, out + errOut
	}
	if code, out := check(good); code != 0 {
		t.Fatalf("control: haproxy -c refuses Render's configuration: exit %d: %s\n%s", code, out, good)
	}
	replace := func(old, repl string) string {
		t.Helper()
		if !strings.Contains(good, old) {
			t.Fatalf("the rendered configuration has no %q:\n%s", old, good)
		}
		return strings.Replace(good, old, repl, 1)
	}
	serverA := "server m-tcp-a " + e.ips["a"] + ":8080"
	tests := []struct{ name, cfg, reason string }{
		{"unknown algorithm", replace("balance roundrobin", "balance roundrobbin"), "balance only supports"},
		{"missing backend", replace("default_backend p-tcp", "default_backend p-gone"), "unable to find required default_backend: 'p-gone'"},
		{"port out of range", replace(serverA, serverA+"0"), "invalid port '80800'"},
		{"unknown keyword", replace("    option redispatch\n", "    option redispatch\n    retry-on-everything\n"), "unknown keyword 'retry-on-everything'"},
		{"truncated", good[:strings.Index(good, serverA)+len("server m-tcp-a")], "'server' expects <name> and <addr>"},
	}
	for _, tt := range tests {
		code, out := check(tt.cfg)
		if code == 0 {
			t.Errorf("%s: haproxy -c accepts it:\n%s", tt.name, tt.cfg)
			continue
		}
		if !strings.Contains(out, tt.reason) {
			t.Errorf("%s: haproxy -c refuses it (exit %d) but not for %q: %s", tt.name, code, tt.reason, out)
		}
	}
}
