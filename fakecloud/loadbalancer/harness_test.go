package loadbalancer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

type quotaStub struct {
	mu sync.Mutex
	m  map[string]int
}

func (q *quotaStub) Limit(project, resource string) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	v, ok := q.m[project+"/"+resource]
	return v, ok
}

func (q *quotaStub) set(project, resource string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.m[project+"/"+resource] = n
}

// fakePorts is a tiny Neutron: subnets with sequential addresses, ports kept in a table of the
// same store so that they roll back with the caller's update.
type fakePorts struct {
	subnets map[string]services.SubnetInfo
	ext     string
	ports   *store.Table[fakePort]
	mu      sync.Mutex
	next    map[string]int
}

type fakePort struct {
	Info    services.PortInfo `json:"info"`
	Project string            `json:"project"`
	Device  string            `json:"device"`
}

const (
	netDemo    = "11111111-1111-4111-8111-111111111111"
	subnetDemo = "22222222-2222-4222-8222-222222222222"
	netExt     = "33333333-3333-4333-8333-333333333333"
	subnetExt  = "44444444-4444-4444-8444-444444444444"
)

func newFakePorts(db *store.DB) *fakePorts {
	return &fakePorts{
		subnets: map[string]services.SubnetInfo{
			subnetDemo: {ID: subnetDemo, NetworkID: netDemo, Project: "demo", CIDR: "10.0.0.0/16", GatewayIP: "10.0.0.1"},
			subnetExt:  {ID: subnetExt, NetworkID: netExt, Project: "admin", CIDR: "172.24.0.0/16", GatewayIP: "172.24.0.1"},
		},
		ext:   netExt,
		ports: store.MustTable[fakePort](db, "fake_ports"),
		next:  map[string]int{},
	}
}

func (f *fakePorts) AttachPort(tx *store.Tx, req services.PortRequest) (services.PortInfo, error) {
	if req.PortID != "" {
		p, ok := f.ports.Get(req.PortID)
		if !ok || p.Project != req.Project {
			return services.PortInfo{}, httpapi.BadRequest("Port id %s could not be found.", req.PortID)
		}
		if p.Device != "" && p.Device != req.DeviceID {
			return services.PortInfo{}, httpapi.Errorf(http.StatusConflict, "PortInUse", "Port %s is still in use.", p.Info.ID)
		}
		p.Device = req.DeviceID
		return p.Info, f.ports.Put(tx, p.Info.ID, p)
	}
	var sn services.SubnetInfo
	for _, s := range f.subnets {
		if s.NetworkID == req.NetworkID && (req.SubnetID == "" || s.ID == req.SubnetID) {
			sn = s
		}
	}
	if sn.ID == "" {
		return services.PortInfo{}, httpapi.BadRequest("Network %s could not be found.", req.NetworkID)
	}
	addr := req.FixedIP
	if addr == "" {
		f.mu.Lock()
		f.next[sn.ID]++
		n := f.next[sn.ID] + 10
		f.mu.Unlock()
		ip := net.ParseIP(sn.GatewayIP).To4()
		addr = net.IPv4(ip[0], ip[1], byte(n>>8), byte(n)).String()
	}
	if req.FixedIP != "" {
		for _, p := range f.ports.List(nil) {
			for _, fi := range p.Info.FixedIPs {
				if fi.IPAddress == addr {
					return services.PortInfo{}, httpapi.Errorf(http.StatusConflict, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", addr, sn.ID)
				}
			}
		}
	}
	p := fakePort{Project: req.Project, Device: req.DeviceID, Info: services.PortInfo{
		ID: uuid.NewString(), NetworkID: sn.NetworkID, MACAddress: "fa:16:3e:00:00:01",
		FixedIPs: []services.FixedIP{{SubnetID: sn.ID, IPAddress: addr}}, Created: true,
	}}
	return p.Info, f.ports.Put(tx, p.Info.ID, p)
}

// userPort makes a port owned by project with no device, as a user would.
func (f *fakePorts) userPort(t testing.TB, db *store.DB, project, addr string) string {
	id := uuid.NewString()
	err := db.Update(func(tx *store.Tx) error {
		return f.ports.Put(tx, id, fakePort{Project: project, Info: services.PortInfo{ID: id, NetworkID: netDemo, FixedIPs: []services.FixedIP{{SubnetID: subnetDemo, IPAddress: addr}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fakePorts) DetachPorts(tx *store.Tx, deviceID string) error {
	for _, p := range f.ports.List(func(_ string, v *fakePort) bool { return v.Device == deviceID }) {
		if p.Info.Created {
			if err := f.ports.Delete(tx, p.Info.ID); err != nil {
				return err
			}
			continue
		}
		p.Device = ""
		if err := f.ports.Put(tx, p.Info.ID, p); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakePorts) Port(id string) (services.PortInfo, bool) {
	p, ok := f.ports.Get(id)
	return p.Info, ok
}

func (f *fakePorts) Subnet(id string) (services.SubnetInfo, bool) {
	s, ok := f.subnets[id]
	return s, ok
}

func (f *fakePorts) ExternalNetwork() (string, bool) { return f.ext, true }

// qosPolicy is the one QoS policy the fake Neutron knows.
const qosPolicy = "55555555-5555-4555-8555-555555555555"

func (f *fakePorts) QoSPolicyExists(id string) bool { return id == qosPolicy }

func (f *fakePorts) SetPortQoS(*store.Tx, string, string) error { return nil }

// flakyBackend wraps the memory backend with injectable failures.
type flakyBackend struct {
	*MemoryBackend
	mu      sync.Mutex
	fail    error // returned by EnsureLoadBalancer while set
	health  map[string]string
	ensures int
	gate    chan struct{} // while set, backend calls block until it is closed
}

// hold makes backend calls block (so load balancers stay PENDING_*) until release is called.
func (b *flakyBackend) hold() (release func()) {
	ch := make(chan struct{})
	b.mu.Lock()
	b.gate = ch
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		b.gate = nil
		b.mu.Unlock()
		close(ch)
	}
}

func (b *flakyBackend) pass(ctx context.Context) error {
	b.mu.Lock()
	g := b.gate
	b.mu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *flakyBackend) EnsureLoadBalancer(ctx context.Context, spec Spec) error {
	if err := b.pass(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.ensures++
	err := b.fail
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.MemoryBackend.EnsureLoadBalancer(ctx, spec)
}

func (b *flakyBackend) DeleteLoadBalancer(ctx context.Context, id string) error {
	if err := b.pass(ctx); err != nil {
		return err
	}
	return b.MemoryBackend.DeleteLoadBalancer(ctx, id)
}

func (b *flakyBackend) MemberHealth(ctx context.Context, id string) (map[string]string, error) {
	out, err := b.MemoryBackend.MemberHealth(ctx, id)
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range b.health {
		out[k] = v
	}
	return out, err
}

func (b *flakyBackend) setFail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = err
}

type harness struct {
	*servicetest.Harness
	t       testing.TB
	svc     *Service
	ports   *fakePorts
	backend *flakyBackend
	quotas  *quotaStub
}

type harnessOpts struct {
	dir     string // state directory; default a fresh temporary one
	build   time.Duration
	staller tasks.Staller
	maxTry  int
}

func newHarness(t testing.TB) *harness { return newHarnessWith(t, harnessOpts{}) }

// newHarnessWith starts the service; stopping it lets a task that is running finish its
// update (queued ones just stay in the store).
func newHarnessWith(t testing.TB, o harnessOpts) *harness {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := &quotaStub{m: map[string]int{}}
	if o.build == 0 {
		o.build = 5 * time.Millisecond
	}
	st := servicetest.New(t, servicetest.Options{Dir: o.dir, Log: log, Quotas: q, Drain: 20 * time.Millisecond,
		Timing: services.Timing{LoadBalancerBuild: o.build},
		Tasks:  tasks.Options{Staller: o.staller, MaxAttempts: o.maxTry, MaxBackoff: 20 * time.Millisecond}})
	ports := newFakePorts(st.DB)
	be := &flakyBackend{MemoryBackend: NewMemoryBackend()}
	svc, err := New(st.Env, ports, be, Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	st.Start()
	return &harness{Harness: st, t: t, svc: svc, ports: ports, backend: be, quotas: q}
}

// do sends a request as token and decodes the JSON answer (nil for an empty body).
func (h *harness) do(method, path, token string, body any) (int, map[string]any) {
	h.t.Helper()
	code, _, data := h.Do(h.t, token, method, "/load-balancer"+path, http.Header{"Content-Type": {"application/json"}}, body)
	out, err := servicetest.JSONObject(data)
	if err != nil {
		h.t.Fatalf("%s %s: %d, body not a JSON object: %s", method, path, code, data)
	}
	return code, out
}

// must is do that fails the test unless the status is want.
func (h *harness) must(want int, method, path, token string, body any) map[string]any {
	h.t.Helper()
	got, out := h.do(method, path, token, body)
	if got != want {
		h.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, want, out)
	}
	return out
}

// client returns a gophercloud load-balancer client acting as token.
func (h *harness) client(token string) *gophercloud.ServiceClient {
	return h.Client(token, "", "/load-balancer/", "/load-balancer/v2.0/")
}

// wait polls until load balancer id has provisioning status want.
func (h *harness) wait(id, want string) LoadBalancer {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lb, ok := h.svc.lbs.Get(id)
		if want == "" && !ok {
			return lb
		}
		if ok && lb.ProvisioningStatus == want {
			return lb
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("load balancer %s: status %q (exists %v), want %q", id, lb.ProvisioningStatus, ok, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Tasks.WaitIdle(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// activeLB creates a load balancer as token on the demo subnet and waits for ACTIVE.
func (h *harness) activeLB(token string) string {
	h.t.Helper()
	out := h.must(201, "POST", "/v2.0/lbaas/loadbalancers", token, map[string]any{"loadbalancer": map[string]any{"vip_subnet_id": subnetDemo, "name": "lb"}})
	id := out["loadbalancer"].(map[string]any)["id"].(string)
	h.wait(id, StatusActive)
	return id
}

func field(m map[string]any, key, f string) any {
	inner, _ := m[key].(map[string]any)
	return inner[f]
}

var errBoom = errors.New("boom")
