package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/providers/scheme"
)

// SandboxPaths are the sandbox's files, relative to the repository's root unless absolute.
type SandboxPaths struct {
	// Root is the repository; "" is the working directory.
	Root string
	// Kubeconfig is the service cluster's; default .cache/sandbox/kubeconfig.
	Kubeconfig string
	// CloudsYAML is fakecloud's; default .cache/sandbox/fakecloud/clouds.yaml.
	CloudsYAML string
	// FakecloudDir holds fakecloud's pid file and log; default .cache/sandbox/fakecloud.
	FakecloudDir string
	// ClusterctlConfig is clusterctl's configuration; default .cache/clusterctl/clusterctl.yaml.
	ClusterctlConfig string
	// Kubectl and Clusterctl are the binaries; default bin/kubectl and bin/clusterctl.
	Kubectl, Clusterctl string
	// Docker is the docker CLI; default "docker" on the PATH.
	Docker string
}

// withDefaults fills the defaults and makes every path absolute.
func (p SandboxPaths) withDefaults() (SandboxPaths, error) {
	if p.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return p, fmt.Errorf("the working directory: %w", err)
		}
		p.Root = wd
	}
	abs := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
		if !filepath.IsAbs(*v) {
			*v = filepath.Join(p.Root, *v)
		}
	}
	abs(&p.Kubeconfig, ".cache/sandbox/kubeconfig")
	abs(&p.CloudsYAML, ".cache/sandbox/fakecloud/clouds.yaml")
	abs(&p.FakecloudDir, ".cache/sandbox/fakecloud")
	abs(&p.ClusterctlConfig, ".cache/clusterctl/clusterctl.yaml")
	abs(&p.Kubectl, "bin/kubectl")
	abs(&p.Clusterctl, "bin/clusterctl")
	if p.Docker == "" {
		p.Docker = "docker"
	}
	return p, nil
}

// NewSandboxEnv connects to the running sandbox: the service cluster from its kubeconfig (with
// the providers' scheme), fakecloud from its clouds.yaml as the admin, clusterctl for the
// cluster template, the customer clusters through their kubeconfig Secrets, docker and
// fakecloud's process for the disruptions, kubectl for the failure dumps.
func NewSandboxEnv(ctx context.Context, paths SandboxPaths) (*Env, error) {
	p, err := paths.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, f := range []string{p.Kubeconfig, p.CloudsYAML, p.ClusterctlConfig} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("the sandbox's file %s: %w (is the sandbox up? make sandbox)", f, err)
		}
	}
	sch, err := scheme.New()
	if err != nil {
		return nil, fmt.Errorf("the providers' scheme: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig %s: %w", p.Kubeconfig, err)
	}
	svc, err := client.New(cfg, client.Options{Scheme: sch})
	if err != nil {
		return nil, fmt.Errorf("a client of the service cluster: %w", err)
	}
	cloud, err := NewSandboxCloud(ctx, p.CloudsYAML, AdminCloud)
	if err != nil {
		return nil, err
	}
	run := execRunner{}
	return &Env{
		Service:     svc,
		Cloud:       cloud,
		Templates:   &Clusterctl{Binary: p.Clusterctl, Config: p.ClusterctlConfig, Kubeconfig: p.Kubeconfig, CloudsYAML: p.CloudsYAML, Exec: run},
		Customers:   &SecretCustomers{Service: svc, Scheme: sch},
		Disruptions: &SandboxProcesses{Docker: p.Docker, FakecloudDir: p.FakecloudDir, Service: svc, Exec: run},
		Dumper:      &SandboxDumper{Kubectl: p.Kubectl, Kubeconfig: p.Kubeconfig, Cloud: cloud, Exec: run},
	}, nil
}
