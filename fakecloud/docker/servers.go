package docker

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// NodeImageProperty is the Glance image property naming the docker image a server boots.
const NodeImageProperty = "node_image"

// CreateServer boots the server as a container from its image's node image, on the docker
// networks of its ports with their fixed IPs, its name as hostname and its UUID as cloud-init
// instance id. It returns once the container runs; cloud-init goes on inside.
func (b *Backend) CreateServer(ctx context.Context, spec compute.ServerSpec) error {
	name := b.name(TypeServer, spec.ID)
	defer b.lock(name)()
	image := spec.Image.Properties[NodeImageProperty]
	if image == "" {
		return permanent("image %s (%s) has no %q property: the docker backend boots node images only", spec.Image.Name, spec.Image.ID, NodeImageProperty)
	}
	legs, err := b.portLegs(ctx, spec.Ports)
	if err != nil {
		return err
	}
	hostname := spec.Hostname
	if hostname == "" {
		hostname = spec.Name
	}
	m := machine{
		name: name, hostname: hostname, image: image, instanceID: spec.ID, userData: spec.UserData,
		publicKey: spec.PublicKey, cpus: spec.Flavor.VCPUs, memoryMiB: spec.Flavor.RAM, legs: legs,
		labels:  b.labels(TypeServer, spec.ID, spec.Project, spec.Name),
		seedDir: filepath.Join(b.cfg.DataDir, TypeServer, spec.ID, "seed"),
	}
	if err := b.ensureMachine(ctx, m); err != nil {
		return err
	}
	return b.applySecurity(ctx, name, spec.ID)
}

// portLegs are the docker attachments of a server's ports, the first IPv4 address of each.
func (b *Backend) portLegs(ctx context.Context, ports []services.PortInfo) ([]leg, error) {
	var legs []leg
	for _, p := range ports {
		n, err := b.dockerNetworkFor(ctx, p.NetworkID)
		if err != nil {
			return nil, err
		}
		l := leg{network: n.Name}
		for _, ip := range p.FixedIPs {
			if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
				l.ip = a.String()
				break
			}
		}
		legs = append(legs, l)
	}
	return legs, nil
}

// DeleteServer removes the server's container, its volumes and its seed.
func (b *Backend) DeleteServer(ctx context.Context, id string) error {
	name := b.name(TypeServer, id)
	defer b.lock(name)()
	if err := b.removeMachine(ctx, name, filepath.Join(b.cfg.DataDir, TypeServer, id)); err != nil {
		return err
	}
	return b.removeSecurity(id)
}

// ServerAction starts, stops or reboots the server's container. Security rules live in the
// container's network namespace, which docker makes anew at each start: they are applied again.
func (b *Backend) ServerAction(ctx context.Context, id, action string) error {
	name := b.name(TypeServer, id)
	defer b.lock(name)()
	var args []string
	switch action {
	case compute.ActionStart:
		args = []string{"start", name}
	case compute.ActionStop:
		args = []string{"stop", "--time", "20", name}
	case compute.ActionRebootSoft:
		args = []string{"restart", "--time", "20", name}
	case compute.ActionRebootHard:
		args = []string{"restart", "--time", "0", name}
	default:
		return permanent("unknown server action %q", action)
	}
	if _, err := b.docker.Run(ctx, args...); err != nil {
		return classify(fmt.Errorf("%s of server %s: %w", action, id, err))
	}
	if action == compute.ActionStop {
		return nil
	}
	return b.applySecurity(ctx, name, id)
}
