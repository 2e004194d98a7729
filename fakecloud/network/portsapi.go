package network

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// This file is services.Ports: Neutron's side of ports for Nova (server NICs) and Octavia
// (VIP ports). Errors are *httpapi.Error values the caller can hand to its own user.

func (s *Service) portInfo(p Port) services.PortInfo {
	info := services.PortInfo{ID: p.ID, NetworkID: p.NetworkID, MACAddress: p.MACAddress, Created: p.AutoCreated}
	if n, ok := s.networks.Get(p.NetworkID); ok {
		info.NetworkName = n.Name
	}
	for _, ip := range p.FixedIPs {
		info.FixedIPs = append(info.FixedIPs, services.FixedIP{SubnetID: ip.SubnetID, IPAddress: ip.IPAddress})
	}
	return info
}

// AttachPort creates a port on req.NetworkID for req.DeviceID (or binds the existing port
// req.PortID to it), as part of the caller's tx. A network or port the project cannot see is
// a 400 (as Nova answers a bad network in a server request); a port bound elsewhere is a 409.
func (s *Service) AttachPort(tx *store.Tx, req services.PortRequest) (services.PortInfo, error) {
	if req.PortID != "" {
		port, ok := s.ports.Get(req.PortID)
		if !ok || port.Project != req.Project {
			return services.PortInfo{}, httpapi.BadRequest("Port id %s could not be found.", req.PortID)
		}
		if port.DeviceID != "" && port.DeviceID != req.DeviceID {
			return services.PortInfo{}, httpapi.Errorf(http.StatusConflict, "PortInUse", "Port %s is still in use.", port.ID)
		}
		owner, dev := req.DeviceOwner, req.DeviceID
		port, err := s.changePort(tx, port, &portFields{DeviceOwner: &owner, DeviceID: &dev, QoSPolicyID: qosRaw(req.QoSPolicyID)}, true)
		if err != nil {
			return services.PortInfo{}, err
		}
		return s.portInfo(port), nil
	}
	n, ok := s.networks.Get(req.NetworkID)
	if !ok || !(n.Project == req.Project || n.Shared) {
		return services.PortInfo{}, httpapi.BadRequest("Network %s could not be found.", req.NetworkID)
	}
	if _, err := s.ensureDefaultSG(tx, req.Project); err != nil {
		return services.PortInfo{}, err
	}
	owner, dev, name := req.DeviceOwner, req.DeviceID, req.Name
	pf := &portFields{DeviceOwner: &owner, DeviceID: &dev, Name: &name, QoSPolicyID: qosRaw(req.QoSPolicyID)}
	if req.FixedIP != "" || req.SubnetID != "" {
		pf.FixedIPs = &[]fixedIPReq{{SubnetID: req.SubnetID, IPAddress: req.FixedIP}}
	}
	if req.SecurityGroups != nil {
		sgs := append([]string{}, req.SecurityGroups...)
		pf.SecurityGroups = &sgs
	}
	port, err := s.buildPort(tx, req.Project, true, n, pf, true, true)
	if err != nil {
		return services.PortInfo{}, err
	}
	return s.portInfo(port), nil
}

// qosRaw is a port update's qos_policy_id for a policy id; none for "" (the port's stays).
func qosRaw(id string) json.RawMessage {
	if id == "" {
		return nil
	}
	raw, _ := json.Marshal(id)
	return raw
}

// SetPortQoS sets a port's QoS policy, "" clearing it, as part of the caller's tx. The caller
// is a service with its own credentials: any existing policy will do.
func (s *Service) SetPortQoS(tx *store.Tx, portID, policyID string) error {
	port, ok := s.ports.Get(portID)
	if !ok {
		return httpapi.NotFound("Port", portID)
	}
	raw := qosRaw(policyID)
	if raw == nil {
		raw = json.RawMessage("null")
	}
	_, err := s.changePort(tx, port, &portFields{QoSPolicyID: raw}, true)
	return err
}

// DetachPorts deletes the ports AttachPort created for deviceID and unbinds the others, as
// part of the caller's tx.
func (s *Service) DetachPorts(tx *store.Tx, deviceID string) error {
	if deviceID == "" {
		return nil
	}
	for _, id := range s.ipam.portsOf("device_id", []string{deviceID}) {
		port, ok := s.ports.Get(id)
		if !ok || strings.HasPrefix(port.DeviceOwner, "network:") {
			continue
		}
		if port.AutoCreated {
			if err := s.removePort(tx, port); err != nil {
				return err
			}
			continue
		}
		empty := ""
		if _, err := s.changePort(tx, port, &portFields{DeviceID: &empty, DeviceOwner: &empty, HostID: &empty}, true); err != nil {
			return err
		}
	}
	return nil
}

// Port returns a port by id.
func (s *Service) Port(id string) (services.PortInfo, bool) {
	p, ok := s.ports.Get(id)
	if !ok {
		return services.PortInfo{}, false
	}
	return s.portInfo(p), true
}

// DevicePorts returns the ports bound to a device (a server or a bare-metal instance),
// sorted by id.
func (s *Service) DevicePorts(deviceID string) []services.PortInfo {
	ps := s.ports.List(func(_ string, p *Port) bool { return p.DeviceID == deviceID })
	slices.SortFunc(ps, func(a, b Port) int { return strings.Compare(a.ID, b.ID) })
	out := make([]services.PortInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, s.portInfo(p))
	}
	return out
}

// Subnet returns a subnet by id.
func (s *Service) Subnet(id string) (services.SubnetInfo, bool) {
	sn, ok := s.subnets.Get(id)
	if !ok {
		return services.SubnetInfo{}, false
	}
	return services.SubnetInfo{ID: sn.ID, NetworkID: sn.NetworkID, Project: sn.Project, CIDR: sn.CIDR, GatewayIP: sn.GatewayIP}, true
}

// ExternalNetwork returns the id of the router:external network (the oldest, if several).
func (s *Service) ExternalNetwork() (string, bool) {
	ext := s.networks.List(func(_ string, n *Network) bool { return n.External })
	if len(ext) == 0 {
		return "", false
	}
	sort.Slice(ext, func(i, j int) bool {
		if !ext[i].Created.Equal(ext[j].Created) {
			return ext[i].Created.Before(ext[j].Created)
		}
		return ext[i].ID < ext[j].ID
	})
	return ext[0].ID, true
}

// AutoNetwork is the network a server gets when it asks for none (or "auto"): the one
// network the project can use, its own or a shared one, not external. With none or several
// there is no automatic choice.
func (s *Service) AutoNetwork(project string) (string, bool) {
	cands := s.networks.List(func(_ string, n *Network) bool {
		return !n.External && (n.Project == project || n.Shared) && len(n.Subnets) > 0
	})
	if len(cands) != 1 {
		return "", false
	}
	return cands[0].ID, true
}
