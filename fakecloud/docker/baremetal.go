package docker

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/kaas-sandbox/sandbox/fakecloud/baremetal"
	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// Bare-metal hosts are containers too, one per Ironic node, labelled type=baremetal. An
// available node is a blank host: a created, powered-off container of the host image with
// the node's hardware profile as limits. Deploying replaces it with the node image of the
// instance, on the networks of the instance's ports, its user-data run by cloud-init;
// cleaning puts a blank host back, so nothing of the last tenant remains.

// Labels of bare-metal hosts.
const (
	LabelBareMetal    = "kaas.fakecloud/baremetal"     // the node's resource class
	LabelInstanceUUID = "kaas.fakecloud/instance-uuid" // the instance deployed on it ("" when blank)
)

// devicePorts is Neutron's lookup of a device's ports, handed over by package cloud.
type devicePorts struct {
	mu     sync.RWMutex
	lookup func(deviceID string) []services.PortInfo
}

// UseDevicePorts gives the backend Neutron's lookup of the ports of a device.
func (b *Backend) UseDevicePorts(lookup func(deviceID string) []services.PortInfo) {
	b.ports.mu.Lock()
	defer b.ports.mu.Unlock()
	b.ports.lookup = lookup
}

func (b *Backend) portsOf(deviceID string) []services.PortInfo {
	b.ports.mu.RLock()
	defer b.ports.mu.RUnlock()
	if b.ports.lookup == nil {
		return nil
	}
	return b.ports.lookup(deviceID)
}

var _ baremetal.Backend = (*Backend)(nil)

// hostLabels are the labels of a node's container.
func (b *Backend) hostLabels(node baremetal.NodeSpec) []string {
	return append(b.labels(TypeBareMetal, node.ID, node.Meta["project_id"], node.Name),
		"--label", LabelBareMetal+"="+node.ResourceClass, "--label", LabelInstanceUUID+"="+node.InstanceUUID)
}

// profile reads the node's hardware (Ironic properties cpus and memory_mb).
func profile(node baremetal.NodeSpec) (cpus, memoryMiB int) {
	num := func(k string) int {
		switch v := node.Properties[k].(type) {
		case float64:
			return int(v)
		case int:
			return v
		case string:
			n, _ := strconv.Atoi(v)
			return n
		}
		return 0
	}
	return num("cpus"), num("memory_mb")
}

// EnsureHosts creates the blank host container of every node that has none and no
// instance: the bare-metal pool of this machine.
func (b *Backend) EnsureHosts(ctx context.Context, nodes []baremetal.NodeSpec) error {
	for _, n := range nodes {
		if n.InstanceUUID != "" {
			continue
		}
		name := b.name(TypeBareMetal, n.ID)
		if _, err := b.docker.InspectContainer(ctx, name); err == nil {
			continue
		} else if !dockercli.IsNotFound(err) {
			return err
		}
		if err := b.blankHost(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// blankHost creates the powered-off, empty host of a node.
func (b *Backend) blankHost(ctx context.Context, node baremetal.NodeSpec) error {
	name := b.name(TypeBareMetal, node.ID)
	cpus, mem := profile(node)
	args := []string{"create", "--name", name, "--hostname", node.Name, "--network", "none"}
	args = append(args, b.hostLabels(baremetal.NodeSpec{ID: node.ID, Name: node.Name, ResourceClass: node.ResourceClass})...)
	if cpus > 0 {
		args = append(args, "--cpus", strconv.Itoa(min(cpus, b.cpus)))
	}
	if mem > 0 {
		args = append(args, "--memory", strconv.Itoa(mem)+"m")
	}
	// The blank host is the router image (small, iptables and a shell): Clean recognises it.
	if _, err := b.docker.Run(ctx, append(args, b.cfg.RouterImage, "sleep", "infinity")...); err != nil {
		return classify(fmt.Errorf("creating bare-metal host %s: %w", node.Name, err))
	}
	return nil
}

// Deploy replaces the node's host with its instance: the node image of the instance's image,
// the networks of its ports, its user-data.
func (b *Backend) Deploy(ctx context.Context, node baremetal.NodeSpec, userData []byte) error {
	name := b.name(TypeBareMetal, node.ID)
	defer b.lock(name)()
	image := node.Meta[NodeImageProperty]
	if image == "" {
		if v, ok := node.InstanceInfo[NodeImageProperty].(string); ok {
			image = v
		}
	}
	if v, ok := node.InstanceInfo["image_source"].(string); image == "" && ok && strings.Contains(v, ":") {
		image = v // a standalone Ironic deploy naming a docker image: kaas/node:v1.37.2
	}
	if image == "" {
		return permanent("node %s: the docker backend deploys node images: deploy through Nova with an image that has the %q property, or set instance_info/%s (or image_source) to one, e.g. kaas/node:v1.37.2", node.Name, NodeImageProperty, NodeImageProperty)
	}
	legs, err := b.portLegs(ctx, b.portsOf(node.InstanceUUID))
	if err != nil {
		return err
	}
	if len(legs) == 0 {
		// A standalone Ironic deploy has no Neutron port: the host goes on the public network,
		// like a server on a provisioning network, with an address from the reserved block.
		legs = []leg{{network: b.cfg.PublicNetwork}}
	}
	c, err := b.docker.InspectContainer(ctx, name)
	switch {
	case err == nil && c.Config.Labels[LabelInstanceUUID] == node.InstanceUUID && c.Config.Image == image:
		if c.State.Running {
			return nil // deployed already (a retried task)
		}
	case err == nil || dockercli.IsNotFound(err):
		if err := b.docker.Remove(ctx, "container", name); err != nil {
			return err
		}
	default:
		return err
	}
	cpus, mem := profile(node)
	hostname := node.Meta["display_name"]
	if hostname == "" {
		hostname = node.Name
	}
	instanceID := node.InstanceUUID
	if instanceID == "" {
		instanceID = node.ID // a standalone Ironic deploy: no Nova instance
	}
	m := machine{
		name: name, hostname: sanitizeHostname(hostname), image: image, instanceID: instanceID, userData: userData,
		cpus: cpus, memoryMiB: mem, legs: legs, labels: b.hostLabels(node),
		seedDir: filepath.Join(b.cfg.DataDir, TypeBareMetal, node.ID, "seed"),
	}
	if err := b.ensureMachine(ctx, m); err != nil {
		return err
	}
	return b.applySecurity(ctx, name, node.InstanceUUID)
}

// Clean wipes the node: its instance container and volumes go, a blank host comes back.
func (b *Backend) Clean(ctx context.Context, node baremetal.NodeSpec) error {
	name := b.name(TypeBareMetal, node.ID)
	defer b.lock(name)()
	c, err := b.docker.InspectContainer(ctx, name)
	if err == nil && c.Config.Image == b.cfg.RouterImage && !c.State.Running {
		return nil // a blank host already
	}
	if err := b.removeMachine(ctx, name, filepath.Join(b.cfg.DataDir, TypeBareMetal, node.ID)); err != nil {
		return err
	}
	if err == nil && c.Config.Labels[LabelInstanceUUID] != "" {
		if err := b.removeSecurity(c.Config.Labels[LabelInstanceUUID]); err != nil {
			return err
		}
	}
	return b.blankHost(ctx, node)
}

// SetPower starts or stops the node's container.
func (b *Backend) SetPower(ctx context.Context, id string, on bool) error {
	name := b.name(TypeBareMetal, id)
	defer b.lock(name)()
	c, err := b.docker.InspectContainer(ctx, name)
	if dockercli.IsNotFound(err) {
		return nil // not made yet: EnsureHosts or Deploy will
	}
	if err != nil {
		return err
	}
	switch {
	case on && !c.State.Running:
		_, err = b.docker.Run(ctx, "start", name)
	case !on && c.State.Running:
		_, err = b.docker.Run(ctx, "stop", "--time", "20", name)
	}
	if err != nil {
		return fmt.Errorf("powering node %s %s: %w", id, map[bool]string{true: "on", false: "off"}[on], err)
	}
	return nil
}

// sanitizeHostname makes a display name a valid hostname.
func sanitizeHostname(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			sb.WriteRune(r)
		case r == '_' || r == '.' || r == ' ':
			sb.WriteRune('-')
		}
	}
	h := strings.Trim(sb.String(), "-")
	if len(h) > 63 {
		h = h[:63]
	}
	if h == "" {
		h = "baremetal"
	}
	return h
}
