// Package services holds the contracts between fakecloud's services: what Nova asks of
// Neutron (ports), Glance (images) and Ironic (bare-metal nodes), and what Octavia asks of
// Neutron (VIP ports), plus the context every service is built with. Each service package
// implements its side; package cloud wires them together, so no service imports another.
package services

import (
	"log/slog"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// Env is what every service is constructed with.
type Env struct {
	DB     *store.DB
	Tasks  *tasks.Engine
	Log    *slog.Logger
	Quotas QuotaOverrides // may be nil
	Timing Timing
	// Router returns a router for the named service whose routes live under prefix
	// (e.g. "compute", "/compute"), with authentication, faults and the error style set.
	Router func(service, prefix string, style httpapi.Style) *httpapi.Router
}

// Timing is how long simulated asynchronous work takes (the memory backend's timers; the
// docker backend sets them to zero because the work itself takes time).
type Timing struct {
	ServerBuild       time.Duration // BUILD -> ACTIVE
	ServerDelete      time.Duration
	LoadBalancerBuild time.Duration // PENDING_* -> ACTIVE
	NodeDeploy        time.Duration // Ironic deploying -> active
	NodeClean         time.Duration // Ironic cleaning -> available
}

// QuotaOverrides lets fault injection impose quota limits beyond the configured quotas.
type QuotaOverrides interface {
	// Limit returns the injected limit for resource (e.g. "instances", "ports",
	// "loadbalancer") in project, if one is set.
	Limit(project, resource string) (int, bool)
}

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// PortRequest asks Neutron for a port on behalf of another service.
type PortRequest struct {
	Project        string
	NetworkID      string   // the network for a new port
	SubnetID       string   // optional: the subnet to take the address from
	FixedIP        string   // optional: the address wanted
	PortID         string   // optional: bind this existing port instead of creating one
	DeviceID       string   // the server or load balancer id
	DeviceOwner    string   // "compute:<az>", "Octavia"
	Name           string   // name of a new port
	SecurityGroups []string // ids; nil means the project's default group
	QoSPolicyID    string   // optional: the port's QoS policy (Octavia's vip_qos_policy_id)
}

// PortInfo is what another service needs to know about a port.
type PortInfo struct {
	ID          string    `json:"id"`
	NetworkID   string    `json:"network_id"`
	NetworkName string    `json:"network_name"`
	MACAddress  string    `json:"mac_address"`
	FixedIPs    []FixedIP `json:"fixed_ips"`
	// Created reports that the port was made for this device (and is deleted with it), as
	// opposed to a user's port that is only bound and unbound.
	Created bool `json:"created"`
}

// SubnetInfo describes a subnet for services that place addresses on it (Octavia).
type SubnetInfo struct {
	ID        string `json:"id"`
	NetworkID string `json:"network_id"`
	Project   string `json:"project"`
	CIDR      string `json:"cidr"`
	GatewayIP string `json:"gateway_ip"`
}

// Ports is Neutron's side of port management for other services. Methods taking a tx make
// their changes as part of the caller's update. Errors meant for the API user are
// *httpapi.Error values (e.g. a 400 when the network does not exist).
type Ports interface {
	// AttachPort creates a port (or binds req.PortID) for req.DeviceID.
	AttachPort(tx *store.Tx, req PortRequest) (PortInfo, error)
	// DetachPorts deletes the ports created for deviceID and unbinds the others.
	DetachPorts(tx *store.Tx, deviceID string) error
	// Port returns a port by id.
	Port(id string) (PortInfo, bool)
	// Subnet returns a subnet by id.
	Subnet(id string) (SubnetInfo, bool)
	// ExternalNetwork returns the id of the router:external network (for public VIPs).
	ExternalNetwork() (string, bool)
	// QoSPolicyExists reports whether a QoS policy exists, in any project (Octavia checks a
	// VIP's vip_qos_policy_id with its own service credentials).
	QoSPolicyExists(id string) bool
	// SetPortQoS sets a port's QoS policy ("" clears it) as part of tx, as Octavia does to a
	// VIP port with its own service credentials.
	SetPortQoS(tx *store.Tx, portID, policyID string) error
}

// ImageInfo is what Nova needs to know about a Glance image.
type ImageInfo struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Owner      string            `json:"owner"`
	Visibility string            `json:"visibility"`
	MinDisk    int               `json:"min_disk"`
	MinRAM     int               `json:"min_ram"`
	Properties map[string]string `json:"properties"`
}

// Images is Glance's side for Nova.
type Images interface {
	// Image returns the image id visible to project.
	Image(project, id string) (ImageInfo, bool)
}

// NodeInfo is what Nova needs to know about an Ironic node.
type NodeInfo struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	ResourceClass  string            `json:"resource_class"`
	ProvisionState string            `json:"provision_state"`
	PowerState     string            `json:"power_state"`
	InstanceUUID   string            `json:"instance_uuid"`
	Properties     map[string]string `json:"properties"`
}

// BareMetal is Ironic's side for Nova: bare-metal flavors land servers on nodes.
type BareMetal interface {
	// Claim reserves an available node of resourceClass for instanceID and starts deploying
	// userData to it (the node goes deploying -> active through Ironic's own tasks). It returns
	// a 409-ish *httpapi.Error when no node is available.
	Claim(tx *store.Tx, resourceClass, instanceID string, userData []byte, meta map[string]string) (NodeInfo, error)
	// Release undeploys the node held by instanceID (active -> deleting -> cleaning -> available).
	Release(tx *store.Tx, instanceID string) error
	// NodeFor returns the node held by instanceID.
	NodeFor(instanceID string) (NodeInfo, bool)
}

// Scaled returns the timing with every duration multiplied by f.
func (t Timing) Scaled(f float64) Timing {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	return Timing{ServerBuild: s(t.ServerBuild), ServerDelete: s(t.ServerDelete), LoadBalancerBuild: s(t.LoadBalancerBuild), NodeDeploy: s(t.NodeDeploy), NodeClean: s(t.NodeClean)}
}
