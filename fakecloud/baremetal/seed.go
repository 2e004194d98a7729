package baremetal

import (
	"crypto/sha256"
	"fmt"
	"net"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// SeedNode describes one node a fresh region has enrolled and available.
type SeedNode struct {
	Name          string
	ResourceClass string // e.g. "baremetal.medium"
	CPUs          int
	MemoryMB      int
	LocalGB       int
	CPUArch       string
	MAC           string // the port's address; "" derives one from the name
}

// DefaultSeed returns count nodes "baremetal-0".. of class "baremetal.medium": 32 CPUs,
// 128 GiB of memory and 960 GB of disk each, bigger than any VM flavor.
func DefaultSeed(count int) []SeedNode {
	out := make([]SeedNode, count)
	for i := range out {
		out[i] = SeedNode{Name: fmt.Sprintf("baremetal-%d", i), ResourceClass: "baremetal.medium",
			CPUs: 32, MemoryMB: 131072, LocalGB: 960, CPUArch: "x86_64"}
	}
	return out
}

var seedNamespace = uuid.MustParse("5b0c6a52-52d7-4f0e-b7a8-3d0e2b5c9a41")

// seedMAC derives a stable, locally administered MAC address from a name.
func seedMAC(name string) string {
	h := sha256.Sum256([]byte(name))
	return net.HardwareAddr{0x52, 0x54, 0x00, h[0], h[1], h[2]}.String()
}

// Seed enrolls nodes (nil: DefaultSeed(3)) straight into available, powered off, with the
// fake-hardware driver and one port each. Node ids derive from the names, so seeding twice
// leaves existing nodes alone.
func (s *Service) Seed(nodes []SeedNode) error {
	if nodes == nil {
		nodes = DefaultSeed(3)
	}
	d, _ := findDriver("fake-hardware")
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, sn := range nodes {
			id := uuid.NewSHA1(seedNamespace, []byte(sn.Name)).String()
			if _, ok := s.nodes.Get(id); ok {
				continue
			}
			if s.nodes.Count(func(_ string, n *Node) bool { return n.Name == sn.Name }) > 0 {
				continue
			}
			arch := sn.CPUArch
			if arch == "" {
				arch = "x86_64"
			}
			t := now()
			ifaces := map[string]string{}
			for k, v := range d.interfaces {
				ifaces[k] = v
			}
			n := Node{UUID: id, Name: sn.Name, Driver: d.name, Interfaces: ifaces, DriverInfo: map[string]any{},
				DriverInternalInfo: map[string]any{}, InstanceInfo: map[string]any{}, Extra: map[string]any{},
				NetworkData: map[string]any{}, Traits: []string{}, ResourceClass: sn.ResourceClass,
				Properties:     map[string]any{"cpus": sn.CPUs, "memory_mb": sn.MemoryMB, "local_gb": sn.LocalGB, "cpu_arch": arch},
				ProvisionState: StateAvailable, PowerState: PowerOff, CreatedAt: t, ProvisionUpdatedAt: &t}
			if err := s.nodes.Put(tx, id, n); err != nil {
				return fmt.Errorf("seeding node %s: %w", sn.Name, err)
			}
			s.emit(tx, "node", id, "", "created", StateAvailable+" (seed)")
			mac := sn.MAC
			if mac == "" {
				mac = seedMAC(sn.Name)
			}
			hw, err := net.ParseMAC(mac)
			if err != nil {
				return fmt.Errorf("seeding node %s: bad MAC %q: %w", sn.Name, mac, err)
			}
			pt := Port{UUID: uuid.NewSHA1(seedNamespace, []byte("port/"+sn.Name)).String(), Address: hw.String(),
				NodeUUID: id, PXEEnabled: true, LocalLinkConnection: map[string]any{}, InternalInfo: map[string]any{},
				Extra: map[string]any{}, CreatedAt: t}
			if err := s.ports.Put(tx, pt.UUID, pt); err != nil {
				return fmt.Errorf("seeding port of node %s: %w", sn.Name, err)
			}
			s.emit(tx, "port", pt.UUID, "", "created", pt.Address)
		}
		return nil
	})
}
