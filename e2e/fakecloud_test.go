//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// fakecloudProcess is a `fakecloud serve --backend docker` run by the suite.
type fakecloudProcess struct {
	bin, data, instance, public, cidr, listen string
	cmd                                       *exec.Cmd
	log                                       *os.File
}

func (f *fakecloudProcess) cloudsYAML() string { return filepath.Join(f.data, "clouds.yaml") }

func (f *fakecloudProcess) start() {
	var err error
	f.log, err = os.OpenFile(filepath.Join(f.data, "fakecloud.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	Expect(err).NotTo(HaveOccurred())
	f.cmd = exec.Command(f.bin, "serve", "--backend", "docker", "--instance", f.instance, "--public-network", f.public,
		"--external-cidr", f.cidr, "--baremetal-hosts", "1", "--data", filepath.Join(f.data, "state"), "--clouds-yaml", f.cloudsYAML(), "--listen", f.listen)
	f.cmd.Stdout, f.cmd.Stderr = f.log, f.log
	Expect(f.cmd.Start()).To(Succeed())
	Eventually(func() error {
		resp, err := http.Get("http://" + f.listen + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// kill9 stops fakecloud the hard way.
func (f *fakecloudProcess) kill9() {
	_ = f.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = f.cmd.Process.Wait()
	f.log.Close()
}

// dockerObjects lists the containers, networks and volumes labelled with the instance.
func dockerObjects(ctx context.Context, instance string) []string {
	var out []string
	for _, args := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		a := append(args, "-q", "--filter", "label=kaas.fakecloud/instance="+instance)
		b, err := exec.CommandContext(ctx, "docker", a...).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(b))
		for _, f := range strings.Fields(string(b)) {
			out = append(out, args[0]+":"+f)
		}
	}
	return out
}

// httpGet returns the body of a GET, or an error.
func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// userData writes a page with cloud-init and serves it on 8080 (allowed by the test's
// security group) and 8081 (not allowed).
const userData = `#cloud-config
write_files:
- path: /srv/www/index.html
  content: hello from cloud-init
runcmd:
- [sh, -c, "cd /srv/www && nohup python3 -m http.server 8080 >/var/log/http-8080.log 2>&1 &"]
- [sh, -c, "cd /srv/www && nohup python3 -m http.server 8081 >/var/log/http-8081.log 2>&1 &"]
`

var _ = Describe("fakecloud with the docker backend", Ordered, Label("fakecloud"), func() {
	var (
		ctx                                      = context.Background()
		fc                                       *fakecloudProcess
		compute, netw, lbaas, img                *gophercloud.ServiceClient
		netID, subnetID, routerID, sgID, srvID   string
		publicNetID, publicSubnetID, lbID, fipID string
		fixedIP, vip, floatingIP                 string
	)

	clients := func() {
		ao, eo, _, err := clouds.Parse(clouds.WithCloudName("fakecloud-demo"), clouds.WithLocations(fc.cloudsYAML()))
		Expect(err).NotTo(HaveOccurred())
		provider, err := openstack.AuthenticatedClient(ctx, ao)
		Expect(err).NotTo(HaveOccurred())
		compute, err = openstack.NewComputeV2(provider, eo)
		Expect(err).NotTo(HaveOccurred())
		netw, err = openstack.NewNetworkV2(provider, eo)
		Expect(err).NotTo(HaveOccurred())
		lbaas, err = openstack.NewLoadBalancerV2(provider, eo)
		Expect(err).NotTo(HaveOccurred())
		img, err = openstack.NewImageV2(provider, eo)
		Expect(err).NotTo(HaveOccurred())
	}

	waitLB := func() {
		Eventually(func() (string, error) {
			lb, err := loadbalancers.Get(ctx, lbaas, lbID).Extract()
			if err != nil {
				return "", err
			}
			return lb.ProvisioningStatus, nil
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Equal("ACTIVE"))
	}

	// flavorID finds a flavor by name.
	flavorID := func(name string) string {
		fp, err := flavors.ListDetail(compute, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		fs, err := flavors.ExtractFlavors(fp)
		Expect(err).NotTo(HaveOccurred())
		for _, f := range fs {
			if f.Name == name {
				return f.ID
			}
		}
		Fail("no flavor " + name)
		return ""
	}

	// createServer boots a server of flavor on the test's network with userData and waits for
	// it to be ACTIVE.
	createServer := func(name, flavorName string) string {
		pages, err := images.List(img, images.ListOpts{Name: "kaas-node-" + newestPinned()}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		ims, err := images.ExtractImages(pages)
		Expect(err).NotTo(HaveOccurred())
		Expect(ims).To(HaveLen(1))
		flavor := flavorID(flavorName)
		s, err := servers.Create(ctx, compute, servers.CreateOpts{Name: name, ImageRef: ims[0].ID, FlavorRef: flavor,
			Networks: []servers.Network{{UUID: netID}}, SecurityGroups: []string{"e2e-web"}, UserData: []byte(userData)}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() (string, error) {
			s, err := servers.Get(ctx, compute, s.ID).Extract()
			if err != nil {
				return "", err
			}
			if s.Status == "ERROR" {
				return "", StopTrying(fmt.Sprintf("server in ERROR: %v", s.Fault))
			}
			return s.Status, nil
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Equal("ACTIVE"))
		return s.ID
	}

	BeforeAll(func() {
		data, err := os.MkdirTemp("", "fakecloud-e2e-")
		Expect(err).NotTo(HaveOccurred())
		suffix := fmt.Sprintf("%d", time.Now().UnixNano()%100000)
		fc = &fakecloudProcess{bin: filepath.Join(data, "fakecloud"), data: data, instance: "e2e" + suffix,
			public: "e2e" + suffix + "-public", cidr: "192.168.251.0/24", listen: "127.0.0.1:18791"}
		By("building fakecloud")
		build := exec.Command("go", "build", "-o", fc.bin, "./cmd/fakecloud")
		build.Dir = repoRoot
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		fc.start()
		clients()
		DeferCleanup(func() {
			if fc.cmd.ProcessState == nil {
				fc.kill9()
			}
			if CurrentSpecReport().Failed() || os.Getenv("E2E_KEEP") != "" {
				dst := filepath.Join(artifacts, "fakecloud-"+fc.instance)
				_ = os.MkdirAll(dst, 0o755)
				_ = exec.Command("cp", "-r", fc.data+"/.", dst).Run()
				_ = exec.Command("sh", "-c", "docker ps -a --filter label=kaas.fakecloud/instance="+fc.instance+" > "+dst+"/docker-ps.txt").Run()
			}
			out, err := exec.Command(fc.bin, "down", "--instance", fc.instance, "--data", filepath.Join(fc.data, "state")).CombinedOutput()
			GinkgoWriter.Printf("fakecloud down: %s %v\n", out, err)
			_ = os.RemoveAll(fc.data)
		})
	})

	It("wires a network, a router with a gateway and a security group", func() {
		pub, err := networks.List(netw, networks.ListOpts{Name: "public"}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		pubs, err := networks.ExtractNetworks(pub)
		Expect(err).NotTo(HaveOccurred())
		Expect(pubs).To(HaveLen(1))
		publicNetID, publicSubnetID = pubs[0].ID, pubs[0].Subnets[0]

		n, err := networks.Create(ctx, netw, networks.CreateOpts{Name: "e2e-net"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		netID = n.ID
		sn, err := subnets.Create(ctx, netw, subnets.CreateOpts{NetworkID: netID, CIDR: "10.78.1.0/24", IPVersion: gophercloud.IPv4, Name: "e2e-subnet"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		subnetID = sn.ID
		Expect(sn.AllocationPools[0].End).To(Equal("10.78.1.247"), "the top /29 is kept for the backend")
		r, err := routers.Create(ctx, netw, routers.CreateOpts{Name: "e2e-router", GatewayInfo: &routers.GatewayInfo{NetworkID: publicNetID}}).Extract()
		Expect(err).NotTo(HaveOccurred())
		routerID = r.ID
		_, err = routers.AddInterface(ctx, netw, routerID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		g, err := groups.Create(ctx, netw, groups.CreateOpts{Name: "e2e-web"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		sgID = g.ID
		_, err = rules.Create(ctx, netw, rules.CreateOpts{SecGroupID: sgID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.ProtocolTCP, PortRangeMin: 8080, PortRangeMax: 8080, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
		Expect(err).NotTo(HaveOccurred())

		Eventually(func() []string { return dockerObjects(ctx, fc.instance) }).WithTimeout(time.Minute).
			Should(HaveLen(4), "the public network, the private network, the router and the bare-metal host")
	})

	It("boots a server whose user-data runs with cloud-init", func() {
		start := time.Now()
		srvID = createServer("e2e-vm", "g1.small")
		GinkgoWriter.Printf("server ACTIVE after %s\n", time.Since(start).Round(time.Millisecond))
		pp, err := ports.List(netw, ports.ListOpts{DeviceID: srvID}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		ps, err := ports.ExtractPorts(pp)
		Expect(err).NotTo(HaveOccurred())
		Expect(ps).To(HaveLen(1))
		fixedIP = ps[0].FixedIPs[0].IPAddress

		container := fc.instance + "-server-" + srvID
		out, err := exec.Command("docker", "inspect", "-f", "{{.Config.Hostname}} {{index .Config.Labels \"kaas.fakecloud/id\"}}", container).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(strings.Fields(string(out))).To(Equal([]string{"e2e-vm", srvID}))
		Eventually(func() string {
			out, _ := exec.Command("docker", "exec", container, "cloud-init", "status").CombinedOutput()
			return string(out)
		}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(ContainSubstring("status: done"))
		GinkgoWriter.Printf("cloud-init done after %s\n", time.Since(start).Round(time.Millisecond))
		out, err = exec.Command("docker", "exec", container, "cloud-init", "query", "instance_id").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(strings.TrimSpace(string(out))).To(Equal(srvID))
	})

	It("serves the server through a load balancer with a public VIP and through a floating IP", func() {
		lb, err := loadbalancers.Create(ctx, lbaas, loadbalancers.CreateOpts{Name: "e2e-lb", VipSubnetID: publicSubnetID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		lbID, vip = lb.ID, lb.VipAddress
		waitLB()
		l, err := listeners.Create(ctx, lbaas, listeners.CreateOpts{LoadbalancerID: lbID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80, Name: "e2e-http"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		p, err := pools.Create(ctx, lbaas, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin, Name: "e2e-pool"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		_, err = pools.CreateMember(ctx, lbaas, p.ID, pools.CreateMemberOpts{Address: fixedIP, ProtocolPort: 8080, SubnetID: subnetID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		_, err = monitors.Create(ctx, lbaas, monitors.CreateOpts{PoolID: p.ID, Type: monitors.TypeHTTP, Delay: 2, Timeout: 1, MaxRetries: 2, URLPath: "/"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		Eventually(func() (string, error) { return httpGet("http://" + vip + "/") }).WithTimeout(time.Minute).
			Should(ContainSubstring("hello from cloud-init"))
		Eventually(func() (string, error) {
			ms, err := pools.ListMembers(lbaas, p.ID, nil).AllPages(ctx)
			if err != nil {
				return "", err
			}
			all, err := pools.ExtractMembers(ms)
			if err != nil || len(all) != 1 {
				return "", err
			}
			return all[0].OperatingStatus, nil
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal("ONLINE"), "HAProxy's health check sees the member")

		By("reloading HAProxy without dropping an established connection")
		tl, err := listeners.Create(ctx, lbaas, listeners.CreateOpts{LoadbalancerID: lbID, Protocol: listeners.ProtocolTCP, ProtocolPort: 9000, Name: "e2e-tcp"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		tp, err := pools.Create(ctx, lbaas, pools.CreateOpts{ListenerID: tl.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin, Name: "e2e-tcp"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		_, err = pools.CreateMember(ctx, lbaas, tp.ID, pools.CreateMemberOpts{Address: fixedIP, ProtocolPort: 8080, SubnetID: subnetID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB()
		var conn net.Conn
		Eventually(func() error {
			var err error
			conn, err = net.DialTimeout("tcp", vip+":9000", 3*time.Second)
			return err
		}).WithTimeout(30 * time.Second).Should(Succeed())
		defer conn.Close()
		_, err = io.WriteString(conn, "GET / HTTP/1.0\r\n") // half a request: the connection stays open
		Expect(err).NotTo(HaveOccurred())
		_, err = listeners.Create(ctx, lbaas, listeners.CreateOpts{LoadbalancerID: lbID, Protocol: listeners.ProtocolTCP, ProtocolPort: 9001, Name: "e2e-reload"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitLB() // the new configuration is in: HAProxy has reloaded
		_, err = io.WriteString(conn, "Host: e2e\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(conn.SetReadDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		body, err := io.ReadAll(conn)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring("hello from cloud-init"), "the connection opened before the reload was served after it")

		pp, err := ports.List(netw, ports.ListOpts{DeviceID: srvID}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		ps, _ := ports.ExtractPorts(pp)
		f, err := floatingips.Create(ctx, netw, floatingips.CreateOpts{FloatingNetworkID: publicNetID, PortID: ps[0].ID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		fipID, floatingIP = f.ID, f.FloatingIP
		Eventually(func() (string, error) { return httpGet("http://" + floatingIP + ":8080/") }).WithTimeout(time.Minute).
			Should(ContainSubstring("hello from cloud-init"))
		Consistently(func() error { _, err := httpGet("http://" + floatingIP + ":8081/"); return err }).
			WithTimeout(5*time.Second).WithPolling(time.Second).Should(HaveOccurred(), "the security group does not admit 8081")
	})

	It("keeps the private network private", func() {
		// Some hosts route unknown addresses to an upstream that answers anything (a
		// transparent proxy): what must not happen is the server's own page answering.
		body, err := httpGet("http://" + fixedIP + ":8080/")
		Expect(err != nil || !strings.Contains(body, "hello from cloud-init")).To(BeTrue(),
			"the host reached the server's private address: the host must have no route into a private network")
		net := "kind"
		if err := exec.Command("docker", "network", "inspect", "kind").Run(); err != nil {
			net = fc.instance + "-kindlike"
			out, err := exec.Command("docker", "network", "create", net).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			DeferCleanup(func() { _ = exec.Command("docker", "network", "rm", net).Run() })
		}
		out, _ := exec.Command("docker", "run", "--rm", "--network", net, "kaas/base:latest",
			"curl", "-sS", "-m", "5", "http://"+fixedIP+":8080/").CombinedOutput()
		Expect(string(out)).NotTo(ContainSubstring("hello from cloud-init"), "a container on the %s network reached the server's private address", net)
		out, err = exec.Command("docker", "run", "--rm", "--network", fc.public, "kaas/base:latest",
			"curl", "-sS", "-m", "5", "http://"+vip+"/").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "from the public network, the VIP answers: %s", out)
		Expect(string(out)).To(ContainSubstring("hello from cloud-init"))
	})

	It("survives kill -9 of fakecloud", func() {
		fc.kill9()
		Expect(httpGet("http://"+vip+"/")).To(ContainSubstring("hello"), "the data plane does not need fakecloud")
		fc.start()
		clients()
		s, err := servers.Get(ctx, compute, srvID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Status).To(Equal("ACTIVE"))
		Consistently(func() (string, error) { return httpGet("http://" + vip + "/") }).WithTimeout(5 * time.Second).
			WithPolling(500 * time.Millisecond).Should(ContainSubstring("hello"))
		Expect(httpGet("http://" + floatingIP + ":8080/")).To(ContainSubstring("hello"))
	})

	It("stops and starts a server's container, its security rules applied again", func() {
		container := fc.instance + "-server-" + srvID
		running := func() string {
			out, _ := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", container).CombinedOutput()
			return strings.TrimSpace(string(out))
		}
		waitStatus := func(want string) {
			Eventually(func() (string, error) {
				s, err := servers.Get(ctx, compute, srvID).Extract()
				if err != nil {
					return "", err
				}
				return s.Status, nil
			}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal(want))
		}
		Expect(servers.Stop(ctx, compute, srvID).ExtractErr()).To(Succeed())
		waitStatus("SHUTOFF")
		Expect(running()).To(Equal("false"))
		Expect(servers.Start(ctx, compute, srvID).ExtractErr()).To(Succeed())
		waitStatus("ACTIVE")
		Expect(running()).To(Equal("true"))
		// docker gives a started container a new network namespace: the rules must be back.
		Eventually(func() string {
			out, _ := exec.Command("docker", "exec", container, "iptables", "-t", "mangle", "-S").CombinedOutput()
			return string(out)
		}).WithTimeout(time.Minute).Should(ContainSubstring("--dport 8080 -j RETURN"))
	})

	It("puts a server whose container cannot be made into ERROR with docker's reason", func() {
		im, err := images.Create(ctx, img, images.CreateOpts{Name: "e2e-missing", ContainerFormat: "bare", DiskFormat: "raw",
			Properties: map[string]string{"node_image": "kaas/node:v0.0.0-missing"}}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(imagedata.Upload(ctx, img, im.ID, strings.NewReader("not a disk")).ExtractErr()).To(Succeed())
		DeferCleanup(func() { _ = images.Delete(ctx, img, im.ID).ExtractErr() })
		s, err := servers.Create(ctx, compute, servers.CreateOpts{Name: "e2e-broken", ImageRef: im.ID, FlavorRef: flavorID("g1.small"),
			Networks: []servers.Network{{UUID: netID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		var got *servers.Server
		Eventually(func() (string, error) {
			got, err = servers.Get(ctx, compute, s.ID).Extract()
			if err != nil {
				return "", err
			}
			return got.Status, nil
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal("ERROR"))
		Expect(got.Fault.Message).To(ContainSubstring("kaas/node:v0.0.0-missing is not built"))
		Expect(servers.Delete(ctx, compute, s.ID).ExtractErr()).To(Succeed())
		Eventually(func() bool {
			_, err := servers.Get(ctx, compute, s.ID).Extract()
			return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
	})

	It("deploys a bare-metal server on a host of the pool and cleans the host afterwards", func() {
		host := func() (string, string, string) {
			out, err := exec.Command("docker", "ps", "-a", "--filter", "label=kaas.fakecloud/instance="+fc.instance,
				"--filter", "label=kaas.fakecloud/type=baremetal", "--format",
				`{{.Names}} {{.Image}} {{.State}} {{.Label "kaas.fakecloud/instance-uuid"}}`).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			f := strings.Fields(string(out))
			if len(f) < 3 {
				return "", "", "" // between clean's removal and the new blank host
			}
			uuid := ""
			if len(f) > 3 {
				uuid = f[3]
			}
			return f[0], f[1] + " " + f[2], uuid
		}
		_, blank, uuid := host()
		Expect(blank).To(Equal("kaas/slim:latest created"), "an available node is a powered-off blank host")
		Expect(uuid).To(BeEmpty())

		id := createServer("e2e-metal", "bm1.medium")
		name, state, uuid := host()
		Expect(state).To(HavePrefix("kaas/node:"))
		Expect(uuid).To(Equal(id))
		Eventually(func() string {
			out, _ := exec.Command("docker", "exec", name, "cloud-init", "status").CombinedOutput()
			return string(out)
		}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(ContainSubstring("status: done"))
		out, err := exec.Command("docker", "exec", name, "curl", "-sS", "-m", "5", "http://127.0.0.1:8080/").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("hello from cloud-init"))
		Eventually(func() string {
			out, _ := exec.Command("docker", "exec", name, "iptables", "-t", "mangle", "-S").CombinedOutput()
			return string(out)
		}).WithTimeout(time.Minute).Should(ContainSubstring("--dport 8080 -j RETURN"), "the security group is enforced on the bare-metal host too")

		Expect(servers.Delete(ctx, compute, id).ExtractErr()).To(Succeed())
		Eventually(func() string { _, st, _ := host(); return st }).WithTimeout(2*time.Minute).WithPolling(time.Second).
			Should(Equal("kaas/slim:latest created"), "undeploy cleans the host back to a blank one")
	})

	It("deploys a bare-metal node through Ironic alone and cleans it afterwards", func() {
		ao, eo, _, err := clouds.Parse(clouds.WithCloudName("fakecloud-admin"), clouds.WithLocations(fc.cloudsYAML()))
		Expect(err).NotTo(HaveOccurred())
		provider, err := openstack.AuthenticatedClient(ctx, ao)
		Expect(err).NotTo(HaveOccurred())
		ironic, err := openstack.NewBareMetalV1(provider, eo)
		Expect(err).NotTo(HaveOccurred())
		ironic.Microversion = "1.56"
		pages, err := nodes.List(ironic, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		all, err := nodes.ExtractNodes(pages)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveLen(1))
		node := all[0].UUID
		state := func() (string, error) {
			n, err := nodes.Get(ctx, ironic, node).Extract()
			if err != nil {
				return "", err
			}
			return n.ProvisionState, nil
		}
		_, err = nodes.Update(ctx, ironic, node, nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.AddOp,
			Path: "/instance_info/image_source", Value: "kaas/node:" + newestPinned()}}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(nodes.ChangeProvisionState(ctx, ironic, node, nodes.ProvisionStateOpts{Target: nodes.TargetActive,
			ConfigDrive: nodes.ConfigDrive{UserData: userData}}).ExtractErr()).To(Succeed())
		Eventually(state).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal("active"))
		container := fc.instance + "-baremetal-" + node
		Eventually(func() string {
			out, _ := exec.Command("docker", "exec", container, "cloud-init", "status").CombinedOutput()
			return string(out)
		}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(ContainSubstring("status: done"))
		out, err := exec.Command("docker", "exec", container, "cat", "/srv/www/index.html").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("hello from cloud-init"))

		Expect(nodes.ChangeProvisionState(ctx, ironic, node, nodes.ProvisionStateOpts{Target: nodes.TargetDeleted}).ExtractErr()).To(Succeed())
		Eventually(state).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal("available"))
		out, err = exec.Command("docker", "inspect", "-f", "{{.Config.Image}} {{.State.Status}}", container).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(strings.TrimSpace(string(out))).To(Equal("kaas/slim:latest created"), "cleaning puts a blank host back")
	})

	It("wires a subnet whose CIDR the docker network of a deleted network still holds, once that network is gone", func() {
		// A container that is not fakecloud's keeps network A's docker network in use, as the
		// containers of deleted servers do while docker removes them.
		subnetNetwork := func(name, cidr string) string {
			n, err := networks.Create(ctx, netw, networks.CreateOpts{Name: name}).Extract()
			Expect(err).NotTo(HaveOccurred())
			_, err = subnets.Create(ctx, netw, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4, Name: name}).Extract()
			Expect(err).NotTo(HaveOccurred())
			return n.ID
		}
		dockerSubnet := func(id string) string {
			out, _ := exec.Command("docker", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", fc.instance+"-network-"+id).Output()
			return strings.TrimSpace(string(out)) // "" when there is no such network
		}
		a := subnetNetwork("e2e-reuse-a", "10.78.2.0/24")
		Eventually(func() string { return dockerSubnet(a) }).WithTimeout(time.Minute).Should(Equal("10.78.2.0/24"))
		blocker := fc.instance + "-blocker"
		out, err := exec.Command("docker", "run", "-d", "--name", blocker, "--network", fc.instance+"-network-"+a,
			"kaas/slim:latest", "sleep", "600").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		DeferCleanup(func() { _ = exec.Command("docker", "rm", "-f", blocker).Run() })

		Expect(networks.Delete(ctx, netw, a).ExtractErr()).To(Succeed())
		b := subnetNetwork("e2e-reuse-b", "10.78.2.0/24")
		Consistently(func() string { return dockerSubnet(b) }).WithTimeout(5*time.Second).WithPolling(time.Second).
			Should(BeEmpty(), "docker cannot hold B's subnet while A's docker network is in use")
		Expect(dockerSubnet(a)).To(Equal("10.78.2.0/24"), "A's docker network waits for its container")

		out, err = exec.Command("docker", "rm", "-f", blocker).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Eventually(func() string { return dockerSubnet(b) }).WithTimeout(2*time.Minute).WithPolling(time.Second).
			Should(Equal("10.78.2.0/24"), "B is wired once A's docker network is removed")
		Expect(dockerSubnet(a)).To(BeEmpty())

		Expect(networks.Delete(ctx, netw, b).ExtractErr()).To(Succeed())
		Eventually(func() string { return dockerSubnet(b) }).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeEmpty())
	})

	It("leaves nothing behind once everything is deleted through the API", func() {
		Expect(floatingips.Delete(ctx, netw, fipID).ExtractErr()).To(Succeed())
		Expect(loadbalancers.Delete(ctx, lbaas, lbID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr()).To(Succeed())
		Expect(servers.Delete(ctx, compute, srvID).ExtractErr()).To(Succeed())
		Eventually(func() bool {
			_, err := servers.Get(ctx, compute, srvID).Extract()
			return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeTrue())
		Eventually(func() bool {
			_, err := loadbalancers.Get(ctx, lbaas, lbID).Extract()
			return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeTrue())
		_, err := routers.RemoveInterface(ctx, netw, routerID, routers.RemoveInterfaceOpts{SubnetID: subnetID}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(routers.Delete(ctx, netw, routerID).ExtractErr()).To(Succeed())
		Expect(groups.Delete(ctx, netw, sgID).ExtractErr()).To(Succeed())
		Eventually(func() error { return networks.Delete(ctx, netw, netID).ExtractErr() }).WithTimeout(time.Minute).Should(Succeed())
		Eventually(func() []string { return dockerObjects(ctx, fc.instance) }).WithTimeout(2*time.Minute).WithPolling(time.Second).
			Should(HaveLen(2), "only the public network (the sandbox's Internet) and the bare-metal host remain; fakecloud down removes them")
		out, err := exec.Command(fc.bin, "down", "--instance", fc.instance, "--data", filepath.Join(fc.data, "state")).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(dockerObjects(ctx, fc.instance)).To(BeEmpty())
	})
})

// newestPinned is the newest pinned Kubernetes version.
func newestPinned() string {
	vs, err := versionsUnderTest()
	Expect(err).NotTo(HaveOccurred())
	return vs[len(vs)-1].Version
}
