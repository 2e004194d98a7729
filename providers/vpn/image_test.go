//go:build imagetest

package vpn

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
)

// The image test runs the tunnel's image (Image, built by hack/images/addons.sh) against the
// real docker engine, as the sandbox runs it: a server on a "public" and a "customer" network,
// a client on "public" only, a web server on "customer". It needs dockerd and the image:
// `make test-images` builds the image and runs it.
//
// What it asserts: the client reaches the customer network through the tunnel and only
// through it (with the server stopped the same request fails at once, not after a timeout);
// routes, a gateway redirection and DNS options the server pushes are ignored; a connection
// opened from the server's side toward the client is dropped; a server that hands out an
// address outside the transfer network is refused.

const testTransfer = "100.127.255.0/24"

type imageEnv struct {
	t        *testing.T
	pool     *dockertest.Pool
	public   *dockertest.Network
	customer *dockertest.Network
	custCIDR string
	keys     *PKI
}

func newImageEnv(t *testing.T) *imageEnv {
	t.Helper()
	pool, err := dockertest.NewPool("")
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	if err := pool.Client.Ping(); err != nil {
		t.Fatalf("docker does not answer (make test-images starts it): %v", err)
	}
	if _, err := pool.Client.InspectImage(Image); err != nil {
		t.Fatalf("image %s is missing (hack/images/addons.sh builds it): %v", Image, err)
	}
	e := &imageEnv{t: t, pool: pool}
	suffix := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	for _, n := range []struct {
		net  **dockertest.Network
		name string
	}{{&e.public, "kaas-vpnt-pub-" + suffix}, {&e.customer, "kaas-vpnt-cust-" + suffix}} {
		_ = pool.Client.RemoveNetwork(n.name)
		net, err := pool.CreateNetwork(n.name)
		if err != nil {
			t.Fatalf("creating docker network %s: %v", n.name, err)
		}
		*n.net = net
		t.Cleanup(func() { _ = net.Close() })
	}
	info, err := pool.Client.NetworkInfo(e.customer.Network.ID)
	if err != nil || len(info.IPAM.Config) == 0 {
		t.Fatalf("inspecting the customer network: %v", err)
	}
	e.custCIDR = info.IPAM.Config[0].Subnet
	data, _, err := mendPKI(nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.keys = &PKI{CACert: data[CACertKey], ServerCert: data[ServerCertKey], ServerKey: data[ServerKeyKey],
		ClientCert: data[ClientCertKey], ClientKey: data[ClientKeyKey], TLSCrypt: data[TLSCryptKey]}
	return e
}

// run starts a container of image with name, file contents mounted read-only at /etc/kaas-vpn,
// on network net.
func (e *imageEnv) run(name, image string, net *dockertest.Network, env, cmd []string, files map[string]string, netAdmin bool) *dockertest.Resource {
	e.t.Helper()
	dir := e.t.TempDir()
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	opts := &dockertest.RunOptions{
		Name: name, Repository: strings.Split(image, ":")[0], Tag: strings.Split(image, ":")[1],
		Env: env, Cmd: cmd, Networks: []*dockertest.Network{net},
		Mounts: []string{dir + ":/etc/kaas-vpn:ro"},
	}
	if image != Image {
		opts.Entrypoint = []string{}
		opts.Mounts = nil
	}
	_ = e.pool.RemoveContainerByName(name)
	r, err := e.pool.RunWithOptions(opts, func(hc *docker.HostConfig) {
		if netAdmin {
			hc.CapAdd = []string{"NET_ADMIN"}
		}
		if len(cmd) > 0 && cmd[0] == "server" {
			// What the privileged init container does in the cluster.
			hc.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}
	})
	if err != nil {
		e.t.Fatalf("starting %s: %v", name, err)
	}
	e.t.Cleanup(func() {
		if e.t.Failed() {
			var logs bytes.Buffer
			_ = e.pool.Client.Logs(docker.LogsOptions{Container: r.Container.ID, OutputStream: &logs, ErrorStream: &logs, Stdout: true, Stderr: true})
			e.t.Logf("logs of %s:\n%s", name, logs.String())
		}
		_ = e.pool.Purge(r)
	})
	return r
}

// exec runs cmd in r and returns its exit code and output.
func (e *imageEnv) exec(r *dockertest.Resource, cmd ...string) (int, string) {
	e.t.Helper()
	var out bytes.Buffer
	code, err := r.Exec(cmd, dockertest.ExecOptions{StdOut: &out, StdErr: &out})
	if err != nil {
		e.t.Fatalf("exec %v in %s: %v", cmd, r.Container.Name, err)
	}
	return code, out.String()
}

// get fetches http://addr/ from inside r with bash's /dev/tcp (the image has no HTTP client:
// Debian's static busybox crashes resolving), giving up after seconds.
func (e *imageEnv) get(r *dockertest.Resource, addr string, seconds int) (int, string) {
	host, port, _ := strings.Cut(addr, ":")
	script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3`, host, port)
	return e.exec(r, "timeout", strconv.Itoa(seconds), "bash", "-c", script)
}

// connects reports whether a TCP connection from r to addr opens within 2 s.
func (e *imageEnv) connects(r *dockertest.Resource, addr string) bool {
	host, port, _ := strings.Cut(addr, ":")
	code, _ := e.exec(r, "timeout", "2", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
	return code == 0
}

func ipOn(r *dockertest.Resource, net *dockertest.Network) string {
	return r.GetIPInNetwork(net)
}

// server starts the tunnel's server with conf (ServerConfig's output plus extra lines), on the
// public and the customer network.
func (e *imageEnv) server(name, conf string) *dockertest.Resource {
	e.t.Helper()
	s := e.run(name, Image, e.public, []string{"VPN_ROUTES=" + e.custCIDR, "VPN_TRANSFER=" + testTransfer},
		[]string{"server"}, map[string]string{"server.conf": conf}, true)
	if err := e.pool.Client.ConnectNetwork(e.customer.Network.ID, docker.NetworkConnectionOptions{Container: s.Container.ID}); err != nil {
		e.t.Fatalf("connecting %s to the customer network: %v", name, err)
	}
	if code, out := e.exec(s, "kaas-vpn", "server-init"); code != 0 {
		e.t.Fatalf("kaas-vpn server-init: exit %d: %s", code, out)
	}
	return s
}

func (e *imageEnv) client(name, remote, transfer string) *dockertest.Resource {
	e.t.Helper()
	conf, err := ClientConfig(e.keys, remote, Networks{Nodes: []string{e.custCIDR}, Pods: []string{"10.244.0.0/16"}, Services: []string{"10.96.0.0/12"}}, transfer)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.run(name, Image, e.public, []string{"VPN_ROUTES=" + e.custCIDR + ",10.244.0.0/16,10.96.0.0/12"},
		[]string{"client"}, map[string]string{"client.conf": conf}, true)
}

func TestImageTunnel(t *testing.T) {
	e := newImageEnv(t)
	web := e.run("kaas-vpnt-web", "kaas.local/busybox:1.35.0", e.customer, nil,
		[]string{"sh", "-c", "mkdir -p /www && echo customer-page > /www/index.html && exec httpd -f -p 8080 -h /www"}, nil, false)
	webAddr := ipOn(web, e.customer) + ":8080"

	conf, err := ServerConfig(e.keys, testTransfer)
	if err != nil {
		t.Fatal(err)
	}
	// A hostile server: it pushes a route, a default-gateway redirection and DNS.
	conf += "push \"route 198.18.0.0 255.254.0.0\"\npush \"redirect-gateway def1\"\npush \"dhcp-option DNS 198.18.0.53\"\n"
	srv := e.server("kaas-vpnt-server", conf)
	cli := e.client("kaas-vpnt-client", ipOn(srv, e.public), testTransfer)

	// Before the tunnel (or right as it comes up) the customer network is unreachable or
	// tunnelled, never routed by eth0.
	up := testenv.Eventually(t, "the client routes the customer network through tun0", 30*time.Second, func() (bool, string) {
		_, out := e.exec(cli, "ip", "route", "show", e.custCIDR)
		return strings.Contains(out, "dev tun0"), out
	})
	t.Logf("tunnel up %s after the client started", up.Round(time.Millisecond))

	if code, out := e.get(cli, webAddr, 5); code != 0 || !strings.Contains(out, "customer-page") {
		t.Fatalf("the client does not reach %s through the tunnel: exit %d: %s", webAddr, code, out)
	}
	if ready, out := e.exec(srv, "kaas-vpn", "ready"); ready != 0 {
		t.Errorf("kaas-vpn ready fails on a serving server: %s", out)
	}

	// Nothing the server pushed is taken.
	_, routes := e.exec(cli, "ip", "route", "show")
	for _, bad := range []string{"198.18.0.0", "0.0.0.0/1", "128.0.0.0/1"} {
		if strings.Contains(routes, bad) {
			t.Errorf("the client took a route the server pushed (%s):\n%s", bad, routes)
		}
	}
	if !strings.Contains(routes, "default via") || strings.Contains(routes, "default dev tun0") {
		t.Errorf("the client's default route moved:\n%s", routes)
	}
	if _, resolv := e.exec(cli, "cat", "/etc/resolv.conf"); strings.Contains(resolv, "198.18.0.53") {
		t.Errorf("the client took the server's DNS: %s", resolv)
	}

	// The client's tunnel address; a listener on it; the server side cannot open a connection
	// to it (the same connect from the client itself works: the listener is there).
	_, addr := e.exec(cli, "sh", "-c", "ip -4 -o addr show dev tun0 | awk '{print $4}' | cut -d/ -f1")
	addr = strings.TrimSpace(addr)
	if addr == "" {
		t.Fatal("tun0 has no address")
	}
	if code, out := e.exec(cli, "busybox", "httpd", "-p", "9999", "-h", "/tmp"); code != 0 {
		t.Fatalf("starting a listener in the client: %s", out)
	}
	if !e.connects(cli, addr+":9999") {
		t.Fatalf("control: the client cannot connect to its own listener on %s:9999", addr)
	}
	if e.connects(srv, addr+":9999") {
		t.Errorf("the server's side opened a connection to the client's %s:9999 through the tunnel", addr)
	}

	// A connection held open through the tunnel, as kube-apiserver holds its connections to
	// kubelets: it must not outlive the tunnel (the next tunnel's server has no NAT state for it).
	if code, out := e.exec(cli, "bash", "-c", fmt.Sprintf("(exec 3<>/dev/tcp/%s; sleep 600) >/dev/null 2>&1 &", strings.Replace(webAddr, ":", "/", 1))); code != 0 {
		t.Fatalf("holding a connection open: %s", out)
	}
	held := func() bool {
		_, out := e.exec(cli, "ss", "-tn", "state", "established", "dst", strings.Split(webAddr, ":")[0])
		return strings.Contains(out, webAddr)
	}
	testenv.Eventually(t, "a connection held open through the tunnel", 5*time.Second, func() (bool, string) { return held(), "" })

	// Fail fast: the server gone, the same request fails at once (unreachable route).
	if err := e.pool.Client.StopContainer(srv.Container.ID, 2); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the client drops the tunnel's routes after the server went", 20*time.Second, func() (bool, string) {
		_, out := e.exec(cli, "ip", "route", "show", e.custCIDR)
		return !strings.Contains(out, "dev tun0"), out
	})
	// The connection held open through the tunnel is closed with it (the down script), so a
	// request on it fails at once rather than hanging in TCP's retransmissions.
	testenv.Eventually(t, "the connection held open through the tunnel closed as the tunnel went down", 5*time.Second, func() (bool, string) {
		return !held(), "still established"
	})
	start := time.Now()
	code, out := e.get(cli, webAddr, 10)
	took := time.Since(start)
	if code == 0 {
		t.Fatalf("with the server stopped the client still reaches %s: %s", webAddr, out)
	}
	if took > 2*time.Second {
		t.Errorf("with the server stopped a request took %s to fail; want at once (unreachable route): %s", took, out)
	}
	t.Logf("with the tunnel down a request fails in %s: %s", took.Round(time.Millisecond), strings.TrimSpace(out))

	// The server back: the tunnel comes back, new connections work.
	if err := e.pool.Client.StartContainer(srv.Container.ID, nil); err != nil {
		t.Fatal(err)
	}
	// A new network namespace: what the pod's init container does, again.
	if code, out := e.exec(srv, "kaas-vpn", "server-init"); code != 0 {
		t.Fatalf("kaas-vpn server-init after the restart: exit %d: %s", code, out)
	}
	back := testenv.Eventually(t, "the tunnel back after the server started again", 30*time.Second, func() (bool, string) {
		_, out := e.exec(cli, "ip", "route", "show", e.custCIDR)
		return strings.Contains(out, "dev tun0"), out
	})
	t.Logf("tunnel back %s after the server started again", back.Round(time.Millisecond))
	if code, out := e.get(cli, webAddr, 5); code != 0 || !strings.Contains(out, "customer-page") {
		t.Errorf("after the server came back: exit %d: %s", code, out)
	}
}

func TestImageClientRefusesForeignAddress(t *testing.T) {
	e := newImageEnv(t)
	// The server hands out addresses of 100.96.0.0/24; the client expects the transfer network.
	conf, err := ServerConfig(e.keys, "100.96.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	srv := e.server("kaas-vpnt-server2", conf)
	cli := e.client("kaas-vpnt-client2", ipOn(srv, e.public), testTransfer)
	// The up script refuses the address and OpenVPN exits; the container stays (its pod is
	// kube-apiserver's) and tries again, and no route ever goes through tun0.
	testenv.Eventually(t, "the client refuses the tunnel twice and keeps running", 30*time.Second, func() (bool, string) {
		var logs bytes.Buffer
		_ = e.pool.Client.Logs(docker.LogsOptions{Container: cli.Container.ID, OutputStream: &logs, ErrorStream: &logs, Stdout: true, Stderr: true})
		c, err := e.pool.Client.InspectContainer(cli.Container.ID)
		running := err == nil && c.State.Running
		refusals := strings.Count(logs.String(), "outside the transfer network "+testTransfer+": refusing the tunnel")
		return running && refusals >= 2 && !strings.Contains(logs.String(), "routed through it"), fmt.Sprintf("running %v, %d refusals", running, refusals)
	})
	if _, out := e.exec(cli, "ip", "route", "show", e.custCIDR); strings.Contains(out, "tun") || !strings.Contains(out, "unreachable") {
		t.Errorf("the customer network should stay unreachable, not tunnelled: %s", out)
	}
}
