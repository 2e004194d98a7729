package loadbalancer

import (
	"context"
	"sync"
)

// Backend makes load balancers real. The API keeps all state; after every change the task of
// the load balancer hands the backend the whole desired configuration (EnsureLoadBalancer is
// declarative and idempotent: it may be called again with the same Spec after a crash). The
// docker backend runs an HAProxy container per load balancer.
//
// Errors wrapped with services.Permanent put the load balancer into ERROR at once; any other
// error is retried with backoff until the task gives up (then ERROR too).
type Backend interface {
	// EnsureLoadBalancer makes the running load balancer match spec.
	EnsureLoadBalancer(ctx context.Context, spec Spec) error
	// DeleteLoadBalancer removes everything the backend made for load balancer id; deleting
	// an unknown id is not an error.
	DeleteLoadBalancer(ctx context.Context, id string) error
	// MemberHealth reports the operating status (ONLINE, ERROR, OFFLINE, NO_MONITOR) of the
	// members of load balancer id, keyed by member id. Members missing from the map are
	// reported ONLINE when their pool has a health monitor.
	MemberHealth(ctx context.Context, id string) (map[string]string, error)
}

// Spec is the whole configuration of one load balancer, as the backend must apply it. Only
// objects that are not being deleted appear; disabled ones appear with AdminStateUp false.
type Spec struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Project      string         `json:"project"`
	AdminStateUp bool           `json:"admin_state_up"`
	VIP          VIP            `json:"vip"`
	Listeners    []ListenerSpec `json:"listeners"`
	// Pools holds every pool of the load balancer, whether or not a listener uses it.
	Pools []PoolSpec `json:"pools"`
}

// VIP is where a load balancer listens.
type VIP struct {
	Address   string `json:"address"`
	PortID    string `json:"port_id"`
	NetworkID string `json:"network_id"`
	SubnetID  string `json:"subnet_id"`
	// External reports that the VIP is on the router:external network (a public address).
	External bool `json:"external"`
}

// ListenerSpec is one listener of a Spec.
type ListenerSpec struct {
	ID                   string            `json:"id"`
	Protocol             string            `json:"protocol"`
	ProtocolPort         int               `json:"protocol_port"`
	AdminStateUp         bool              `json:"admin_state_up"`
	ConnectionLimit      int               `json:"connection_limit"`
	DefaultPoolID        string            `json:"default_pool_id,omitempty"`
	TimeoutClientData    int               `json:"timeout_client_data"`
	TimeoutMemberConnect int               `json:"timeout_member_connect"`
	TimeoutMemberData    int               `json:"timeout_member_data"`
	TimeoutTCPInspect    int               `json:"timeout_tcp_inspect"`
	AllowedCIDRs         []string          `json:"allowed_cidrs,omitempty"`
	InsertHeaders        map[string]string `json:"insert_headers,omitempty"`
}

// PoolSpec is one pool of a Spec with its members and monitor.
type PoolSpec struct {
	ID                 string              `json:"id"`
	Protocol           string              `json:"protocol"`
	LBAlgorithm        string              `json:"lb_algorithm"`
	AdminStateUp       bool                `json:"admin_state_up"`
	SessionPersistence *SessionPersistence `json:"session_persistence,omitempty"`
	Members            []MemberSpec        `json:"members"`
	Monitor            *MonitorSpec        `json:"monitor,omitempty"`
}

// MemberSpec is one backend server of a pool.
type MemberSpec struct {
	ID             string `json:"id"`
	Address        string `json:"address"`
	ProtocolPort   int    `json:"protocol_port"`
	Weight         int    `json:"weight"`
	Backup         bool   `json:"backup"`
	AdminStateUp   bool   `json:"admin_state_up"`
	SubnetID       string `json:"subnet_id,omitempty"`
	MonitorAddress string `json:"monitor_address,omitempty"`
	MonitorPort    int    `json:"monitor_port,omitempty"`
}

// MonitorSpec is a pool's health check.
type MonitorSpec struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Delay          int    `json:"delay"`
	Timeout        int    `json:"timeout"`
	MaxRetries     int    `json:"max_retries"`
	MaxRetriesDown int    `json:"max_retries_down"`
	HTTPMethod     string `json:"http_method,omitempty"`
	URLPath        string `json:"url_path,omitempty"`
	ExpectedCodes  string `json:"expected_codes,omitempty"`
	AdminStateUp   bool   `json:"admin_state_up"`
}

// MemoryBackend is the backend that makes nothing real: it remembers the last Spec of each
// load balancer (for tests) and reports every monitored member ONLINE.
type MemoryBackend struct {
	mu    sync.Mutex
	specs map[string]Spec
}

// NewMemoryBackend returns an empty MemoryBackend.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{specs: map[string]Spec{}} }

// EnsureLoadBalancer records spec.
func (m *MemoryBackend) EnsureLoadBalancer(_ context.Context, spec Spec) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.specs[spec.ID] = spec
	return nil
}

// DeleteLoadBalancer forgets load balancer id.
func (m *MemoryBackend) DeleteLoadBalancer(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.specs, id)
	return nil
}

// MemberHealth reports ONLINE for every member of a pool with an enabled monitor and
// NO_MONITOR for the others.
func (m *MemoryBackend) MemberHealth(_ context.Context, id string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, p := range m.specs[id].Pools {
		for _, mem := range p.Members {
			if p.Monitor != nil && p.Monitor.AdminStateUp {
				out[mem.ID] = OpOnline
			} else {
				out[mem.ID] = OpNoMonitor
			}
		}
	}
	return out, nil
}

// Spec returns the last configuration applied to load balancer id.
func (m *MemoryBackend) Spec(id string) (Spec, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.specs[id]
	return s, ok
}
