package network

import (
	"fmt"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// SeedConfig describes what a fresh region has: the external network for floating IPs and
// router gateways. The docker backend sets PublicCIDR to its docker network's range.
type SeedConfig struct {
	// AdminProject owns the external network.
	AdminProject string
	// PublicName is the external network's name; default "public".
	PublicName string
	// PublicCIDR is its subnet; default 172.24.4.0/24.
	PublicCIDR string
	// PublicGateway is the subnet's gateway; default the first host.
	PublicGateway string
	// PublicPools are the addresses handed out; default the whole range but the gateway.
	PublicPools []AllocationPool
	// DNSNameservers of the public subnet.
	DNSNameservers []string
}

// Seed creates the external network and its subnet unless a network of that name exists.
// Each project's "default" security group is created lazily on its first use.
func (s *Service) Seed(cfg SeedConfig) error {
	if cfg.PublicName == "" {
		cfg.PublicName = "public"
	}
	if cfg.PublicCIDR == "" {
		cfg.PublicCIDR = "172.24.4.0/24"
	}
	if cfg.AdminProject == "" {
		return fmt.Errorf("seeding the network service: no admin project given")
	}
	if s.networks.Count(func(_ string, n *Network) bool { return n.Name == cfg.PublicName && n.External }) > 0 {
		return nil
	}
	info, err := s.subnetCIDR(cfg.PublicCIDR, 0)
	if err != nil {
		return fmt.Errorf("seeding the public network: %w", err)
	}
	t := now()
	n := Network{ID: newID(), Name: cfg.PublicName, Project: cfg.AdminProject, AdminStateUp: true, Shared: true, External: true,
		MTU: s.cfg.MTU, PortSecurity: true, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	version := 4
	if info.prefix.Addr().Is6() {
		version = 6
	}
	sn := Subnet{ID: newID(), Name: cfg.PublicName + "-subnet", Project: cfg.AdminProject, NetworkID: n.ID, IPVersion: version,
		CIDR: info.prefix.String(), GatewayIP: info.firstHost.String(), DNSNameservers: append([]string{}, cfg.DNSNameservers...),
		HostRoutes: []HostRoute{}, Tags: []string{}, Revision: 1, Created: t, Updated: t}
	b := &subnetFields{}
	if cfg.PublicGateway != "" {
		b.GatewayIP = []byte(fmt.Sprintf("%q", cfg.PublicGateway))
	}
	if cfg.PublicPools != nil {
		b.AllocationPools = &cfg.PublicPools
	}
	if err := applySubnet(&sn, b, info, true); err != nil {
		return fmt.Errorf("seeding the public subnet: %w", err)
	}
	n.Subnets = []string{sn.ID}
	return s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.networks.Put(tx, n.ID, n); err != nil {
			return err
		}
		if err := s.subnets.Put(tx, sn.ID, sn); err != nil {
			return err
		}
		s.emit(tx, "network", n.ID, n.Project, "created", n.Name)
		s.emit(tx, "subnet", sn.ID, sn.Project, "created", sn.CIDR)
		return s.reconcile(tx, taskNetworkSync, n.ID, n.Project)
	})
}
