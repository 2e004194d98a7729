package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
)

// machine is a container booted like a virtual machine from a kind-style node image:
// systemd as PID 1, privileged, its own /var volume, and a NoCloud seed for cloud-init.
type machine struct {
	name       string   // docker container name
	hostname   string   // the hostname inside
	labels     []string // --label arguments
	image      string   // docker image (a kaas/node image)
	instanceID string   // cloud-init's instance-id (the server's UUID)
	userData   []byte
	publicKey  string
	cpus       int // 0: no limit
	memoryMiB  int // 0: no limit
	legs       []leg
	seedDir    string // host directory holding the NoCloud seed
}

// leg is a container's attachment to a docker network.
type leg struct {
	network string // docker network name
	ip      string // "" lets docker pick from the reserved block
}

// vendorData turns off what cannot work in a container: cloud-init's locale module needs
// the locales package, which node images do not carry.
const vendorData = "#cloud-config\nlocale: false\n"

// writeSeed writes the NoCloud seed of m.
func (m machine) writeSeed() error {
	if err := os.MkdirAll(m.seedDir, 0o755); err != nil {
		return fmt.Errorf("creating cloud-init seed: %w", err)
	}
	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", m.instanceID, m.hostname)
	if m.publicKey != "" {
		meta += "public-keys:\n  - " + strconv.Quote(strings.TrimSpace(m.publicKey)) + "\n"
	}
	ud := m.userData
	if len(ud) == 0 {
		ud = []byte("#cloud-config\n{}\n")
	}
	for name, data := range map[string][]byte{"meta-data": []byte(meta), "user-data": ud, "vendor-data": []byte(vendorData)} {
		if err := os.WriteFile(filepath.Join(m.seedDir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing cloud-init %s: %w", name, err)
		}
	}
	return nil
}

// ensureMachine creates and starts m, or starts it when it exists but does not run. Errors
// from docker create or start that retrying cannot fix are permanent: the image is missing,
// an address is taken, a limit cannot be met.
func (b *Backend) ensureMachine(ctx context.Context, m machine) error {
	c, err := b.docker.InspectContainer(ctx, m.name)
	if err == nil {
		if c.State.Running {
			return nil
		}
		return b.startMachine(ctx, m.name)
	}
	if !dockercli.IsNotFound(err) {
		return fmt.Errorf("inspecting %s: %w", m.name, err)
	}
	if _, err := b.docker.Run(ctx, "image", "inspect", "--format", "{{.Id}}", m.image); err != nil {
		return permanent("docker image %s is not built on this machine (make images builds every pinned version's node image)", m.image)
	}
	if err := m.writeSeed(); err != nil {
		return err
	}
	if len(m.legs) == 0 {
		return permanent("no network to attach the instance to")
	}
	args := []string{"create", "--name", m.name, "--hostname", m.hostname}
	args = append(args, m.labels...)
	args = append(args,
		"--privileged", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--tmpfs", "/tmp", "--tmpfs", "/run", "--volume", "/var", "--volume", "/lib/modules:/lib/modules:ro",
		"--cgroupns=private", "--init=false", "--restart=on-failure:1", "--tty",
		"--volume", m.seedDir+":/var/lib/cloud/seed/nocloud:ro")
	if m.cpus > 0 {
		args = append(args, "--cpus", strconv.Itoa(min(m.cpus, b.cpus)))
	}
	if m.memoryMiB > 0 {
		args = append(args, "--memory", strconv.Itoa(m.memoryMiB)+"m")
	}
	args = append(args, legArgs(m.legs[0], "--network")...)
	if _, err := b.docker.Run(ctx, append(args, m.image)...); err != nil {
		return classify(fmt.Errorf("creating container %s: %w", m.name, err))
	}
	for _, l := range m.legs[1:] {
		if err := b.connect(ctx, m.name, l); err != nil {
			return err
		}
	}
	return b.startMachine(ctx, m.name)
}

// legArgs are the arguments attaching a container to l; networkFlag is "--network" for
// docker create and "" for docker network connect (which takes the network as an argument).
func legArgs(l leg, networkFlag string) []string {
	var args []string
	if networkFlag != "" {
		args = append(args, networkFlag, l.network)
	}
	if l.ip != "" {
		args = append(args, "--ip", l.ip)
	}
	if networkFlag == "" {
		args = append(args, l.network)
	}
	return args
}

// connect attaches a container, started or not, to the network of l.
func (b *Backend) connect(ctx context.Context, container string, l leg) error {
	if _, err := b.docker.Run(ctx, append(append([]string{"network", "connect"}, legArgs(l, "")...), container)...); err != nil {
		return classify(fmt.Errorf("attaching %s to %s: %w", container, l.network, err))
	}
	return nil
}

func (b *Backend) startMachine(ctx context.Context, name string) error {
	if _, err := b.docker.Run(ctx, "start", name); err != nil {
		return classify(fmt.Errorf("starting container %s: %w", name, err))
	}
	return nil
}

// classify makes docker errors that cannot heal by themselves permanent.
func classify(err error) error {
	s := err.Error()
	for _, perm := range []string{"Address already in use", "no configured subnet", "Invalid address", "invalid", "Minimum memory limit", "range of CPUs", "executable file not found", "no such image", "No such image", "requires API version"} {
		if strings.Contains(s, perm) {
			return permanent("%w", err)
		}
	}
	return err
}

// removeMachine removes a container, its anonymous volumes and its seed.
func (b *Backend) removeMachine(ctx context.Context, name, seedDir string) error {
	if err := b.docker.Remove(ctx, "container", name); err != nil {
		return fmt.Errorf("removing container %s: %w", name, err)
	}
	if seedDir != "" {
		if err := os.RemoveAll(seedDir); err != nil {
			return fmt.Errorf("removing %s: %w", seedDir, err)
		}
	}
	return nil
}
