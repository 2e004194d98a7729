// Command hostpath-provisioner is the service cluster's storage provisioner: on each node it
// serves the claims the scheduler put there with hostPath volumes; see --help and
// storage/hostpath.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kaas-sandbox/sandbox/storage/hostpath"
)

func main() {
	var (
		cfg    hostpath.Config
		health string
	)
	fs := flag.NewFlagSet("hostpath-provisioner", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: hostpath-provisioner [flags]

Provisions PersistentVolumes for claims of StorageClasses whose provisioner is --name, on the
node it runs on (run one per node, as a DaemonSet): for each claim the scheduler placed on
--node it makes a directory under --base-dir and a hostPath volume pinned to the node, and
removes both once the volume is released (reclaim policy Delete). The StorageClass needs
volumeBindingMode: WaitForFirstConsumer.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Name, "name", hostpath.DefaultName, "provisioner name, as StorageClasses give it")
	fs.StringVar(&cfg.Node, "node", os.Getenv("NODE_NAME"), "the node this instance serves (default: $NODE_NAME)")
	fs.StringVar(&cfg.BaseDir, "base-dir", "/var/local-path-provisioner", "directory of the volumes, the same path on the node and in the pod")
	fs.StringVar(&health, "health-probe-bind-address", ":9440", "address of /healthz and /readyz (0 turns them off)")
	zopts := zap.Options{}
	zopts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:])
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	log := ctrl.Log.WithName("setup")
	if err := run(cfg, health); err != nil {
		log.Error(err, "hostpath-provisioner stopped")
		os.Exit(1)
	}
}

func run(cfg hostpath.Config, health string) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid flags: %w", err)
	}
	if err := os.MkdirAll(cfg.BaseDir, 0o755); err != nil {
		return fmt.Errorf("the base directory: %w", err)
	}
	rc, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("no cluster to talk to (run in a pod, or set KUBECONFIG): %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	mgr, err := ctrl.NewManager(rc, ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: health})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := hostpath.Setup(mgr, cfg); err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("serving claims", "provisioner", cfg.Name, "node", cfg.Node, "dir", cfg.BaseDir)
	return mgr.Start(ctx)
}
