package baremetal

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// driver is one hardware type: its default interfaces and, per interface field, the
// implementations it supports, as Ironic's hardware type classes list them.
type driver struct {
	name       string
	interfaces map[string]string
	supported  map[string][]string
	properties map[string]string
	// any: the hardware type takes every enabled implementation (Ironic special-cases
	// fake-hardware so), its supported lists only choosing defaults.
	any bool
}

// genericSupported are the implementations of Ironic's GenericHardware, the base of ipmi.
var genericSupported = map[string][]string{
	"bios_interface":     {"no-bios"},
	"boot_interface":     {"ipxe", "pxe", "http-ipxe", "http"},
	"console_interface":  {"no-console"},
	"deploy_interface":   {"direct", "ansible", "ramdisk", "anaconda", "custom-agent"},
	"firmware_interface": {"no-firmware"},
	"inspect_interface":  {"inspector", "agent", "no-inspect"},
	"network_interface":  {"flat", "neutron", "noop"},
	"raid_interface":     {"no-raid", "agent"},
	"rescue_interface":   {"no-rescue", "agent"},
	"storage_interface":  {"noop", "cinder", "external"},
	"vendor_interface":   {"no-vendor"},
}

// withGeneric is GenericHardware's support list with some fields replaced and fake
// implementations put first (fake-hardware's own).
func withGeneric(replace map[string][]string, fakeFirst ...string) map[string][]string {
	out := map[string][]string{}
	for k, v := range genericSupported {
		out[k] = v
	}
	for k, v := range replace {
		out[k] = v
	}
	for _, k := range fakeFirst {
		out[k] = append([]string{"fake"}, out[k]...)
	}
	return out
}

var drivers = []driver{
	{name: "fake-hardware", interfaces: map[string]string{
		"bios_interface": "no-bios", "boot_interface": "fake", "console_interface": "no-console",
		"deploy_interface": "fake", "firmware_interface": "no-firmware", "inspect_interface": "fake",
		"management_interface": "fake", "network_interface": "noop", "power_interface": "fake",
		"raid_interface": "fake", "rescue_interface": "no-rescue", "storage_interface": "noop",
		"vendor_interface": "fake"},
		supported: withGeneric(map[string][]string{"management_interface": {"fake"}, "power_interface": {"fake"}},
			"bios_interface", "boot_interface", "console_interface", "deploy_interface", "firmware_interface",
			"inspect_interface", "raid_interface", "rescue_interface", "storage_interface", "vendor_interface"),
		any:        true,
		properties: map[string]string{}},
	{name: "ipmi", interfaces: map[string]string{
		"bios_interface": "no-bios", "boot_interface": "ipxe", "console_interface": "no-console",
		"deploy_interface": "direct", "firmware_interface": "no-firmware", "inspect_interface": "agent",
		"management_interface": "ipmitool", "network_interface": "flat", "power_interface": "ipmitool",
		"raid_interface": "no-raid", "rescue_interface": "no-rescue", "storage_interface": "noop",
		"vendor_interface": "ipmitool"},
		supported: withGeneric(map[string][]string{
			"console_interface":    {"ipmitool-socat", "ipmitool-shellinabox", "no-console"},
			"management_interface": {"ipmitool", "noop"},
			"power_interface":      {"ipmitool"},
			"vendor_interface":     {"ipmitool", "no-vendor"},
		}),
		properties: map[string]string{
			"ipmi_address":   "IP address or hostname of the node. Required.",
			"ipmi_username":  "username; default is NULL user. Optional.",
			"ipmi_password":  "password. Optional.",
			"ipmi_port":      "remote IPMI RMCP port. Optional.",
			"deploy_kernel":  "UUID (from Glance) of the deployment kernel. Required.",
			"deploy_ramdisk": "UUID (from Glance) of the ramdisk that is mounted at boot time. Required.",
		}},
}

func findDriver(name string) (driver, bool) {
	i := slices.IndexFunc(drivers, func(d driver) bool { return d.name == name })
	if i < 0 {
		return driver{}, false
	}
	return drivers[i], true
}

// enabled are the implementations of an interface field this cloud has enabled: every one
// some hardware type supports.
func enabled(field string) []string {
	var out []string
	for _, d := range drivers {
		for _, impl := range d.supported[field] {
			if !slices.Contains(out, impl) {
				out = append(out, impl)
			}
		}
	}
	return out
}

// valid returns the implementations of an interface field the driver takes.
func (d driver) valid(field string) []string {
	if d.any {
		return enabled(field)
	}
	return d.supported[field]
}

// checkInterface refuses an implementation of an interface field as Ironic does: one not
// enabled at all, or (for a hardware type that checks) one the hardware type does not
// support, naming the valid ones.
func (d driver) checkInterface(field, impl string) error {
	kind := strings.TrimSuffix(field, "_interface")
	if all := enabled(field); !slices.Contains(all, impl) {
		return httpapi.BadRequest("Could not find the following interface in the 'ironic.hardware.interfaces.%s' entrypoint: %s. Valid interfaces are %s.",
			kind, impl, strings.Join(all, ", "))
	}
	if valid := d.valid(field); !slices.Contains(valid, impl) {
		return httpapi.BadRequest("%s interface implementation '%s' is not supported by hardware type %s. Valid %s interfaces for %s are %s.",
			kind, impl, d.name, kind, d.name, strings.Join(valid, ", "))
	}
	return nil
}

func driverNotFound(name string) error {
	return httpapi.Errorf(http.StatusNotFound, "DriverNotFound", "Could not find the following driver(s) or hardware type(s): %s.", name)
}

func driverView(r *http.Request, d driver, detail bool) map[string]any {
	m := map[string]any{
		"name": d.name, "hosts": []string{"fakecloud"}, "type": "dynamic",
		"links":      links(r, "drivers", d.name),
		"properties": links(r, "drivers", d.name, "properties"),
	}
	if detail {
		for iface, def := range d.interfaces {
			m["default_"+iface] = def
			m["enabled_"+iface+"s"] = d.valid(iface)
		}
	}
	return m
}

func (s *Service) listDrivers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if t := q.Get("type"); t != "" && t != "classic" && t != "dynamic" {
		return httpapi.BadRequest("Invalid input for field/attribute type. Value: '%s'. Must be one of 'classic' or 'dynamic'.", t)
	}
	out := []map[string]any{}
	if q.Get("type") != "classic" {
		detail := boolParam(q.Get("detail"))
		for _, d := range drivers {
			out = append(out, driverView(r, d, detail))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"drivers": out})
	return nil
}

func (s *Service) getDriver(w http.ResponseWriter, r *http.Request) error {
	d, ok := findDriver(r.PathValue("driver"))
	if !ok {
		return driverNotFound(r.PathValue("driver"))
	}
	httpapi.WriteJSON(w, http.StatusOK, driverView(r, d, true))
	return nil
}

func (s *Service) driverProperties(w http.ResponseWriter, r *http.Request) error {
	d, ok := findDriver(r.PathValue("driver"))
	if !ok {
		return driverNotFound(r.PathValue("driver"))
	}
	httpapi.WriteJSON(w, http.StatusOK, d.properties)
	return nil
}
