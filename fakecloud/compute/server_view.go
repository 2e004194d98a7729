package compute

import (
	"encoding/json"
	"net"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// serverView is the detailed JSON of a server. Fields that only some microversions or only
// admins see are pointers or raw JSON with omitempty: nil leaves them out, a value (or the raw
// "null") puts them in.
type serverView struct {
	ID                 string                   `json:"id"`
	Name               string                   `json:"name"`
	Status             string                   `json:"status"`
	TenantID           string                   `json:"tenant_id"`
	UserID             string                   `json:"user_id"`
	Metadata           map[string]string        `json:"metadata"`
	HostID             string                   `json:"hostId"`
	Image              any                      `json:"image"`
	Flavor             any                      `json:"flavor"`
	Created            string                   `json:"created"`
	Updated            string                   `json:"updated"`
	Addresses          map[string][]addressView `json:"addresses"`
	AccessIPv4         string                   `json:"accessIPv4"`
	AccessIPv6         string                   `json:"accessIPv6"`
	Links              []map[string]string      `json:"links"`
	DiskConfig         string                   `json:"OS-DCF:diskConfig"`
	Progress           *int                     `json:"progress,omitempty"`
	AZ                 string                   `json:"OS-EXT-AZ:availability_zone"`
	ConfigDrive        string                   `json:"config_drive"`
	KeyName            *string                  `json:"key_name"`
	LaunchedAt         *string                  `json:"OS-SRV-USG:launched_at"`
	TerminatedAt       *string                  `json:"OS-SRV-USG:terminated_at"`
	TaskState          *string                  `json:"OS-EXT-STS:task_state"`
	VMState            string                   `json:"OS-EXT-STS:vm_state"`
	PowerState         int                      `json:"OS-EXT-STS:power_state"`
	Volumes            []struct{}               `json:"os-extended-volumes:volumes_attached"`
	SecurityGroups     []map[string]string      `json:"security_groups,omitempty"`
	Fault              *faultView               `json:"fault,omitempty"`
	Host               json.RawMessage          `json:"OS-EXT-SRV-ATTR:host,omitempty"`
	HypervisorHostname json.RawMessage          `json:"OS-EXT-SRV-ATTR:hypervisor_hostname,omitempty"`
	InstanceName       string                   `json:"OS-EXT-SRV-ATTR:instance_name,omitempty"`
	ReservationID      *string                  `json:"OS-EXT-SRV-ATTR:reservation_id,omitempty"`
	LaunchIndex        *int                     `json:"OS-EXT-SRV-ATTR:launch_index,omitempty"`
	Hostname           *string                  `json:"OS-EXT-SRV-ATTR:hostname,omitempty"`
	KernelID           *string                  `json:"OS-EXT-SRV-ATTR:kernel_id,omitempty"`
	RamdiskID          *string                  `json:"OS-EXT-SRV-ATTR:ramdisk_id,omitempty"`
	RootDeviceName     *string                  `json:"OS-EXT-SRV-ATTR:root_device_name,omitempty"`
	UserData           json.RawMessage          `json:"OS-EXT-SRV-ATTR:user_data,omitempty"`
	HostStatus         *string                  `json:"host_status,omitempty"`
	Locked             *bool                    `json:"locked,omitempty"`
	Description        json.RawMessage          `json:"description,omitempty"`
	Tags               *[]string                `json:"tags,omitempty"`
	TrustedCerts       json.RawMessage          `json:"trusted_image_certificates,omitempty"`
	ServerGroups       *[]string                `json:"server_groups,omitempty"`
	LockedReason       json.RawMessage          `json:"locked_reason,omitempty"`
	PinnedAZ           json.RawMessage          `json:"pinned_availability_zone,omitempty"`
}

type addressView struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr"`
}

type faultView struct {
	Code    int     `json:"code"`
	Message string  `json:"message"`
	Created string  `json:"created"`
	Details *string `json:"details,omitempty"`
}

type refView struct {
	ID    string              `json:"id"`
	Links []map[string]string `json:"links"`
}

type embeddedFlavor struct {
	VCPUs        int               `json:"vcpus"`
	RAM          int               `json:"ram"`
	Disk         int               `json:"disk"`
	Ephemeral    int               `json:"ephemeral"`
	Swap         int               `json:"swap"`
	OriginalName string            `json:"original_name"`
	ExtraSpecs   map[string]string `json:"extra_specs"`
}

var rawNull = json.RawMessage("null")

// rawString is s as JSON, or null when s is empty.
func rawString(s string) json.RawMessage {
	if s == "" {
		return rawNull
	}
	b, _ := json.Marshal(s)
	return b
}

func strPtr(s string) *string { return &s }

func addressViews(ports []services.PortInfo) map[string][]addressView {
	out := make(map[string][]addressView, len(ports))
	for _, p := range ports {
		name := p.NetworkName
		if name == "" {
			name = p.NetworkID
		}
		list := out[name]
		if list == nil {
			list = []addressView{}
		}
		for _, ip := range p.FixedIPs {
			v := 4
			if parsed := net.ParseIP(ip.IPAddress); parsed != nil && parsed.To4() == nil {
				v = 6
			}
			list = append(list, addressView{Version: v, Addr: ip.IPAddress, Type: "fixed", MAC: p.MACAddress})
		}
		out[name] = list
	}
	return out
}

// serverBody is the detailed view of a server at the caller's microversion.
func (s *Service) serverBody(c *call, srv *Server) *serverView {
	admin := c.p.IsAdmin()
	v := &serverView{
		ID: srv.ID, Name: srv.Name, Status: srv.Status, TenantID: srv.Project, UserID: srv.UserID,
		Metadata: srv.Metadata, HostID: srv.HostID, Created: timeStr(srv.Created), Updated: timeStr(srv.Updated),
		Addresses: addressViews(srv.Ports), AccessIPv4: srv.AccessIPv4, AccessIPv6: srv.AccessIPv6,
		Links: c.links("servers/" + srv.ID), DiskConfig: "MANUAL", AZ: srv.AZ,
		VMState: srv.VMState, PowerState: srv.PowerState, Volumes: []struct{}{},
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	if srv.ConfigDrive {
		v.ConfigDrive = "True"
	}
	if srv.KeyName != "" {
		v.KeyName = &srv.KeyName
	}
	if srv.TaskState != "" {
		v.TaskState = &srv.TaskState
	}
	if srv.LaunchedAt != nil {
		v.LaunchedAt = strPtr(srv.LaunchedAt.UTC().Format("2006-01-02T15:04:05.000000"))
	}
	if srv.Status == StatusActive || srv.Status == StatusBuild {
		p := srv.Progress
		v.Progress = &p
	}
	if srv.Image.ID != "" {
		v.Image = refView{ID: srv.Image.ID, Links: []map[string]string{{"rel": "bookmark", "href": c.base + "/images/" + srv.Image.ID}}}
	} else {
		v.Image = ""
	}
	if c.mv.AtLeast(47) {
		es := srv.Flavor.ExtraSpecs
		if es == nil {
			es = map[string]string{}
		}
		v.Flavor = embeddedFlavor{VCPUs: srv.Flavor.VCPUs, RAM: srv.Flavor.RAM, Disk: srv.Flavor.Disk, Ephemeral: srv.Flavor.Ephemeral,
			Swap: srv.Flavor.Swap, OriginalName: srv.Flavor.Name, ExtraSpecs: es}
	} else {
		v.Flavor = refView{ID: srv.Flavor.ID, Links: []map[string]string{{"rel": "bookmark", "href": c.base + "/flavors/" + srv.Flavor.ID}}}
	}
	if len(srv.Ports) > 0 || len(srv.SecurityGroups) > 0 {
		names := srv.SecurityGroups
		if len(names) == 0 {
			names = []string{"default"}
		}
		for _, n := range names {
			v.SecurityGroups = append(v.SecurityGroups, map[string]string{"name": n})
		}
	}
	if srv.Fault != nil && (srv.Status == StatusError || srv.Status == StatusDeleted) {
		v.Fault = &faultView{Code: srv.Fault.Code, Message: srv.Fault.Message, Created: timeStr(srv.Fault.Created)}
		if admin || srv.Fault.Code != 500 {
			v.Fault.Details = &srv.Fault.Details
		}
	}
	if admin {
		v.Host = rawString(srv.Host)
		v.HypervisorHostname = rawString(srv.HypervisorHostname)
		v.InstanceName = "instance-" + srv.ID[:min(8, len(srv.ID))]
		if c.mv.AtLeast(3) {
			idx := srv.LaunchIndex
			v.ReservationID, v.LaunchIndex, v.Hostname = &srv.ReservationID, &idx, &srv.Hostname
			v.KernelID, v.RamdiskID, v.RootDeviceName = strPtr(""), strPtr(""), strPtr("/dev/vda")
			v.UserData = rawString(srv.UserData)
		}
		if c.mv.AtLeast(16) {
			st := ""
			if srv.Host != "" {
				st = "UP"
			}
			v.HostStatus = &st
		}
	} else if c.mv.AtLeast(90) {
		v.Hostname = &srv.Hostname
	}
	if c.mv.AtLeast(9) {
		v.Locked = &srv.Locked
	}
	if c.mv.AtLeast(19) {
		v.Description = rawNull
		if srv.Description != nil {
			b, _ := json.Marshal(*srv.Description)
			v.Description = b
		}
	}
	if c.mv.AtLeast(26) {
		tags := srv.Tags
		if tags == nil {
			tags = []string{}
		}
		v.Tags = &tags
	}
	if c.mv.AtLeast(63) {
		v.TrustedCerts = rawNull
	}
	if c.mv.AtLeast(71) {
		g := []string{}
		if srv.Group != "" {
			g = append(g, srv.Group)
		}
		v.ServerGroups = &g
	}
	if c.mv.AtLeast(73) {
		v.LockedReason = rawNull
	}
	if c.mv.AtLeast(96) {
		v.PinnedAZ = rawString(srv.RequestedAZ)
	}
	return v
}
