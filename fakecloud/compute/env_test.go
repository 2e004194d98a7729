package compute

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// Fixed ids of the stubs.
const (
	netID       = "11111111-1111-4111-8111-111111111111"
	imageID     = "22222222-2222-4222-8222-222222222222"
	queuedImage = "33333333-3333-4333-8333-333333333333"
	portID      = "44444444-4444-4444-8444-444444444444"
)

// stubPorts is a minimal Neutron: one network, addresses 10.0.0.x, one pre-made port.
type stubPorts struct {
	mu       sync.Mutex
	next     int
	ports    map[string]services.PortInfo
	owner    map[string]string // port -> device
	created  map[string]bool
	requests []services.PortRequest
}

func newStubPorts() *stubPorts {
	p := &stubPorts{ports: map[string]services.PortInfo{}, owner: map[string]string{}, created: map[string]bool{}}
	p.ports[portID] = services.PortInfo{ID: portID, NetworkID: netID, NetworkName: "private", MACAddress: "fa:16:3e:00:00:99", FixedIPs: []services.FixedIP{{SubnetID: "sub", IPAddress: "10.0.0.99"}}}
	return p
}

func (p *stubPorts) AttachPort(tx *store.Tx, req services.PortRequest) (services.PortInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, req)
	if req.PortID != "" {
		info, ok := p.ports[req.PortID]
		if !ok {
			return info, httpapi.BadRequest("Port id %s could not be found.", req.PortID)
		}
		if p.owner[req.PortID] != "" {
			return info, httpapi.Conflict("Port %s is still in use.", req.PortID)
		}
		p.owner[req.PortID] = req.DeviceID
		return info, nil
	}
	if req.NetworkID != netID {
		return services.PortInfo{}, httpapi.BadRequest("Network %s could not be found.", req.NetworkID)
	}
	p.next++
	ip := fmt.Sprintf("10.0.0.%d", p.next+1)
	if req.FixedIP != "" {
		ip = req.FixedIP
	}
	info := services.PortInfo{ID: fmt.Sprintf("port-%d", p.next), NetworkID: netID, NetworkName: "private", MACAddress: fmt.Sprintf("fa:16:3e:00:00:%02x", p.next%256), FixedIPs: []services.FixedIP{{SubnetID: "sub", IPAddress: ip}}, Created: true}
	p.ports[info.ID] = info
	p.owner[info.ID] = req.DeviceID
	p.created[info.ID] = true
	return info, nil
}

func (p *stubPorts) DetachPorts(tx *store.Tx, deviceID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, dev := range p.owner {
		if dev == deviceID {
			p.owner[id] = ""
			if p.created[id] {
				delete(p.ports, id)
			}
		}
	}
	return nil
}

func (p *stubPorts) attached(deviceID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, dev := range p.owner {
		if dev == deviceID {
			n++
		}
	}
	return n
}

func (p *stubPorts) Port(id string) (services.PortInfo, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	info, ok := p.ports[id]
	return info, ok
}
func (p *stubPorts) Subnet(string) (services.SubnetInfo, bool)  { return services.SubnetInfo{}, false }
func (p *stubPorts) ExternalNetwork() (string, bool)            { return "", false }
func (p *stubPorts) AutoNetwork(string) (string, bool)          { return netID, true }
func (p *stubPorts) QoSPolicyExists(string) bool                { return false }
func (p *stubPorts) SetPortQoS(*store.Tx, string, string) error { return nil }

// stubImages knows one active and one queued image.
type stubImages struct{}

func (stubImages) Image(project, id string) (services.ImageInfo, bool) {
	switch id {
	case imageID:
		return services.ImageInfo{ID: id, Name: "ubuntu", Status: "active", Visibility: "public", Properties: map[string]string{"kube_version": "v1.33.1"}}, true
	case queuedImage:
		return services.ImageInfo{ID: id, Name: "half", Status: "queued", Visibility: "public"}, true
	}
	return services.ImageInfo{}, false
}

// stubMetal holds bare-metal nodes by resource class; a claimed node becomes active after
// 30 ms.
type stubMetal struct {
	mu    sync.Mutex
	nodes []*stubNode
}

type stubNode struct {
	services.NodeInfo
	claimed time.Time
}

func (m *stubMetal) Claim(tx *store.Tx, class, instance string, userData []byte, meta map[string]string) (services.NodeInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.ResourceClass == class && n.InstanceUUID == "" {
			n.InstanceUUID, n.ProvisionState, n.claimed = instance, "deploying", time.Now()
			return n.NodeInfo, nil
		}
	}
	return services.NodeInfo{}, httpapi.Conflict("No available node of resource class %s", class)
}

func (m *stubMetal) Release(tx *store.Tx, instance string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.InstanceUUID == instance {
			n.InstanceUUID, n.ProvisionState = "", "available"
		}
	}
	return nil
}

func (m *stubMetal) NodeFor(instance string) (services.NodeInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.InstanceUUID == instance {
			if time.Since(n.claimed) > 30*time.Millisecond {
				n.ProvisionState = "active"
			}
			return n.NodeInfo, true
		}
	}
	return services.NodeInfo{}, false
}

// failingBackend fails every create permanently.
type failingBackend struct{ MemoryBackend }

func (failingBackend) CreateServer(context.Context, ServerSpec) error {
	return services.Permanent(fmt.Errorf("image cannot boot"))
}

type testEnv struct {
	*servicetest.Harness
	svc   *Service
	ports *stubPorts
	metal *stubMetal
}

type envOpt struct {
	cfg     Config
	backend Backend
	dir     string // state directory; "" for a new one
	timing  *services.Timing
	quotas  services.QuotaOverrides
}

func newTestEnv(t testing.TB, o envOpt) *testEnv {
	t.Helper()
	timing := services.Timing{ServerBuild: 10 * time.Millisecond, ServerDelete: 5 * time.Millisecond}
	if o.timing != nil {
		timing = *o.timing
	}
	h := servicetest.New(t, servicetest.Options{Dir: o.dir, Timing: timing, Quotas: o.quotas, Tasks: tasks.Options{MaxAttempts: 3}})
	ports := newStubPorts()
	metal := &stubMetal{nodes: []*stubNode{{NodeInfo: services.NodeInfo{ID: "aaaaaaaa-0000-4000-8000-000000000001", ResourceClass: "CUSTOM_BAREMETAL_MEDIUM", ProvisionState: "available"}}}}
	svc, err := New(h.Env, ports, stubImages{}, metal, o.backend, o.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Seed(nil); err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	h.Start()
	return &testEnv{Harness: h, svc: svc, ports: ports, metal: metal}
}

// client returns a gophercloud compute client authenticated with token at microversion mv
// ("" for none).
func (e *testEnv) client(token, mv string) *gophercloud.ServiceClient {
	c := e.Client(token, "compute", "/compute/v2.1/", "/compute/v2.1/")
	c.Microversion = mv
	return c
}

// do sends a raw request (body marshalled unless it is a string) and decodes the answer.
func (e *testEnv) do(t testing.TB, token, mv, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	hdr := http.Header{"Content-Type": {"application/json"}}
	if mv != "" {
		hdr.Set("OpenStack-API-Version", "compute "+mv)
	}
	code, respHdr, data := e.Do(t, token, method, path, hdr, body)
	out, err := servicetest.JSONObject(data)
	if err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, data)
	}
	return code, out, respHdr
}

// waitStatus polls a server until it has status (or is gone when status is "").
func (e *testEnv) waitStatus(t testing.TB, id, status string) Server {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		srv, ok := e.svc.servers.Get(id)
		if status == "" && !ok {
			return srv
		}
		if ok && srv.Status == status && srv.TaskState == "" {
			return srv
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv, _ := e.svc.servers.Get(id)
	t.Fatalf("server %s: want status %q, have %q (task %q, fault %+v)", id, status, srv.Status, srv.TaskState, srv.Fault)
	return srv
}
