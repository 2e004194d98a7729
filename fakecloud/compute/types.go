package compute

import (
	"context"
	"strconv"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// Server states (the "status" field), as Nova reports them.
const (
	StatusBuild      = "BUILD"
	StatusActive     = "ACTIVE"
	StatusShutoff    = "SHUTOFF"
	StatusReboot     = "REBOOT"
	StatusHardReboot = "HARD_REBOOT"
	StatusError      = "ERROR"
	StatusDeleted    = "DELETED"
)

// Power states (OS-EXT-STS:power_state), Nova's numbering.
const (
	PowerNoState  = 0
	PowerRunning  = 1
	PowerShutdown = 4
)

// Server is a Nova instance as fakecloud stores it.
type Server struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Hostname    string             `json:"hostname"`
	Description *string            `json:"description,omitempty"`
	Project     string             `json:"project"`
	UserID      string             `json:"user_id"`
	Status      string             `json:"status"`
	VMState     string             `json:"vm_state"`
	TaskState   string             `json:"task_state,omitempty"` // "" is null
	PowerState  int                `json:"power_state"`
	Progress    int                `json:"progress"`
	Created     time.Time          `json:"created"`
	Updated     time.Time          `json:"updated"`
	LaunchedAt  *time.Time         `json:"launched_at,omitempty"`
	Fault       *Fault             `json:"fault,omitempty"`
	Flavor      FlavorSnapshot     `json:"flavor"`
	Image       services.ImageInfo `json:"image"`
	KeyName     string             `json:"key_name,omitempty"`
	PublicKey   string             `json:"public_key,omitempty"`
	UserData    string             `json:"user_data,omitempty"` // base64, as given
	Metadata    map[string]string  `json:"metadata,omitempty"`
	Tags        []string           `json:"tags,omitempty"`
	// SecurityGroups are the names (or ids) the server was created with.
	SecurityGroups []string            `json:"security_groups,omitempty"`
	Ports          []services.PortInfo `json:"ports,omitempty"`
	ConfigDrive    bool                `json:"config_drive,omitempty"`
	AccessIPv4     string              `json:"access_ipv4,omitempty"`
	AccessIPv6     string              `json:"access_ipv6,omitempty"`
	AZ             string              `json:"availability_zone"`
	// RequestedAZ is the zone the user asked for ("" when the scheduler chose).
	RequestedAZ        string `json:"requested_az,omitempty"`
	Host               string `json:"host,omitempty"`
	HypervisorHostname string `json:"hypervisor_hostname,omitempty"`
	HostID             string `json:"host_id,omitempty"`
	Group              string `json:"group,omitempty"`
	ReservationID      string `json:"reservation_id,omitempty"`
	LaunchIndex        int    `json:"launch_index"`
	Locked             bool   `json:"locked,omitempty"`
	// ResourceClass is the Ironic resource class of a bare-metal server ("" for a VM).
	ResourceClass string `json:"resource_class,omitempty"`
	// ScheduleError, when set, is why no host could be found: the build task turns the
	// server to ERROR with it as the fault.
	ScheduleError string `json:"schedule_error,omitempty"`
	// Actions are the server's instance actions (os-instance-actions), oldest first.
	Actions []InstanceAction `json:"actions,omitempty"`
}

// InstanceAction is one user action on a server (create, stop, start, reboot, lock...).
type InstanceAction struct {
	Action    string    `json:"action"`
	RequestID string    `json:"request_id"`
	UserID    string    `json:"user_id"`
	Project   string    `json:"project_id"`
	Start     time.Time `json:"start_time"`
}

// maxActions bounds the instance actions kept per server.
const maxActions = 50

// record appends an instance action to srv.
func (srv *Server) record(c *call, action string) {
	srv.Actions = append(srv.Actions, InstanceAction{Action: action, RequestID: c.reqID, UserID: c.p.UserID, Project: c.p.ProjectID, Start: time.Now().UTC()})
	if len(srv.Actions) > maxActions {
		srv.Actions = srv.Actions[len(srv.Actions)-maxActions:]
	}
}

// Fault is the "fault" of a server in ERROR.
type Fault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created"`
}

// FlavorSnapshot is the copy of the flavor a server was built with (Nova embeds it in the
// server from microversion 2.47).
type FlavorSnapshot struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	VCPUs      int               `json:"vcpus"`
	RAM        int               `json:"ram"`
	Disk       int               `json:"disk"`
	Ephemeral  int               `json:"ephemeral"`
	Swap       int               `json:"swap"`
	ExtraSpecs map[string]string `json:"extra_specs,omitempty"`
}

// quotaCores is what a server of the flavor counts against the cores quota: its vCPUs, or
// the "resources:VCPU" override bare-metal flavors set to 0 (as placement counts them).
func (f FlavorSnapshot) quotaCores() int { return override(f.ExtraSpecs, "resources:VCPU", f.VCPUs) }

// quotaRAM is what a server of the flavor counts against the ram quota.
func (f FlavorSnapshot) quotaRAM() int { return override(f.ExtraSpecs, "resources:MEMORY_MB", f.RAM) }

func override(specs map[string]string, key string, def int) int {
	if v, ok := specs[key]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	return def
}

// Flavor is a Nova flavor.
type Flavor struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	VCPUs       int               `json:"vcpus"`
	RAM         int               `json:"ram"`  // MiB
	Disk        int               `json:"disk"` // GiB
	Ephemeral   int               `json:"ephemeral"`
	Swap        int               `json:"swap"` // MiB
	RxTxFactor  float64           `json:"rxtx_factor"`
	IsPublic    bool              `json:"is_public"`
	Description string            `json:"description,omitempty"`
	ExtraSpecs  map[string]string `json:"extra_specs,omitempty"`
	// Projects are the projects a private flavor is shared with (os-flavor-access).
	Projects []string  `json:"projects,omitempty"`
	Created  time.Time `json:"created"`
}

// ResourceClass returns the custom resource class a bare-metal flavor asks for (from an
// extra spec "resources:CUSTOM_<CLASS>": "1"), or "" for a VM flavor.
func (f *Flavor) ResourceClass() string {
	for k, v := range f.ExtraSpecs {
		if len(k) > len("resources:CUSTOM_") && k[:len("resources:CUSTOM_")] == "resources:CUSTOM_" && v != "0" {
			return k[len("resources:"):]
		}
	}
	return ""
}

func (f *Flavor) snapshot() FlavorSnapshot {
	return FlavorSnapshot{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk, Ephemeral: f.Ephemeral, Swap: f.Swap, ExtraSpecs: f.ExtraSpecs}
}

// KeyPair is a user's SSH (or x509) key pair; key pairs belong to users, not projects.
type KeyPair struct {
	Name        string    `json:"name"`
	UserID      string    `json:"user_id"`
	Project     string    `json:"project"` // the project of the creating token, for inspection
	Type        string    `json:"type"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

// ServerGroup is a Nova server group.
type ServerGroup struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Policy  string   `json:"policy"` // affinity, anti-affinity, soft-affinity, soft-anti-affinity
	Members []string `json:"members"`
	// MaxServerPerHost is the anti-affinity rule (microversion 2.64); 0 means 1.
	MaxServerPerHost int       `json:"max_server_per_host,omitempty"`
	Project          string    `json:"project"`
	UserID           string    `json:"user_id"`
	Created          time.Time `json:"created"`
}

// Quota is one project's compute quota set; -1 means unlimited.
type Quota struct {
	Instances                int `json:"instances"`
	Cores                    int `json:"cores"`
	RAM                      int `json:"ram"`
	KeyPairs                 int `json:"key_pairs"`
	ServerGroups             int `json:"server_groups"`
	ServerGroupMembers       int `json:"server_group_members"`
	MetadataItems            int `json:"metadata_items"`
	InjectedFiles            int `json:"injected_files"`
	InjectedFileContentBytes int `json:"injected_file_content_bytes"`
	InjectedFilePathBytes    int `json:"injected_file_path_bytes"`
}

// DefaultQuota is Nova's default quota set.
func DefaultQuota() Quota {
	return Quota{
		Instances: 10, Cores: 20, RAM: 51200, KeyPairs: 100, ServerGroups: 10,
		ServerGroupMembers: 10, MetadataItems: 128, InjectedFiles: 5,
		InjectedFileContentBytes: 10240, InjectedFilePathBytes: 255,
	}
}

// Config tunes the compute service.
type Config struct {
	// AvailabilityZones are the zones servers can be placed in; default ["nova"]. The first
	// is where servers go when none is asked for.
	AvailabilityZones []string
	// Hypervisors is how many hypervisors each zone simulates (compute-0, compute-1, ...;
	// in zones other than the first, <zone>-compute-0 ...); default 3. Anti-affinity is
	// honoured across them and refused beyond them.
	Hypervisors int
	// Quota is the default quota of every project; zero value means DefaultQuota().
	Quota *Quota
	// BareMetalPoll is how often the build of a bare-metal server checks its node; default
	// 200 ms.
	BareMetalPoll time.Duration
}

func (c Config) withDefaults() Config {
	if len(c.AvailabilityZones) == 0 {
		c.AvailabilityZones = []string{"nova"}
	}
	if c.Hypervisors <= 0 {
		c.Hypervisors = 3
	}
	if c.Quota == nil {
		q := DefaultQuota()
		c.Quota = &q
	}
	if c.BareMetalPoll <= 0 {
		c.BareMetalPoll = 200 * time.Millisecond
	}
	return c
}

// ServerSpec is everything a backend needs to make a server real.
type ServerSpec struct {
	ID       string
	Name     string
	Hostname string
	Project  string
	UserID   string
	Image    services.ImageInfo
	Flavor   FlavorSnapshot
	UserData []byte // decoded
	Metadata map[string]string
	Ports    []services.PortInfo
	// AvailabilityZone and Host are where the scheduler placed the server.
	AvailabilityZone string
	Host             string
	KeyName          string
	PublicKey        string
	ConfigDrive      bool
}

// Server actions a backend is asked to perform.
const (
	ActionStart      = "start"
	ActionStop       = "stop"
	ActionRebootSoft = "reboot-soft"
	ActionRebootHard = "reboot-hard"
)

// Backend makes servers real. Every method must be idempotent: a call may be repeated after
// a crash (CreateServer for a server that exists succeeds; DeleteServer for one that is gone
// succeeds). Errors wrapped with services.Permanent put the server into ERROR at once; other
// errors are retried. Bare-metal servers are not passed to the backend: Ironic deploys them.
type Backend interface {
	// CreateServer builds and boots the server described by spec.
	CreateServer(ctx context.Context, spec ServerSpec) error
	// DeleteServer destroys the server.
	DeleteServer(ctx context.Context, id string) error
	// ServerAction performs ActionStart, ActionStop, ActionRebootSoft or ActionRebootHard.
	ServerAction(ctx context.Context, id, action string) error
}

// MemoryBackend is the backend that does nothing: servers exist only as state, and their
// transitions take env.Timing's durations.
type MemoryBackend struct{}

// CreateServer does nothing.
func (MemoryBackend) CreateServer(context.Context, ServerSpec) error { return nil }

// DeleteServer does nothing.
func (MemoryBackend) DeleteServer(context.Context, string) error { return nil }

// ServerAction does nothing.
func (MemoryBackend) ServerAction(context.Context, string, string) error { return nil }

// AutoNetworker is an optional interface of services.Ports: the network a server gets when
// it asks for networks "auto" (or none at all, before microversion 2.37). Without it, such
// servers get no ports.
type AutoNetworker interface {
	AutoNetwork(project string) (networkID string, ok bool)
}
