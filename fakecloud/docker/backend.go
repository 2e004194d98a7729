package docker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker/dockercli"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

// Label keys on every container and network the backend makes.
const (
	LabelInstance = "kaas.fakecloud/instance" // the fakecloud instance (Config.Instance)
	LabelProject  = "kaas.fakecloud/project"  // the OpenStack project owning the resource
	LabelType     = "kaas.fakecloud/type"     // server, network, router, loadbalancer, baremetal
	LabelID       = "kaas.fakecloud/id"       // the OpenStack id of the resource
	LabelName     = "kaas.fakecloud/name"     // its OpenStack name, for people
)

// Resource types in LabelType.
const (
	TypeServer       = "server"
	TypeNetwork      = "network"
	TypeRouter       = "router"
	TypeLoadBalancer = "loadbalancer"
	TypeBareMetal    = "baremetal"
)

// Config tunes the docker backend.
type Config struct {
	// Instance names this fakecloud in labels and container names; default "fakecloud". Two
	// fakeclouds on one machine need different instances.
	Instance string
	// DataDir holds the backend's files (cloud-init seeds, router and load balancer
	// configurations); usually <fakecloud data>/docker.
	DataDir string
	// PublicNetwork is the docker network of external Neutron networks; default "public".
	PublicNetwork string
	// RouterImage runs routers; default kaas/slim:latest (iptables, iproute2, conntrack).
	RouterImage string
	// LoadBalancerImage runs load balancers; default kaas/haproxy:latest.
	LoadBalancerImage string
	// Docker is the docker command line.
	Docker dockercli.CLI
	// Log receives what the backend does; default slog.Default().
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Instance == "" {
		c.Instance = "fakecloud"
	}
	if c.PublicNetwork == "" {
		c.PublicNetwork = "public"
	}
	if c.RouterImage == "" {
		c.RouterImage = "kaas/slim:latest"
	}
	if c.LoadBalancerImage == "" {
		c.LoadBalancerImage = "kaas/haproxy:latest"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Backend implements compute.Backend, network.Backend, loadbalancer.Backend and
// baremetal.Backend on the docker engine of this machine.
type Backend struct {
	cfg    Config
	docker dockercli.CLI
	log    *slog.Logger
	cpus   int

	ports devicePorts

	// locks serialises the work on one docker object (a router's legs, a load balancer's
	// configuration) across concurrent tasks.
	locks sync.Map // name -> *sync.Mutex
}

// New checks that docker answers and returns a backend.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	cfg = cfg.withDefaults()
	if !validInstance.MatchString(cfg.Instance) {
		return nil, fmt.Errorf("docker backend: instance %q must match %s", cfg.Instance, validInstance)
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("docker backend: no data directory")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	if _, err := cfg.Docker.Run(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return nil, fmt.Errorf("docker backend: the docker engine does not answer (run make setup): %w", err)
	}
	return &Backend{cfg: cfg, docker: cfg.Docker, log: cfg.Log, cpus: runtime.NumCPU()}, nil
}

var validInstance = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// Instance is the instance name the backend labels its objects with.
func (b *Backend) Instance() string { return b.cfg.Instance }

// name is the docker name of the object of type typ with OpenStack id.
func (b *Backend) name(typ, id string) string { return b.cfg.Instance + "-" + typ + "-" + id }

// labels are the docker --label arguments of an object.
func (b *Backend) labels(typ, id, project, name string) []string {
	return []string{
		"--label", LabelInstance + "=" + b.cfg.Instance,
		"--label", LabelType + "=" + typ,
		"--label", LabelID + "=" + id,
		"--label", LabelProject + "=" + project,
		"--label", LabelName + "=" + name,
	}
}

// lock serialises work on one docker object; call the returned function to release it.
func (b *Backend) lock(name string) func() {
	m, _ := b.locks.LoadOrStore(name, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// dir returns (and creates) the backend's directory for one object.
func (b *Backend) dir(typ, id string) (string, error) {
	d := filepath.Join(b.cfg.DataDir, typ, id)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", d, err)
	}
	return d, nil
}

// permanent marks err as one retrying cannot fix.
func permanent(format string, args ...any) error {
	return services.Permanent(fmt.Errorf(format, args...))
}
