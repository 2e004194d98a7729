package network

import "time"

// Device owners Neutron itself uses for the ports it creates.
const (
	OwnerRouterInterface = "network:router_interface"
	OwnerRouterGateway   = "network:router_gateway"
	OwnerFloatingIP      = "network:floatingip"
	OwnerDHCP            = "network:dhcp"
)

// Network is a stored Neutron network.
type Network struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Project      string    `json:"project_id"`
	AdminStateUp bool      `json:"admin_state_up"`
	Shared       bool      `json:"shared"`
	External     bool      `json:"external"`
	MTU          int       `json:"mtu"`
	PortSecurity bool      `json:"port_security_enabled"`
	QoSPolicyID  string    `json:"qos_policy_id,omitempty"`
	Subnets      []string  `json:"subnets"`
	Tags         []string  `json:"tags"`
	Revision     int       `json:"revision_number"`
	Created      time.Time `json:"created_at"`
	Updated      time.Time `json:"updated_at"`
}

// AllocationPool is a range of addresses a subnet hands out.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// HostRoute is a static route a subnet's DHCP announces.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Subnet is a stored Neutron subnet.
type Subnet struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	Project         string           `json:"project_id"`
	NetworkID       string           `json:"network_id"`
	IPVersion       int              `json:"ip_version"`
	CIDR            string           `json:"cidr"`
	GatewayIP       string           `json:"gateway_ip"` // "" means none
	AllocationPools []AllocationPool `json:"allocation_pools"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	HostRoutes      []HostRoute      `json:"host_routes"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	IPv6AddressMode string           `json:"ipv6_address_mode,omitempty"`
	IPv6RAMode      string           `json:"ipv6_ra_mode,omitempty"`
	Tags            []string         `json:"tags"`
	Revision        int              `json:"revision_number"`
	Created         time.Time        `json:"created_at"`
	Updated         time.Time        `json:"updated_at"`
}

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// AddressPair is an extra address (and MAC) a port may send from.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address"`
}

// Port is a stored Neutron port.
type Port struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	Project             string        `json:"project_id"`
	NetworkID           string        `json:"network_id"`
	AdminStateUp        bool          `json:"admin_state_up"`
	MACAddress          string        `json:"mac_address"`
	FixedIPs            []FixedIP     `json:"fixed_ips"`
	DeviceID            string        `json:"device_id"`
	DeviceOwner         string        `json:"device_owner"`
	SecurityGroups      []string      `json:"security_groups"`
	AllowedAddressPairs []AddressPair `json:"allowed_address_pairs"`
	PortSecurity        bool          `json:"port_security_enabled"`
	HostID              string        `json:"binding_host_id"`
	VNICType            string        `json:"binding_vnic_type"`
	QoSPolicyID         string        `json:"qos_policy_id,omitempty"`
	Status              string        `json:"status"`
	// AutoCreated marks a port made by AttachPort for its device (deleted with it).
	AutoCreated bool      `json:"auto_created,omitempty"`
	Tags        []string  `json:"tags"`
	Revision    int       `json:"revision_number"`
	Created     time.Time `json:"created_at"`
	Updated     time.Time `json:"updated_at"`
}

// GatewayInfo is a router's external gateway.
type GatewayInfo struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       bool      `json:"enable_snat"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips"`
}

// Route is a router's static route.
type Route struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Router is a stored Neutron router.
type Router struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	Project      string       `json:"project_id"`
	AdminStateUp bool         `json:"admin_state_up"`
	Status       string       `json:"status"`
	Gateway      *GatewayInfo `json:"external_gateway_info"`
	// GatewayPortID is the network:router_gateway port holding the external address.
	GatewayPortID string    `json:"gateway_port_id,omitempty"`
	Routes        []Route   `json:"routes"`
	Distributed   bool      `json:"distributed"`
	HA            bool      `json:"ha"`
	Tags          []string  `json:"tags"`
	Revision      int       `json:"revision_number"`
	Created       time.Time `json:"created_at"`
	Updated       time.Time `json:"updated_at"`
}

// FloatingIP is a stored Neutron floating IP.
type FloatingIP struct {
	ID                string `json:"id"`
	Description       string `json:"description"`
	Project           string `json:"project_id"`
	FloatingNetworkID string `json:"floating_network_id"`
	FloatingIP        string `json:"floating_ip_address"`
	FloatingSubnetID  string `json:"subnet_id"`
	// FIPPortID is the network:floatingip port holding the address on the external network.
	FIPPortID string    `json:"fip_port_id"`
	PortID    string    `json:"port_id"` // the associated port, "" when free
	FixedIP   string    `json:"fixed_ip_address"`
	RouterID  string    `json:"router_id"`
	Status    string    `json:"status"`
	Tags      []string  `json:"tags"`
	Revision  int       `json:"revision_number"`
	Created   time.Time `json:"created_at"`
	Updated   time.Time `json:"updated_at"`
}

// SecurityGroup is a stored security group; its rules live in their own table.
type SecurityGroup struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Project     string    `json:"project_id"`
	Stateful    bool      `json:"stateful"`
	Tags        []string  `json:"tags"`
	Revision    int       `json:"revision_number"`
	Created     time.Time `json:"created_at"`
	Updated     time.Time `json:"updated_at"`
}

// SecurityGroupRule is a stored security group rule.
type SecurityGroupRule struct {
	ID              string    `json:"id"`
	Description     string    `json:"description"`
	Project         string    `json:"project_id"`
	SecurityGroupID string    `json:"security_group_id"`
	Direction       string    `json:"direction"`
	EtherType       string    `json:"ethertype"`
	Protocol        string    `json:"protocol"` // "" means any
	PortRangeMin    *int      `json:"port_range_min"`
	PortRangeMax    *int      `json:"port_range_max"`
	RemoteIPPrefix  string    `json:"remote_ip_prefix"`
	RemoteGroupID   string    `json:"remote_group_id"`
	Revision        int       `json:"revision_number"`
	Created         time.Time `json:"created_at"`
	Updated         time.Time `json:"updated_at"`
}

// Quota is a project's Neutron quota set; -1 means unlimited.
type Quota struct {
	Project string         `json:"project_id"`
	Limits  map[string]int `json:"limits"`
}
