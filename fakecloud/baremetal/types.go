package baremetal

import "time"

// Node is a stored Ironic node.
type Node struct {
	UUID                 string            `json:"uuid"`
	Name                 string            `json:"name,omitempty"`
	Driver               string            `json:"driver"`
	DriverInfo           map[string]any    `json:"driver_info"`
	DriverInternalInfo   map[string]any    `json:"driver_internal_info"`
	Properties           map[string]any    `json:"properties"`
	InstanceInfo         map[string]any    `json:"instance_info"`
	Extra                map[string]any    `json:"extra"`
	NetworkData          map[string]any    `json:"network_data"`
	Interfaces           map[string]string `json:"interfaces"` // "boot_interface" -> "fake"...
	ResourceClass        string            `json:"resource_class,omitempty"`
	InstanceUUID         string            `json:"instance_uuid,omitempty"`
	ProvisionState       string            `json:"provision_state"`
	TargetProvisionState string            `json:"target_provision_state,omitempty"`
	PowerState           string            `json:"power_state,omitempty"`
	TargetPowerState     string            `json:"target_power_state,omitempty"`
	Maintenance          bool              `json:"maintenance"`
	MaintenanceReason    string            `json:"maintenance_reason,omitempty"`
	Fault                string            `json:"fault,omitempty"`
	LastError            string            `json:"last_error,omitempty"`
	Owner                string            `json:"owner,omitempty"`
	Lessee               string            `json:"lessee,omitempty"`
	Description          string            `json:"description,omitempty"`
	ChassisUUID          string            `json:"chassis_uuid,omitempty"`
	ConductorGroup       string            `json:"conductor_group"`
	Traits               []string          `json:"traits"`
	AutomatedClean       *bool             `json:"automated_clean"`
	Protected            bool              `json:"protected"`
	ProtectedReason      string            `json:"protected_reason,omitempty"`
	Retired              bool              `json:"retired"`
	RetiredReason        string            `json:"retired_reason,omitempty"`
	Shard                string            `json:"shard,omitempty"`
	ParentNode           string            `json:"parent_node,omitempty"`
	ProvisionUpdatedAt   *time.Time        `json:"provision_updated_at,omitempty"`
	InspectionStartedAt  *time.Time        `json:"inspection_started_at,omitempty"`
	InspectionFinishedAt *time.Time        `json:"inspection_finished_at,omitempty"`
	CreatedAt            time.Time         `json:"created_at"`
	UpdatedAt            *time.Time        `json:"updated_at,omitempty"`

	// Internal state, never shown.
	UserData    []byte            `json:"x_user_data,omitempty"`    // what the deploy runs
	ConfigDrive any               `json:"x_config_drive,omitempty"` // as given to the deploy
	Meta        map[string]string `json:"x_meta,omitempty"`         // what Nova passed to Claim
	Task        string            `json:"x_task,omitempty"`         // the task driving the current transition
	PowerTask   string            `json:"x_power_task,omitempty"`   // the task changing the power state
}

// Port is a stored Ironic port: one NIC of a node.
type Port struct {
	UUID                string         `json:"uuid"`
	Address             string         `json:"address"`
	NodeUUID            string         `json:"node_uuid"`
	PortgroupUUID       string         `json:"portgroup_uuid,omitempty"`
	LocalLinkConnection map[string]any `json:"local_link_connection"`
	PXEEnabled          bool           `json:"pxe_enabled"`
	PhysicalNetwork     string         `json:"physical_network,omitempty"`
	InternalInfo        map[string]any `json:"internal_info"`
	Extra               map[string]any `json:"extra"`
	IsSmartNIC          bool           `json:"is_smartnic"`
	CreatedAt           time.Time      `json:"created_at"`
	UpdatedAt           *time.Time     `json:"updated_at,omitempty"`
}

// Provision states, as Ironic names them.
const (
	StateEnroll       = "enroll"
	StateVerifying    = "verifying"
	StateManageable   = "manageable"
	StateAvailable    = "available"
	StateDeploying    = "deploying"
	StateDeployFailed = "deploy failed"
	StateActive       = "active"
	StateDeleting     = "deleting"
	StateCleaning     = "cleaning"
	StateCleanFailed  = "clean failed"
	StateInspecting   = "inspecting"
	StateInspectFail  = "inspect failed"
	StateAdopting     = "adopting"
	StateAdoptFailed  = "adopt failed"
	StateError        = "error"
	StateRescue       = "rescue"
)

// Power states.
const (
	PowerOn  = "power on"
	PowerOff = "power off"
)

// transitional states are those a conductor holds the node in while it works: no other
// change is accepted until the work ends.
var transitional = map[string]bool{StateVerifying: true, StateDeploying: true, StateDeleting: true,
	StateCleaning: true, StateInspecting: true, StateAdopting: true}

// deleteAllowed are the provision states in which a node may be deleted (any, in maintenance).
var deleteAllowed = []string{StateAdoptFailed, StateAvailable, StateEnroll, StateManageable}

// API microversions served.
const (
	minMinor = 1
	maxMinor = 87
)

// interfaceNames are the node's hardware interfaces, each with the microversion adding it.
var interfaceNames = map[string]int{
	"boot_interface": 31, "console_interface": 31, "deploy_interface": 31, "inspect_interface": 31,
	"management_interface": 31, "power_interface": 31, "raid_interface": 31, "vendor_interface": 31,
	"network_interface": 20, "storage_interface": 33, "rescue_interface": 38, "bios_interface": 40,
	"firmware_interface": 86,
}

// nodeFieldVersion is the microversion a node field appeared in; fields not listed exist
// since 1.1. Older requests neither see nor may set newer fields.
var nodeFieldVersion = map[string]int{
	"name": 5, "driver_internal_info": 3, "inspection_started_at": 6, "inspection_finished_at": 6,
	"clean_step": 7, "raid_config": 12, "target_raid_config": 12, "resource_class": 21, "traits": 37,
	"fault": 42, "deploy_step": 44, "conductor_group": 46, "automated_clean": 47, "protected": 48,
	"protected_reason": 48, "conductor": 49, "owner": 50, "description": 51, "allocation_uuid": 52,
	"retired": 61, "retired_reason": 61, "lessee": 65, "network_data": 66, "boot_mode": 75,
	"secure_boot": 75, "shard": 82, "parent_node": 83, "service_step": 87,
}

// nodeFields lists every node field of the API, in Ironic's order.
var nodeFields = []string{"uuid", "name", "driver", "driver_info", "driver_internal_info", "properties",
	"instance_info", "instance_uuid", "chassis_uuid", "extra", "console_enabled", "raid_config",
	"target_raid_config", "clean_step", "deploy_step", "service_step", "links", "ports", "portgroups",
	"states", "volume", "resource_class", "bios_interface", "boot_interface", "console_interface",
	"deploy_interface", "firmware_interface", "inspect_interface", "management_interface",
	"network_interface", "power_interface", "raid_interface", "rescue_interface", "storage_interface",
	"vendor_interface", "traits", "conductor_group", "parent_node", "protected", "protected_reason",
	"owner", "lessee", "shard", "description", "conductor", "allocation_uuid", "retired",
	"retired_reason", "network_data", "automated_clean", "boot_mode", "secure_boot", "power_state",
	"target_power_state", "provision_state", "target_provision_state", "maintenance",
	"maintenance_reason", "fault", "last_error", "reservation", "provision_updated_at",
	"inspection_started_at", "inspection_finished_at", "created_at", "updated_at"}

// nodeListFields are the fields of a node in a list without details.
var nodeListFields = []string{"uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance", "links"}

// portFieldVersion is the microversion a port field appeared in.
var portFieldVersion = map[string]int{"pxe_enabled": 19, "local_link_connection": 19, "portgroup_uuid": 24,
	"internal_info": 18, "physical_network": 34, "is_smartnic": 53}

var portFields = []string{"uuid", "address", "node_uuid", "portgroup_uuid", "local_link_connection",
	"pxe_enabled", "physical_network", "internal_info", "extra", "is_smartnic", "created_at", "updated_at", "links"}

var portListFields = []string{"uuid", "address", "links"}

// timeFormat is how Ironic writes timestamps.
const timeFormat = "2006-01-02T15:04:05.000000+00:00"

func fmtTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}
