package baremetal

import (
	"net/http"
	"slices"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// driver is one hardware type and its default interfaces.
type driver struct {
	name       string
	interfaces map[string]string
	properties map[string]string
}

var drivers = []driver{
	{name: "fake-hardware", interfaces: map[string]string{
		"bios_interface": "no-bios", "boot_interface": "fake", "console_interface": "no-console",
		"deploy_interface": "fake", "firmware_interface": "no-firmware", "inspect_interface": "fake",
		"management_interface": "fake", "network_interface": "noop", "power_interface": "fake",
		"raid_interface": "fake", "rescue_interface": "no-rescue", "storage_interface": "noop",
		"vendor_interface": "fake"},
		properties: map[string]string{}},
	{name: "ipmi", interfaces: map[string]string{
		"bios_interface": "no-bios", "boot_interface": "ipxe", "console_interface": "no-console",
		"deploy_interface": "direct", "firmware_interface": "no-firmware", "inspect_interface": "agent",
		"management_interface": "ipmitool", "network_interface": "flat", "power_interface": "ipmitool",
		"raid_interface": "no-raid", "rescue_interface": "no-rescue", "storage_interface": "noop",
		"vendor_interface": "ipmitool"},
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
			m["enabled_"+iface+"s"] = []string{def}
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
