package baremetal

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

var (
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9\-._~]{1,255}$`)
	groupRe = regexp.MustCompile(`^[A-Za-z0-9_\-.]{0,255}$`)
)

// nodeCreatable are the fields POST /v1/nodes accepts.
var nodeCreatable = map[string]bool{"uuid": true, "name": true, "driver": true, "driver_info": true,
	"properties": true, "extra": true, "instance_info": true, "instance_uuid": true, "chassis_uuid": true,
	"resource_class": true, "owner": true, "lessee": true, "description": true, "conductor_group": true,
	"automated_clean": true, "protected": true, "protected_reason": true, "retired": true,
	"retired_reason": true, "network_data": true, "shard": true, "parent_node": true, "maintenance": false}

// nodePatch is what PATCH /v1/nodes/{node} may change.
var nodePatch = resourcePatch{
	patchable: map[string]bool{"name": true, "driver": true, "driver_info": true, "properties": true,
		"extra": true, "instance_info": true, "instance_uuid": true, "chassis_uuid": true, "resource_class": true,
		"owner": true, "lessee": true, "description": true, "conductor_group": true, "automated_clean": true,
		"protected": true, "protected_reason": true, "retired": true, "retired_reason": true,
		"network_data": true, "shard": true, "parent_node": true, "maintenance": true, "maintenance_reason": true},
	internal: map[string]bool{"uuid": true, "provision_state": true, "target_provision_state": true,
		"power_state": true, "target_power_state": true, "last_error": true, "created_at": true,
		"updated_at": true, "provision_updated_at": true, "inspection_started_at": true,
		"inspection_finished_at": true, "reservation": true, "console_enabled": true, "links": true,
		"ports": true, "states": true, "portgroups": true, "volume": true, "conductor": true,
		"allocation_uuid": true, "fault": true, "driver_internal_info": true, "traits": true,
		"clean_step": true, "deploy_step": true, "service_step": true, "raid_config": true,
		"target_raid_config": true, "boot_mode": true, "secure_boot": true},
	mandatory: map[string]bool{"driver": true},
}

func init() {
	for name := range interfaceNames {
		nodeCreatable[name] = true
		nodePatch.patchable[name] = true
	}
}

// patchDoc returns the node's patchable attributes as JSON values.
func patchDoc(n *Node) map[string]any {
	doc := map[string]any{
		"name": nullStr(n.Name), "driver": n.Driver, "driver_info": toJSON(obj(n.DriverInfo)),
		"properties": toJSON(obj(n.Properties)), "extra": toJSON(obj(n.Extra)),
		"instance_info": toJSON(obj(n.InstanceInfo)), "instance_uuid": nullStr(n.InstanceUUID),
		"chassis_uuid": nullStr(n.ChassisUUID), "resource_class": nullStr(n.ResourceClass),
		"owner": nullStr(n.Owner), "lessee": nullStr(n.Lessee), "description": nullStr(n.Description),
		"conductor_group": n.ConductorGroup, "automated_clean": toJSON(n.AutomatedClean),
		"protected": n.Protected, "protected_reason": nullStr(n.ProtectedReason), "retired": n.Retired,
		"retired_reason": nullStr(n.RetiredReason), "network_data": toJSON(obj(n.NetworkData)),
		"shard": nullStr(n.Shard), "parent_node": nullStr(n.ParentNode), "maintenance": n.Maintenance,
		"maintenance_reason": nullStr(n.MaintenanceReason),
	}
	for name := range interfaceNames {
		doc[name] = n.Interfaces[name]
	}
	return doc
}

func invalid(field string, v any, why string) error {
	return httpapi.BadRequest("Invalid input for field/attribute %s. Value: '%v'. %s", field, v, why)
}

// setNodeField validates one attribute's JSON value and stores it on n; nil resets the
// attribute to its default.
func setNodeField(n *Node, key string, v any) error {
	str := func(max int) (string, error) {
		if v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", invalid(key, v, "Wrong type. Expected 'str', got '"+jsonType(v)+"'")
		}
		if len(s) > max {
			return "", invalid(key, s, "Value is too long")
		}
		return s, nil
	}
	object := func() (map[string]any, error) {
		if v == nil {
			return map[string]any{}, nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalid(key, v, "Wrong type. Expected 'dict', got '"+jsonType(v)+"'")
		}
		return m, nil
	}
	boolean := func() (bool, error) {
		if v == nil {
			return false, nil
		}
		b, ok := v.(bool)
		if !ok {
			return false, invalid(key, v, "Wrong type. Expected 'bool', got '"+jsonType(v)+"'")
		}
		return b, nil
	}
	uuidStr := func() (string, error) {
		s, err := str(36)
		if err == nil && s != "" && !httpapi.IsUUID(s) {
			return "", httpapi.BadRequest("Expected a UUID but received %s.", s)
		}
		return strings.ToLower(s), err
	}
	var err error
	switch key {
	case "uuid":
		var s string
		if s, err = uuidStr(); err == nil {
			if s == "" {
				return invalid(key, v, "Expected a UUID")
			}
			n.UUID = s
		}
	case "name":
		var s string
		if s, err = str(255); err == nil {
			if s != "" && (!nameRe.MatchString(s) || httpapi.IsUUID(s)) {
				return httpapi.BadRequest("Cannot create node with invalid name '%s'", s)
			}
			n.Name = s
		}
	case "driver":
		var s string
		if s, err = str(255); err == nil {
			d, ok := findDriver(s)
			if !ok {
				return httpapi.BadRequest("Could not find the following driver(s) or hardware type(s): %s.", s)
			}
			if n.Driver != s {
				n.Driver = s
				n.Interfaces = map[string]string{}
				for k, def := range d.interfaces {
					n.Interfaces[k] = def
				}
			}
		}
	case "driver_info":
		n.DriverInfo, err = object()
	case "properties":
		n.Properties, err = object()
	case "extra":
		n.Extra, err = object()
	case "instance_info":
		n.InstanceInfo, err = object()
	case "network_data":
		n.NetworkData, err = object()
	case "instance_uuid":
		n.InstanceUUID, err = uuidStr()
	case "chassis_uuid":
		var s string
		if s, err = uuidStr(); err == nil && s != "" {
			return httpapi.BadRequest("Chassis %s could not be found.", s)
		}
	case "parent_node":
		var s string
		if s, err = str(255); err == nil {
			n.ParentNode = s
		}
	case "resource_class":
		n.ResourceClass, err = str(80)
	case "owner":
		n.Owner, err = str(255)
	case "lessee":
		n.Lessee, err = str(255)
	case "description":
		n.Description, err = str(4096)
	case "shard":
		n.Shard, err = str(255)
	case "conductor_group":
		var s string
		if s, err = str(255); err == nil {
			if !groupRe.MatchString(s) {
				return invalid(key, s, "Conductor group names may only contain a-z, 0-9, _, - and .")
			}
			n.ConductorGroup = strings.ToLower(s)
		}
	case "automated_clean":
		if v == nil {
			n.AutomatedClean = nil
			return nil
		}
		var b bool
		if b, err = boolean(); err == nil {
			n.AutomatedClean = &b
		}
	case "protected":
		n.Protected, err = boolean()
	case "protected_reason":
		n.ProtectedReason, err = str(255)
	case "retired":
		n.Retired, err = boolean()
	case "retired_reason":
		n.RetiredReason, err = str(255)
	case "maintenance":
		n.Maintenance, err = boolean()
	case "maintenance_reason":
		n.MaintenanceReason, err = str(255)
	default:
		if _, ok := interfaceNames[key]; !ok {
			return httpapi.BadRequest("Additional properties are not allowed ('%s' was unexpected)", key)
		}
		var s string
		if s, err = str(255); err != nil {
			return err
		}
		d, _ := findDriver(n.Driver)
		if s == "" {
			s = d.interfaces[key]
		}
		if err := d.checkInterface(key, s); err != nil {
			return err
		}
		if n.Interfaces == nil {
			n.Interfaces = map[string]string{}
		}
		n.Interfaces[key] = s
	}
	return err
}

// fieldAllowed reports whether the request's microversion knows a node field; an unknown
// one is Ironic's 406.
func fieldAllowed(r *http.Request, key string) error {
	v := minor(r)
	need, ok := nodeFieldVersion[key]
	if !ok {
		need, ok = interfaceNames[key]
	}
	if ok && v < need {
		return httpapi.Errorf(http.StatusNotAcceptable, "NotAcceptable", "Request not acceptable.")
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "unknown"
}

// parseBool reads a boolean query parameter the way oslo's strict bool_from_string does.
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, httpapi.BadRequest("Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", s)
}

func boolParam(s string) bool {
	b, _ := parseBool("", s)
	return b
}

func conflict(format string, args ...any) error {
	return httpapi.Errorf(http.StatusConflict, "Conflict", format, args...)
}
