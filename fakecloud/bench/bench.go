// Package bench measures fakecloud at scale through gophercloud, the way the providers use it:
// creates per second, and p50/p99 latency of get and list-with-filter of servers, ports and
// load balancers with N of each stored, then the time a restart takes to load them all.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	lbquotas "github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/quotas"
	netquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
)

// Options size a run.
type Options struct {
	N           int // resources of each kind stored; default 10,000
	Concurrency int // parallel clients for creates; default 16
	Samples     int // gets and lists measured per kind; default 1,000
	Progress    io.Writer
}

// Row is one measured operation.
type Row struct {
	Op      string
	Count   int
	PerSec  float64       // creates only
	P50     time.Duration // per request
	P99     time.Duration
	Elapsed time.Duration
}

// Report is a whole run.
type Report struct {
	N    int
	Rows []Row
}

// Print writes the report as a table.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "operation (%d of each stored)\tcount\tper second\tp50\tp99\ttotal\t\n", r.N)
	for _, row := range r.Rows {
		ps := "-"
		if row.PerSec > 0 {
			ps = fmt.Sprintf("%.0f", row.PerSec)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", row.Op, row.Count, ps, ms(row.P50), ms(row.P99), row.Elapsed.Round(time.Millisecond))
	}
	tw.Flush()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

type runner struct {
	opts    Options
	cfg     cloud.Config
	c       *cloud.Cloud
	srv     *http.Server
	cancel  context.CancelFunc
	compute *gophercloud.ServiceClient
	network *gophercloud.ServiceClient
	lb      *gophercloud.ServiceClient
	report  Report
}

// Run starts a memory-backend fakecloud in a temporary directory on loopback, fills it and
// measures it.
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.N <= 0 {
		opts.N = 10000
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Samples <= 0 {
		opts.Samples = 1000
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "fakecloud-bench-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(dir)
	r := &runner{opts: opts, report: Report{N: opts.N}}
	r.cfg = cloud.Config{DataDir: dir, Timing: cloud.MemoryTiming, Seed: cloud.Seed{AdminPassword: "bench", DemoPassword: "bench"}, Workers: 8}
	if err := r.start(ctx); err != nil {
		return Report{}, err
	}
	defer func() { r.stop() }()
	if err := r.clients(ctx); err != nil {
		return Report{}, err
	}
	steps := []func(context.Context) error{r.servers, r.ports, r.loadBalancers, r.restart}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

func (r *runner) start(ctx context.Context) error {
	c, err := cloud.New(r.cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.Close()
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	c.Start(cctx)
	r.c, r.cancel = c, cancel
	r.srv = &http.Server{Handler: c.Handler()}
	go r.srv.Serve(ln)
	r.cfg.PublicURL = "http://" + ln.Addr().String()
	return nil
}

func (r *runner) stop() {
	if r.c == nil {
		return
	}
	r.cancel()
	r.srv.Close()
	r.c.Close()
	r.c = nil
}

func (r *runner) provider(ctx context.Context, user, project string) (*gophercloud.ProviderClient, error) {
	p, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: r.cfg.PublicURL + "/identity/v3",
		Username: user, Password: "bench", DomainName: "Default", TenantName: project, AllowReauth: true})
	if err != nil {
		return nil, fmt.Errorf("authenticating as %s: %w", user, err)
	}
	p.HTTPClient = http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return p, nil
}

// clients authenticates as demo, and as admin lifts demo's quotas so N of everything fit.
func (r *runner) clients(ctx context.Context) error {
	eo := gophercloud.EndpointOpts{Region: "RegionOne"}
	admin, err := r.provider(ctx, "admin", "admin")
	if err != nil {
		return err
	}
	demo, err := r.provider(ctx, "demo", "demo")
	if err != nil {
		return err
	}
	project, ok := r.c.Identity.ProjectByName("demo")
	if !ok {
		return fmt.Errorf("no demo project")
	}
	ac, _ := openstack.NewComputeV2(admin, eo)
	an, _ := openstack.NewNetworkV2(admin, eo)
	al, _ := openstack.NewLoadBalancerV2(admin, eo)
	unlimited := -1
	if _, err := quotasets.Update(ctx, ac, project.ID, quotasets.UpdateOpts{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}).Extract(); err != nil {
		return fmt.Errorf("lifting compute quotas: %w", err)
	}
	if _, err := netquotas.Update(ctx, an, project.ID, netquotas.UpdateOpts{Port: &unlimited, Network: &unlimited, Subnet: &unlimited}).Extract(); err != nil {
		return fmt.Errorf("lifting network quotas: %w", err)
	}
	if _, err := lbquotas.Update(ctx, al, project.ID, lbquotas.UpdateOpts{Loadbalancer: &unlimited}).Extract(); err != nil {
		return fmt.Errorf("lifting load-balancer quotas: %w", err)
	}
	r.compute, _ = openstack.NewComputeV2(demo, eo)
	r.network, _ = openstack.NewNetworkV2(demo, eo)
	r.lb, _ = openstack.NewLoadBalancerV2(demo, eo)
	return nil
}

// parallel runs fn(i) for i in [0,n) on Concurrency workers and records a create row.
func (r *runner) parallel(ctx context.Context, op string, n int, fn func(i int) error) error {
	fmt.Fprintf(r.opts.Progress, "  %s x %d ...\n", op, n)
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < r.opts.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("%s #%d: %w", op, i, err) })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	el := time.Since(start)
	p50, p99 := percentiles(lat)
	r.report.Rows = append(r.report.Rows, Row{Op: op, Count: n, PerSec: float64(n) / el.Seconds(), P50: p50, P99: p99, Elapsed: el})
	return nil
}

// settle waits until the asynchronous work of the creates (BUILD -> ACTIVE...) is done, so
// reads are measured with the resources stored and the cloud at rest.
func (r *runner) settle(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := r.c.Tasks.WaitIdle(wctx); err != nil {
		return fmt.Errorf("waiting for asynchronous work to finish: %w", err)
	}
	return nil
}

// sample runs fn Samples times, one at a time, and records its latency percentiles.
func (r *runner) sample(op string, fn func() error) error {
	n := r.opts.Samples
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		lat[i] = time.Since(t0)
	}
	p50, p99 := percentiles(lat)
	r.report.Rows = append(r.report.Rows, Row{Op: op, Count: n, P50: p50, P99: p99, Elapsed: time.Since(start)})
	return nil
}

func percentiles(lat []time.Duration) (time.Duration, time.Duration) {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]
}

func (r *runner) network16(ctx context.Context, name, cidr string) (string, string, error) {
	n, err := networks.Create(ctx, r.network, networks.CreateOpts{Name: name}).Extract()
	if err != nil {
		return "", "", err
	}
	s, err := subnets.Create(ctx, r.network, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		return "", "", err
	}
	return n.ID, s.ID, nil
}

// resourceKind is what measure needs to know of one kind of resource.
type resourceKind struct {
	name   string                             // "server", "port", "loadbalancer"
	create func(i int) (string, error)        // creates the i-th, returns its id
	get    func(id string) error              // gets one by id
	byName func(i int) (found int, err error) // lists with a filter on the i-th's name
}

// measure creates N of a kind in parallel, lets the asynchronous work settle, then samples
// get and list-with-filter; a filter by one name must find exactly one.
func (r *runner) measure(ctx context.Context, k resourceKind) error {
	ids := make([]string, r.opts.N)
	err := r.parallel(ctx, k.name+" create", r.opts.N, func(i int) error {
		id, err := k.create(i)
		ids[i] = id
		return err
	})
	if err != nil {
		return err
	}
	if err := r.settle(ctx); err != nil {
		return err
	}
	if err := r.sample(k.name+" get", func() error { return k.get(ids[rand.IntN(len(ids))]) }); err != nil {
		return err
	}
	return r.sample(k.name+" list ?name=", func() error {
		n, err := k.byName(rand.IntN(r.opts.N))
		if err == nil && n != 1 {
			return fmt.Errorf("filter by name found %d, want 1", n)
		}
		return err
	})
}

func (r *runner) servers(ctx context.Context) error {
	netID, _, err := r.network16(ctx, "bench-servers", "10.64.0.0/16")
	if err != nil {
		return err
	}
	imageID := ""
	for _, res := range r.c.Resources() {
		if res.Service == "image" && res.Kind == "image" {
			imageID = res.ID
			break
		}
	}
	return r.measure(ctx, resourceKind{
		name: "server",
		create: func(i int) (string, error) {
			s, err := servers.Create(ctx, r.compute, servers.CreateOpts{Name: fmt.Sprintf("bench-%d", i), FlavorRef: compute.FlavorID("g1.small"), ImageRef: imageID,
				Networks: []servers.Network{{UUID: netID}}}, nil).Extract()
			if err != nil {
				return "", err
			}
			return s.ID, nil
		},
		get: func(id string) error {
			_, err := servers.Get(ctx, r.compute, id).Extract()
			return err
		},
		byName: func(i int) (int, error) {
			pages, err := servers.List(r.compute, servers.ListOpts{Name: fmt.Sprintf("^bench-%d$", i)}).AllPages(ctx)
			if err != nil {
				return 0, err
			}
			l, err := servers.ExtractServers(pages)
			return len(l), err
		},
	})
}

func (r *runner) ports(ctx context.Context) error {
	netID, _, err := r.network16(ctx, "bench-ports", "10.65.0.0/16")
	if err != nil {
		return err
	}
	return r.measure(ctx, resourceKind{
		name: "port",
		create: func(i int) (string, error) {
			p, err := ports.Create(ctx, r.network, ports.CreateOpts{Name: fmt.Sprintf("bench-port-%d", i), NetworkID: netID}).Extract()
			if err != nil {
				return "", err
			}
			return p.ID, nil
		},
		get: func(id string) error {
			_, err := ports.Get(ctx, r.network, id).Extract()
			return err
		},
		byName: func(i int) (int, error) {
			pages, err := ports.List(r.network, ports.ListOpts{Name: fmt.Sprintf("bench-port-%d", i)}).AllPages(ctx)
			if err != nil {
				return 0, err
			}
			l, err := ports.ExtractPorts(pages)
			return len(l), err
		},
	})
}

func (r *runner) loadBalancers(ctx context.Context) error {
	_, subnetID, err := r.network16(ctx, "bench-lbs", "10.66.0.0/16")
	if err != nil {
		return err
	}
	return r.measure(ctx, resourceKind{
		name: "loadbalancer",
		create: func(i int) (string, error) {
			lb, err := loadbalancers.Create(ctx, r.lb, loadbalancers.CreateOpts{Name: fmt.Sprintf("bench-lb-%d", i), VipSubnetID: subnetID}).Extract()
			if err != nil {
				return "", err
			}
			return lb.ID, nil
		},
		get: func(id string) error {
			_, err := loadbalancers.Get(ctx, r.lb, id).Extract()
			return err
		},
		byName: func(i int) (int, error) {
			pages, err := loadbalancers.List(r.lb, loadbalancers.ListOpts{Name: fmt.Sprintf("bench-lb-%d", i)}).AllPages(ctx)
			if err != nil {
				return 0, err
			}
			l, err := loadbalancers.ExtractLoadBalancers(pages)
			return len(l), err
		},
	})
}

// restart waits for the asynchronous work to settle, stops the cloud and times a new start on
// the same state (every table loaded, the IP allocation index rebuilt, tasks reloaded).
func (r *runner) restart(ctx context.Context) error {
	fmt.Fprintf(r.opts.Progress, "  waiting for async work, then restart ...\n")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := r.c.Tasks.WaitIdle(wctx); err != nil {
		return fmt.Errorf("waiting for tasks before the restart: %w", err)
	}
	rows := len(r.c.Resources())
	r.stop()
	t0 := time.Now()
	c, err := cloud.New(r.cfg)
	if err != nil {
		return fmt.Errorf("restarting: %w", err)
	}
	el := time.Since(t0)
	defer c.Close()
	if got := len(c.Resources()); got != rows {
		return fmt.Errorf("after the restart %d resources, before %d", got, rows)
	}
	r.report.Rows = append(r.report.Rows, Row{Op: fmt.Sprintf("restart (%d resources)", rows), Count: 1, Elapsed: el, P50: el, P99: el})
	return nil
}
