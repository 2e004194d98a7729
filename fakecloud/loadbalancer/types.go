package loadbalancer

import (
	"slices"
	"time"
)

// Provisioning statuses, as Octavia names them.
const (
	StatusActive        = "ACTIVE"
	StatusError         = "ERROR"
	StatusPendingCreate = "PENDING_CREATE"
	StatusPendingUpdate = "PENDING_UPDATE"
	StatusPendingDelete = "PENDING_DELETE"
)

// Operating statuses, as Octavia names them.
const (
	OpOnline    = "ONLINE"
	OpOffline   = "OFFLINE"
	OpDegraded  = "DEGRADED"
	OpError     = "ERROR"
	OpNoMonitor = "NO_MONITOR"
)

// Octavia's defaults and limits (octavia/common/constants.py).
const (
	defaultConnectionLimit      = -1
	defaultTimeoutClientData    = 50000
	defaultTimeoutMemberConnect = 5000
	defaultTimeoutMemberData    = 50000
	defaultTimeoutTCPInspect    = 0
	maxTimeout                  = 24 * 24 * 60 * 60 * 1000
	defaultWeight               = 1
	maxWeight                   = 256
	defaultMaxRetriesDown       = 3
	defaultProvider             = "amphora"
	maxPageLimit                = 1000
	udpConnectMinDelay          = 3
	quotaUnlimited              = -1
	maxQuota                    = 2000000000
	vipDeviceOwner              = "Octavia"
)

var (
	listenerProtocols = []string{"HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS"}
	poolProtocols     = []string{"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP", "UDP", "SCTP"}
	lbAlgorithms      = []string{"LEAST_CONNECTIONS", "ROUND_ROBIN", "SOURCE_IP", "SOURCE_IP_PORT"}
	spTypes           = []string{"APP_COOKIE", "HTTP_COOKIE", "SOURCE_IP"}
	hmTypes           = []string{"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
	hmHTTPMethods     = []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
	clientAuthModes   = []string{"NONE", "OPTIONAL", "MANDATORY"}

	// validListenerPoolProtocols is Octavia's VALID_LISTENER_POOL_PROTOCOL_MAP.
	validListenerPoolProtocols = map[string][]string{
		"TCP":              {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
		"HTTP":             {"HTTP", "PROXY", "PROXYV2"},
		"HTTPS":            {"HTTPS", "PROXY", "PROXYV2", "TCP"},
		"TERMINATED_HTTPS": {"HTTP", "PROXY", "PROXYV2"},
		"UDP":              {"UDP"},
		"SCTP":             {"SCTP"},
		"PROMETHEUS":       {},
	}
	// l4Protocol is Octavia's L4_PROTOCOL_MAP: listeners sharing an L4 protocol share ports.
	l4Protocol = map[string]string{
		"TCP": "TCP", "HTTP": "TCP", "HTTPS": "TCP", "TERMINATED_HTTPS": "TCP", "PROXY": "TCP",
		"PROXYV2": "TCP", "PROMETHEUS": "TCP", "UDP": "UDP", "SCTP": "SCTP",
	}
)

// LoadBalancer is a stored load balancer. Child ids are kept on the parent so that responses
// and the tree walk need no table scans.
type LoadBalancer struct {
	ID                 string     `json:"id"`
	ProjectID          string     `json:"project_id"`
	Name               string     `json:"name"`
	Description        string     `json:"description"`
	AdminStateUp       bool       `json:"admin_state_up"`
	ProvisioningStatus string     `json:"provisioning_status"`
	OperatingStatus    string     `json:"operating_status"`
	VipAddress         string     `json:"vip_address"`
	VipPortID          string     `json:"vip_port_id"`
	VipSubnetID        string     `json:"vip_subnet_id"`
	VipNetworkID       string     `json:"vip_network_id"`
	VipQosPolicyID     string     `json:"vip_qos_policy_id,omitempty"`
	VipExternal        bool       `json:"vip_external,omitempty"`
	VipPortCreated     bool       `json:"vip_port_created,omitempty"` // the port is Octavia's own
	Provider           string     `json:"provider"`
	FlavorID           string     `json:"flavor_id,omitempty"`
	AvailabilityZone   string     `json:"availability_zone,omitempty"`
	Tags               []string   `json:"tags,omitempty"`
	ListenerIDs        []string   `json:"listener_ids,omitempty"`
	PoolIDs            []string   `json:"pool_ids,omitempty"`
	Fault              string     `json:"fault,omitempty"` // why it went to ERROR
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          *time.Time `json:"updated_at,omitempty"`
}

// Listener is a stored listener.
type Listener struct {
	ID                      string            `json:"id"`
	LoadBalancerID          string            `json:"loadbalancer_id"`
	ProjectID               string            `json:"project_id"`
	Name                    string            `json:"name"`
	Description             string            `json:"description"`
	Protocol                string            `json:"protocol"`
	ProtocolPort            int               `json:"protocol_port"`
	ConnectionLimit         int               `json:"connection_limit"`
	DefaultPoolID           string            `json:"default_pool_id,omitempty"`
	AdminStateUp            bool              `json:"admin_state_up"`
	ProvisioningStatus      string            `json:"provisioning_status"`
	OperatingStatus         string            `json:"operating_status"`
	TimeoutClientData       int               `json:"timeout_client_data"`
	TimeoutMemberConnect    int               `json:"timeout_member_connect"`
	TimeoutMemberData       int               `json:"timeout_member_data"`
	TimeoutTCPInspect       int               `json:"timeout_tcp_inspect"`
	DefaultTLSContainerRef  string            `json:"default_tls_container_ref,omitempty"`
	SNIContainerRefs        []string          `json:"sni_container_refs,omitempty"`
	ClientCATLSContainerRef string            `json:"client_ca_tls_container_ref,omitempty"`
	ClientCRLContainerRef   string            `json:"client_crl_container_ref,omitempty"`
	ClientAuthentication    string            `json:"client_authentication"`
	InsertHeaders           map[string]string `json:"insert_headers,omitempty"`
	AllowedCIDRs            []string          `json:"allowed_cidrs,omitempty"`
	TLSCiphers              string            `json:"tls_ciphers,omitempty"`
	TLSVersions             []string          `json:"tls_versions,omitempty"`
	ALPNProtocols           []string          `json:"alpn_protocols,omitempty"`
	HSTSMaxAge              *int              `json:"hsts_max_age,omitempty"`
	HSTSIncludeSubdomains   bool              `json:"hsts_include_subdomains,omitempty"`
	HSTSPreload             bool              `json:"hsts_preload,omitempty"`
	Tags                    []string          `json:"tags,omitempty"`
	CreatedAt               time.Time         `json:"created_at"`
	UpdatedAt               *time.Time        `json:"updated_at,omitempty"`
}

// SessionPersistence is a pool's session persistence.
type SessionPersistence struct {
	Type                   string  `json:"type"`
	CookieName             *string `json:"cookie_name"`
	PersistenceTimeout     *int    `json:"persistence_timeout"`
	PersistenceGranularity *string `json:"persistence_granularity"`
}

// Pool is a stored pool.
type Pool struct {
	ID                 string              `json:"id"`
	LoadBalancerID     string              `json:"loadbalancer_id"`
	ProjectID          string              `json:"project_id"`
	Name               string              `json:"name"`
	Description        string              `json:"description"`
	Protocol           string              `json:"protocol"`
	LBAlgorithm        string              `json:"lb_algorithm"`
	AdminStateUp       bool                `json:"admin_state_up"`
	SessionPersistence *SessionPersistence `json:"session_persistence,omitempty"`
	ListenerIDs        []string            `json:"listener_ids,omitempty"` // listeners whose default pool this is
	MemberIDs          []string            `json:"member_ids,omitempty"`
	HealthMonitorID    string              `json:"healthmonitor_id,omitempty"`
	ProvisioningStatus string              `json:"provisioning_status"`
	OperatingStatus    string              `json:"operating_status"`
	TLSEnabled         bool                `json:"tls_enabled,omitempty"`
	TLSContainerRef    string              `json:"tls_container_ref,omitempty"`
	CATLSContainerRef  string              `json:"ca_tls_container_ref,omitempty"`
	CRLContainerRef    string              `json:"crl_container_ref,omitempty"`
	TLSCiphers         string              `json:"tls_ciphers,omitempty"`
	TLSVersions        []string            `json:"tls_versions,omitempty"`
	ALPNProtocols      []string            `json:"alpn_protocols,omitempty"`
	Tags               []string            `json:"tags,omitempty"`
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          *time.Time          `json:"updated_at,omitempty"`
}

// Member is a stored pool member.
type Member struct {
	ID                 string     `json:"id"`
	PoolID             string     `json:"pool_id"`
	LoadBalancerID     string     `json:"loadbalancer_id"`
	ProjectID          string     `json:"project_id"`
	Name               string     `json:"name"`
	Address            string     `json:"address"`
	ProtocolPort       int        `json:"protocol_port"`
	Weight             int        `json:"weight"`
	Backup             bool       `json:"backup"`
	AdminStateUp       bool       `json:"admin_state_up"`
	SubnetID           string     `json:"subnet_id,omitempty"`
	MonitorAddress     string     `json:"monitor_address,omitempty"`
	MonitorPort        *int       `json:"monitor_port,omitempty"`
	ProvisioningStatus string     `json:"provisioning_status"`
	OperatingStatus    string     `json:"operating_status"`
	Tags               []string   `json:"tags,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          *time.Time `json:"updated_at,omitempty"`
}

// HealthMonitor is a stored health monitor (one per pool).
type HealthMonitor struct {
	ID                 string     `json:"id"`
	PoolID             string     `json:"pool_id"`
	LoadBalancerID     string     `json:"loadbalancer_id"`
	ProjectID          string     `json:"project_id"`
	Name               string     `json:"name"`
	Type               string     `json:"type"`
	Delay              int        `json:"delay"`
	Timeout            int        `json:"timeout"`
	MaxRetries         int        `json:"max_retries"`
	MaxRetriesDown     int        `json:"max_retries_down"`
	HTTPMethod         string     `json:"http_method,omitempty"`
	URLPath            string     `json:"url_path,omitempty"`
	ExpectedCodes      string     `json:"expected_codes,omitempty"`
	HTTPVersion        *float64   `json:"http_version,omitempty"`
	DomainName         string     `json:"domain_name,omitempty"`
	AdminStateUp       bool       `json:"admin_state_up"`
	ProvisioningStatus string     `json:"provisioning_status"`
	OperatingStatus    string     `json:"operating_status"`
	Tags               []string   `json:"tags,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          *time.Time `json:"updated_at,omitempty"`
}

// Quota is a project's stored quota overrides; nil fields use the configured defaults.
type Quota struct {
	ProjectID     string `json:"project_id"`
	LoadBalancer  *int   `json:"load_balancer,omitempty"`
	Listener      *int   `json:"listener,omitempty"`
	Pool          *int   `json:"pool,omitempty"`
	HealthMonitor *int   `json:"health_monitor,omitempty"`
	Member        *int   `json:"member,omitempty"`
	L7Policy      *int   `json:"l7policy,omitempty"`
	L7Rule        *int   `json:"l7rule,omitempty"`
}

// QuotaDefaults are the limits of a project without overrides; -1 is unlimited (Octavia's
// default for all of them).
type QuotaDefaults struct {
	LoadBalancer, Listener, Pool, HealthMonitor, Member, L7Policy, L7Rule int
}

// UnlimitedQuotas is Octavia's default configuration: every limit -1.
func UnlimitedQuotas() QuotaDefaults {
	return QuotaDefaults{-1, -1, -1, -1, -1, -1, -1}
}

func isPending(status string) bool {
	return status == StatusPendingCreate || status == StatusPendingUpdate || status == StatusPendingDelete
}

func without(ids []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == id })
}

func withID(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

func (v *LoadBalancer) created() time.Time  { return v.CreatedAt }
func (v *Listener) created() time.Time      { return v.CreatedAt }
func (v *Pool) created() time.Time          { return v.CreatedAt }
func (v *Member) created() time.Time        { return v.CreatedAt }
func (v *HealthMonitor) created() time.Time { return v.CreatedAt }
