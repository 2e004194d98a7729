package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/docker"
)

// DockerOptions size a run of RunDocker.
type DockerOptions struct {
	Servers  int    // servers created at once in the burst; default 10
	Version  string // Kubernetes version of the node image booted, e.g. v1.37.2 (required)
	Progress io.Writer
}

// DockerRow is one measured operation of the docker backend.
type DockerRow struct {
	Op     string
	Count  int
	Median time.Duration
	Max    time.Duration
	Note   string
}

// DockerReport is a whole run of RunDocker.
type DockerReport struct{ Rows []DockerRow }

// Print writes the report as a table.
func (r DockerReport) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "operation (docker backend)\tcount\tmedian\tmax\t\n")
	dur := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return d.Round(10 * time.Millisecond).String()
	}
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", row.Op, row.Count, dur(row.Median), dur(row.Max), row.Note)
	}
	tw.Flush()
}

func (r *DockerReport) add(op string, lat []time.Duration, note string) {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r.Rows = append(r.Rows, DockerRow{Op: op, Count: len(s), Median: s[len(s)/2], Max: s[len(s)-1], Note: note})
}

// RunDocker starts a docker-backend fakecloud (its own instance and public network) and
// measures what users wait for: a server to be ACTIVE and its cloud-init to finish, alone and
// in a burst, a load balancer to be ACTIVE, and the memory of an idle VM container. It
// removes everything it made. The node image of opts.Version must be built (make images).
func RunDocker(ctx context.Context, opts DockerOptions) (DockerReport, error) {
	if opts.Servers <= 0 {
		opts.Servers = 10
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "fakecloud-bench-docker-")
	if err != nil {
		return DockerReport{}, err
	}
	defer os.RemoveAll(dir)
	instance := fmt.Sprintf("bench%d", time.Now().UnixNano()%100000)
	b, err := docker.New(ctx, docker.Config{Instance: instance, DataDir: dir + "/docker", PublicNetwork: instance + "-public"})
	if err != nil {
		return DockerReport{}, err
	}
	defer func() { _, _ = b.Down(context.WithoutCancel(ctx)) }()
	r := &runner{opts: Options{Progress: opts.Progress}}
	r.cfg = cloud.Config{DataDir: dir, Seed: cloud.Seed{AdminPassword: "bench", DemoPassword: "bench", ExternalCIDR: "192.168.252.0/24", BareMetalNodes: -1},
		Workers: 16, Backends: cloud.Backends{Compute: b, Network: b, LoadBalancer: b, BareMetal: b, World: b, Reserved: docker.ReservedBlock}}
	if err := r.start(ctx); err != nil {
		return DockerReport{}, err
	}
	defer r.stop()
	if err := r.clients(ctx); err != nil {
		return DockerReport{}, err
	}
	d := &dockerRun{runner: r, instance: instance, version: opts.Version, burst: opts.Servers}
	return d.report, d.run(ctx)
}

type dockerRun struct {
	*runner
	instance, version string
	burst             int
	netID, imageID    string
	report            DockerReport
}

func (d *dockerRun) progress(format string, args ...any) {
	fmt.Fprintf(d.opts.Progress, "  "+format+"\n", args...)
}

func (d *dockerRun) run(ctx context.Context) error {
	for _, res := range d.c.Resources() {
		if res.Service == "image" && res.Name == "kaas-node-"+d.version {
			d.imageID = res.ID
		}
	}
	if d.imageID == "" {
		return fmt.Errorf("no image kaas-node-%s in fakecloud: --version must be a pinned version", d.version)
	}
	pub, err := networks.List(d.network, networks.ListOpts{Name: "public"}).AllPages(ctx)
	if err != nil {
		return err
	}
	pubs, err := networks.ExtractNetworks(pub)
	if err != nil || len(pubs) != 1 {
		return fmt.Errorf("finding the public network: %v", err)
	}
	netID, subnetID, err := d.network16(ctx, "bench", "10.79.0.0/16")
	if err != nil {
		return err
	}
	d.netID = netID
	rt, err := routers.Create(ctx, d.network, routers.CreateOpts{Name: "bench", GatewayInfo: &routers.GatewayInfo{NetworkID: pubs[0].ID}}).Extract()
	if err != nil {
		return err
	}
	if _, err := routers.AddInterface(ctx, d.network, rt.ID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract(); err != nil {
		return err
	}

	d.progress("one server: create -> ACTIVE -> cloud-init done")
	active, done, err := d.servers(ctx, 1, "single")
	if err != nil {
		return err
	}
	d.report.add("server create -> ACTIVE", active, "container running")
	d.report.add("server create -> cloud-init done", done, "systemd boot + NoCloud")

	d.progress("%d servers at once", d.burst)
	active, done, err = d.servers(ctx, d.burst, "burst")
	if err != nil {
		return err
	}
	d.report.add(fmt.Sprintf("%d servers at once -> ACTIVE", len(active)), active, "")
	d.report.add(fmt.Sprintf("%d servers at once -> cloud-init done", len(done)), done, "")

	d.progress("load balancer with a public VIP: create -> ACTIVE")
	var lbLat []time.Duration
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		lb, err := loadbalancers.Create(ctx, d.lb, loadbalancers.CreateOpts{Name: fmt.Sprintf("bench-%d", i), VipSubnetID: pubs[0].Subnets[0]}).Extract()
		if err != nil {
			return err
		}
		for {
			got, err := loadbalancers.Get(ctx, d.lb, lb.ID).Extract()
			if err != nil {
				return err
			}
			if got.ProvisioningStatus == "ACTIVE" {
				break
			}
			if got.ProvisioningStatus == "ERROR" || time.Since(t0) > 3*time.Minute {
				return fmt.Errorf("load balancer %s: %s", lb.ID, got.ProvisioningStatus)
			}
			time.Sleep(100 * time.Millisecond)
		}
		lbLat = append(lbLat, time.Since(t0))
	}
	d.report.add("load balancer create -> ACTIVE", lbLat, "HAProxy container")

	d.progress("idle memory of the VM containers (after 20 s of quiet)")
	time.Sleep(20 * time.Second)
	mem, err := d.idleMemory(ctx)
	if err != nil {
		return err
	}
	d.report.Rows = append(d.report.Rows, mem)
	return nil
}

// servers creates n servers at once and returns, for each, the time to ACTIVE and to
// cloud-init done.
func (d *dockerRun) servers(ctx context.Context, n int, prefix string) ([]time.Duration, []time.Duration, error) {
	active := make([]time.Duration, n)
	done := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			active[i], done[i], errs[i] = d.oneServer(ctx, fmt.Sprintf("%s-%d", prefix, i))
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return active, done, nil
}

func (d *dockerRun) oneServer(ctx context.Context, name string) (time.Duration, time.Duration, error) {
	t0 := time.Now()
	s, err := servers.Create(ctx, d.compute, servers.CreateOpts{Name: name, FlavorRef: compute.FlavorID("g1.small"), ImageRef: d.imageID,
		Networks: []servers.Network{{UUID: d.netID}}, UserData: []byte("#cloud-config\nruncmd:\n- [touch, /run/bench-ready]\n")}, nil).Extract()
	if err != nil {
		return 0, 0, fmt.Errorf("creating %s: %w", name, err)
	}
	var active time.Duration
	for active == 0 {
		got, err := servers.Get(ctx, d.compute, s.ID).Extract()
		if err != nil {
			return 0, 0, err
		}
		switch {
		case got.Status == "ACTIVE":
			active = time.Since(t0)
		case got.Status == "ERROR":
			return 0, 0, fmt.Errorf("server %s in ERROR: %v", name, got.Fault)
		case time.Since(t0) > 5*time.Minute:
			return 0, 0, fmt.Errorf("server %s not ACTIVE after 5 minutes", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	container := d.instance + "-server-" + s.ID
	for {
		out, _ := exec.CommandContext(ctx, "docker", "exec", container, "cloud-init", "status").CombinedOutput()
		if strings.Contains(string(out), "status: done") {
			return active, time.Since(t0), nil
		}
		if strings.Contains(string(out), "status: error") {
			return 0, 0, fmt.Errorf("cloud-init failed in %s: %s", container, out)
		}
		if time.Since(t0) > 10*time.Minute {
			return 0, 0, fmt.Errorf("cloud-init of %s not done after 10 minutes", name)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// idleMemory reads docker's memory use of every server container.
func (d *dockerRun) idleMemory(ctx context.Context) (DockerRow, error) {
	out, err := exec.CommandContext(ctx, "docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}").CombinedOutput()
	if err != nil {
		return DockerRow{}, fmt.Errorf("docker stats: %v: %s", err, out)
	}
	var mib []float64
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], d.instance+"-server-") {
			continue
		}
		if v, ok := parseMiB(f[1]); ok {
			mib = append(mib, v)
		}
	}
	if len(mib) == 0 {
		return DockerRow{}, fmt.Errorf("docker stats listed no server of %s", d.instance)
	}
	sort.Float64s(mib)
	return DockerRow{Op: "idle VM container memory", Count: len(mib), Note: fmt.Sprintf("median %.0f MiB, max %.0f MiB (docker stats)", mib[len(mib)/2], mib[len(mib)-1])}, nil
}

// parseMiB reads docker stats' "123.4MiB" / "1.2GiB" / "900KiB".
func parseMiB(s string) (float64, bool) {
	units := []struct {
		suffix string
		mib    float64
	}{{"GiB", 1024}, {"MiB", 1}, {"KiB", 1.0 / 1024}, {"B", 1.0 / (1 << 20)}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseFloat(num, 64); err == nil {
				return v * u.mib, true
			}
		}
	}
	return 0, false
}
