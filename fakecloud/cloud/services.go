package cloud

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/kaas-sandbox/sandbox/fakecloud/baremetal"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/image"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
	"github.com/kaas-sandbox/sandbox/fakecloud/network"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// Backends are what make resources real: the memory backend (nothing but timers) or the docker
// backend. A nil field takes the service's memory backend.
type Backends struct {
	Compute      compute.Backend
	Network      network.Backend
	LoadBalancer loadbalancer.Backend
	BareMetal    baremetal.Backend
	// World, when set, is the backend's inventory of real objects, brought back in line
	// with the store when fakecloud starts.
	World services.World
	// Reserved is the block of each subnet the backend keeps for itself (see
	// network.Config.Reserved); nil: none.
	Reserved func(netip.Prefix) (netip.Prefix, bool)
}

func (b Backends) withDefaults() Backends {
	if b.Compute == nil {
		b.Compute = compute.MemoryBackend{}
	}
	if b.Network == nil {
		b.Network = network.MemoryBackend{}
	}
	if b.LoadBalancer == nil {
		b.LoadBalancer = loadbalancer.NewMemoryBackend()
	}
	if b.BareMetal == nil {
		b.BareMetal = baremetal.MemoryBackend{}
	}
	return b
}

// The services beside Keystone, once built.
type serviceSet struct {
	network      *network.Service
	image        *image.Service
	baremetal    *baremetal.Service
	compute      *compute.Service
	loadbalancer *loadbalancer.Service
}

// buildServices constructs every service beside Keystone and wires their contracts: Nova uses
// Neutron's ports, Glance's images and Ironic's nodes; Octavia uses Neutron's ports.
func (c *Cloud) buildServices(env services.Env) error {
	b := c.cfg.Backends.withDefaults()
	var err error
	s := &c.svc
	if s.network, err = network.New(env, network.Config{Reserved: b.Reserved}, b.Network); err != nil {
		return fmt.Errorf("building the network service: %w", err)
	}
	if u, ok := b.BareMetal.(services.DevicePortsUser); ok {
		u.UseDevicePorts(s.network.DevicePorts)
	}
	if s.image, err = image.New(env, image.Options{DataDir: filepath.Join(c.cfg.DataDir, "images")}); err != nil {
		return fmt.Errorf("building the image service: %w", err)
	}
	if s.baremetal, err = baremetal.New(env, b.BareMetal); err != nil {
		return fmt.Errorf("building the bare-metal service: %w", err)
	}
	if s.compute, err = compute.New(env, s.network, s.image, s.baremetal, b.Compute, compute.Config{AvailabilityZones: c.cfg.Seed.Zones, Hypervisors: c.cfg.Seed.Hypervisors}); err != nil {
		return fmt.Errorf("building the compute service: %w", err)
	}
	if s.loadbalancer, err = loadbalancer.New(env, s.network, b.LoadBalancer, loadbalancer.Config{}); err != nil {
		return fmt.Errorf("building the load-balancer service: %w", err)
	}
	c.services = append(c.services, s.network, s.image, s.baremetal, s.compute, s.loadbalancer)
	return nil
}

// startServices runs the services' own background loops (Octavia's health polling).
func (c *Cloud) startServices(ctx context.Context) {
	c.svc.loadbalancer.Start(ctx)
}

// seedServices creates each service's defaults (flavors, images, the external network,
// bare-metal nodes) when they do not exist yet.
func (c *Cloud) seedServices() error {
	admin, ok := c.Identity.ProjectByName("admin")
	if !ok {
		return fmt.Errorf("seeding: the admin project is missing")
	}
	if err := c.svc.network.Seed(network.SeedConfig{AdminProject: admin.ID, PublicCIDR: c.cfg.Seed.ExternalCIDR, PublicGateway: c.cfg.Seed.ExternalGW}); err != nil {
		return fmt.Errorf("seeding the network service: %w", err)
	}
	imgs := c.cfg.Seed.Images
	imgs.Owner = admin.ID
	if err := c.svc.image.Seed(imgs); err != nil {
		return fmt.Errorf("seeding the image service: %w", err)
	}
	if err := c.svc.compute.Seed(c.cfg.Seed.Flavors); err != nil {
		return fmt.Errorf("seeding the compute service: %w", err)
	}
	nodes := c.cfg.Seed.BareMetal
	if nodes == nil {
		n := c.cfg.Seed.BareMetalNodes
		if n == 0 {
			n = 3
		}
		nodes = baremetal.DefaultSeed(max(n, 0))
	}
	if len(nodes) > 0 {
		if err := c.svc.baremetal.Seed(nodes); err != nil {
			return fmt.Errorf("seeding the bare-metal service: %w", err)
		}
	}
	return nil
}
