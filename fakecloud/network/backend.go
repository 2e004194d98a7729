package network

import "context"

// Backend makes networks real (the docker backend: bridge networks, router containers with
// NAT, iptables rules). Neutron's API is synchronous, so the API answers from the store at
// once and the service reconciles the backend through durable tasks (see tasks.go): every
// method receives the whole desired state of one resource and must be idempotent. An error
// is retried with backoff; one wrapped with services.Permanent is logged as an error event.
type Backend interface {
	// EnsureNetwork creates or updates a network with its subnets.
	EnsureNetwork(ctx context.Context, spec NetworkSpec) error
	// DeleteNetwork removes a network; a missing one is not an error.
	DeleteNetwork(ctx context.Context, networkID string) error
	// EnsureRouter creates or updates a router: its interfaces and external gateway.
	EnsureRouter(ctx context.Context, spec RouterSpec) error
	// DeleteRouter removes a router; a missing one is not an error.
	DeleteRouter(ctx context.Context, routerID string) error
	// SetFloatingIP installs the DNAT of a floating IP to a fixed IP behind a router.
	SetFloatingIP(ctx context.Context, spec FloatingIPSpec) error
	// UnsetFloatingIP removes the DNAT of a floating IP; a missing one is not an error.
	UnsetFloatingIP(ctx context.Context, floatingIPID string) error
	// SetPortSecurity applies the security group rules of a port bound to a device.
	SetPortSecurity(ctx context.Context, spec PortSecuritySpec) error
}

// NetworkSpec is the desired state of a network.
type NetworkSpec struct {
	ID       string
	Name     string
	Project  string
	MTU      int
	External bool
	Subnets  []SubnetSpec
}

// SubnetSpec is one subnet of a NetworkSpec.
type SubnetSpec struct {
	ID        string
	CIDR      string
	GatewayIP string // "" when the subnet has no gateway
}

// RouterSpec is the desired state of a router.
type RouterSpec struct {
	ID         string
	Project    string
	Interfaces []RouterInterface
	// Gateway is nil when the router has no external gateway.
	Gateway *RouterGateway
	Routes  []Route
}

// RouterInterface is a router's leg on a subnet.
type RouterInterface struct {
	PortID    string
	NetworkID string
	SubnetID  string
	CIDR      string
	IPAddress string
	MAC       string
}

// RouterGateway is a router's leg on the external network.
type RouterGateway struct {
	NetworkID  string
	SubnetID   string
	CIDR       string
	IPAddress  string
	EnableSNAT bool
}

// FloatingIPSpec is an associated floating IP.
type FloatingIPSpec struct {
	ID            string
	FloatingIP    string
	FixedIP       string
	PortID        string
	RouterID      string
	FloatingNetID string
	InternalNetID string
}

// PortSecuritySpec is what filtering applies to a port.
type PortSecuritySpec struct {
	PortID              string
	NetworkID           string
	DeviceID            string
	MAC                 string
	FixedIPs            []FixedIP
	Enabled             bool
	Rules               []SecurityGroupRule
	AllowedAddressPairs []AddressPair
	// RemoteGroupIPs holds, for each remote_group_id of Rules, the fixed IPs of the ports in
	// that group (bound to a device) when the spec was made.
	RemoteGroupIPs map[string][]string
}

// MemoryBackend is the backend of the memory cloud: it makes nothing real.
type MemoryBackend struct{}

var _ Backend = MemoryBackend{}

// EnsureNetwork does nothing.
func (MemoryBackend) EnsureNetwork(context.Context, NetworkSpec) error { return nil }

// DeleteNetwork does nothing.
func (MemoryBackend) DeleteNetwork(context.Context, string) error { return nil }

// EnsureRouter does nothing.
func (MemoryBackend) EnsureRouter(context.Context, RouterSpec) error { return nil }

// DeleteRouter does nothing.
func (MemoryBackend) DeleteRouter(context.Context, string) error { return nil }

// SetFloatingIP does nothing.
func (MemoryBackend) SetFloatingIP(context.Context, FloatingIPSpec) error { return nil }

// UnsetFloatingIP does nothing.
func (MemoryBackend) UnsetFloatingIP(context.Context, string) error { return nil }

// SetPortSecurity does nothing.
func (MemoryBackend) SetPortSecurity(context.Context, PortSecuritySpec) error { return nil }
