package baremetal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	gcdrivers "github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/drivers"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

// nodeBody is a node create request as a plain map, for fields chosen at run time.
type nodeBody map[string]any

func (b nodeBody) ToNodeCreateMap() (map[string]any, error) { return b, nil }

// errText is the body of an HTTP error.
func errText(err error) string {
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		return string(ue.Body)
	}
	return fmt.Sprint(err)
}

// TestDriverInterfaces: every interface implementation Ironic's ipmi and fake-hardware
// hardware types support is accepted on create; ipmi refuses the ones it does not support and
// names the valid ones; fake-hardware takes any enabled one (Ironic skips its check); one
// enabled nowhere is refused for both.
func TestDriverInterfaces(t *testing.T) {
	e := newTestEnv(t, MemoryBackend{})
	ctx := context.Background()
	admin := e.client("admin")

	// The request: ipmi with the agent RAID interface at 1.38.
	c138 := e.client("admin")
	c138.Microversion = "1.38"
	n, err := nodes.Create(ctx, c138, nodes.CreateOpts{Driver: "ipmi", RAIDInterface: "agent"}).Extract()
	if err != nil || n.RAIDInterface != "agent" {
		t.Fatalf("ipmi with raid_interface agent: %v %+v", err, n)
	}
	got, err := nodes.Get(ctx, c138, n.UUID).Extract()
	if err != nil || got.RAIDInterface != "agent" || got.BootInterface != "ipxe" {
		t.Fatalf("GET: %v %+v", err, got)
	}

	ipmi := map[string][]string{
		"bios_interface":       {"no-bios"},
		"boot_interface":       {"ipxe", "pxe", "http-ipxe", "http"},
		"console_interface":    {"ipmitool-socat", "ipmitool-shellinabox", "no-console"},
		"deploy_interface":     {"direct", "ansible", "ramdisk", "anaconda", "custom-agent"},
		"firmware_interface":   {"no-firmware"},
		"inspect_interface":    {"inspector", "agent", "no-inspect"},
		"management_interface": {"ipmitool", "noop"},
		"network_interface":    {"flat", "neutron", "noop"},
		"power_interface":      {"ipmitool"},
		"raid_interface":       {"no-raid", "agent"},
		"rescue_interface":     {"no-rescue", "agent"},
		"storage_interface":    {"noop", "cinder", "external"},
		"vendor_interface":     {"ipmitool", "no-vendor"},
	}
	for field, impls := range ipmi {
		for _, impl := range impls {
			n, err := nodes.Create(ctx, admin, nodeBody{"driver": "ipmi", field: impl}).Extract()
			if err != nil {
				t.Errorf("ipmi %s=%s: %v", field, impl, err)
				continue
			}
			m, err := nodes.Get(ctx, admin, n.UUID).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if shown := nodeInterface(m, field); shown != impl {
				t.Errorf("ipmi %s=%s shows %q", field, impl, shown)
			}
		}
	}
	// fake-hardware: its fake implementations, generic ones, and any other enabled one.
	for field, impl := range map[string]string{"raid_interface": "agent", "boot_interface": "pxe", "bios_interface": "fake",
		"power_interface": "ipmitool", "console_interface": "ipmitool-socat", "vendor_interface": "no-vendor", "storage_interface": "fake"} {
		if _, err := nodes.Create(ctx, admin, nodeBody{"driver": "fake-hardware", field: impl}).Extract(); err != nil {
			t.Errorf("fake-hardware %s=%s: %v", field, impl, err)
		}
	}

	// Refused: enabled but not supported by ipmi (naming ipmi's valid ones), enabled nowhere.
	for _, tc := range []struct {
		driver, field, impl string
		names               []string
	}{
		{"ipmi", "power_interface", "fake", []string{"ipmitool"}},
		{"ipmi", "raid_interface", "fake", []string{"no-raid", "agent"}},
		{"ipmi", "management_interface", "fake", []string{"ipmitool", "noop"}},
		{"ipmi", "bios_interface", "fake", []string{"no-bios"}},
		{"ipmi", "boot_interface", "floppy", []string{"ipxe", "pxe"}},
		{"fake-hardware", "raid_interface", "idrac-redfish", []string{"fake", "agent"}},
	} {
		_, err := nodes.Create(ctx, admin, nodeBody{"driver": tc.driver, tc.field: tc.impl}).Extract()
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
			t.Errorf("%s %s=%s: want 400, got %v", tc.driver, tc.field, tc.impl, err)
			continue
		}
		for _, name := range tc.names {
			if !strings.Contains(errText(err), name) {
				t.Errorf("%s %s=%s: the error does not name %s: %s", tc.driver, tc.field, tc.impl, name, errText(err))
			}
		}
	}

	// PATCH follows the same rules.
	_, err = nodes.Update(ctx, admin, n.UUID, nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/rescue_interface", Value: "agent"}}).Extract()
	if err != nil {
		t.Fatalf("patch rescue_interface agent: %v", err)
	}
	_, err = nodes.Update(ctx, admin, n.UUID, nodes.UpdateOpts{nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/power_interface", Value: "fake"}}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("patch power_interface fake on ipmi: %v", err)
	}

	// The driver shows what it takes.
	dd, err := gcdrivers.GetDriverDetails(ctx, admin, "ipmi").Extract()
	if err != nil || !slices.Contains(dd.EnabledRaidInterfaces, "agent") || !slices.Contains(dd.EnabledRaidInterfaces, "no-raid") || dd.DefaultRaidInterface != "no-raid" {
		t.Fatalf("ipmi driver: %v %+v", err, dd)
	}

	// Every default is one its driver supports.
	for _, d := range drivers {
		for field, def := range d.interfaces {
			if err := d.checkInterface(field, def); err != nil {
				t.Errorf("%s default %s=%s: %v", d.name, field, def, err)
			}
		}
	}
}

func nodeInterface(n *nodes.Node, field string) string {
	return map[string]string{
		"bios_interface": n.BIOSInterface, "boot_interface": n.BootInterface, "console_interface": n.ConsoleInterface,
		"deploy_interface": n.DeployInterface, "firmware_interface": n.FirmwareInterface, "inspect_interface": n.InspectInterface,
		"management_interface": n.ManagementInterface, "network_interface": n.NetworkInterface, "power_interface": n.PowerInterface,
		"raid_interface": n.RAIDInterface, "rescue_interface": n.RescueInterface, "storage_interface": n.StorageInterface,
		"vendor_interface": n.VendorInterface,
	}[field]
}
