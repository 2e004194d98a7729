package image

import "time"

// Image is a stored Glance image.
type Image struct {
	ID              string            `json:"id"`
	Name            *string           `json:"name"` // Glance allows a null name
	Status          string            `json:"status"`
	Visibility      string            `json:"visibility"`
	Protected       bool              `json:"protected"`
	Hidden          bool              `json:"os_hidden"`
	Owner           string            `json:"owner"`
	ContainerFormat string            `json:"container_format,omitempty"` // "" is null
	DiskFormat      string            `json:"disk_format,omitempty"`      // "" is null
	MinDisk         int               `json:"min_disk"`
	MinRAM          int               `json:"min_ram"`
	Size            *int64            `json:"size,omitempty"`
	Checksum        string            `json:"checksum,omitempty"`
	HashAlgo        string            `json:"os_hash_algo,omitempty"`
	HashValue       string            `json:"os_hash_value,omitempty"`
	Tags            []string          `json:"tags"`
	Properties      map[string]string `json:"properties"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	// DataKept says where the uploaded bytes are: "file" (under Options.DataDir), "store"
	// (the image_data table) or "" (only the size and hashes were recorded).
	DataKept string `json:"data_kept,omitempty"`
}

// NameOr returns the image's name, or def when it has none.
func (im *Image) NameOr(def string) string {
	if im.Name == nil {
		return def
	}
	return *im.Name
}

// imageData is the bytes of a small image kept in the store when there is no data directory.
type imageData struct {
	Data []byte `json:"data"`
}

// Image statuses, as Glance names them.
const (
	StatusQueued      = "queued"
	StatusSaving      = "saving"
	StatusActive      = "active"
	StatusKilled      = "killed"
	StatusDeactivated = "deactivated"
	StatusDeleted     = "deleted"
	StatusImporting   = "importing"
	StatusUploading   = "uploading"
	StatusPendingDel  = "pending_delete"
)

// Image visibilities.
const (
	VisibilityPublic    = "public"
	VisibilityPrivate   = "private"
	VisibilityShared    = "shared"
	VisibilityCommunity = "community"
)

var (
	allStatuses = []string{StatusQueued, StatusSaving, StatusActive, StatusKilled, StatusDeleted,
		StatusPendingDel, StatusDeactivated, StatusUploading, StatusImporting}
	visibilities     = []string{VisibilityPublic, VisibilityPrivate, VisibilityShared, VisibilityCommunity}
	containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	// readOnly are attributes Glance computes itself: setting one is a 403.
	readOnly = map[string]bool{"created_at": true, "updated_at": true, "status": true, "checksum": true,
		"os_hash_algo": true, "os_hash_value": true, "size": true, "virtual_size": true, "direct_url": true,
		"self": true, "file": true, "schema": true, "stores": true}
	// reserved are names no image may carry.
	reserved = map[string]bool{"location": true, "locations": true, "deleted": true, "deleted_at": true}
	// sortKeys are the keys Glance sorts by.
	sortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}
)

// Limits Glance applies by default.
const (
	maxTags       = 128 // image_tag_quota
	maxProperties = 128 // image_property_quota
	defaultLimit  = 25  // limit_param_default
	maxLimit      = 1000
	maxInlineData = 1 << 20 // data kept in the store when there is no data directory
)

// Member is a project an owner shared an image with.
type Member struct {
	ImageID   string    `json:"image_id"`
	MemberID  string    `json:"member_id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Image member statuses.
const (
	MemberPending  = "pending"
	MemberAccepted = "accepted"
	MemberRejected = "rejected"
)

// maxMembers is Glance's image_member_quota.
const maxMembers = 128
