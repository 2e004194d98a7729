// Command manager runs KaaS Sandbox's Cluster API providers: CAPGC (infrastructure), the
// hosted control plane and the bootstrap provider; see `manager --help`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kaas-sandbox/sandbox/providers/manager"
)

func main() {
	var (
		o         manager.Options
		providers string
	)
	fs := flag.NewFlagSet("manager", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: manager [flags]

Runs KaaS Sandbox's Cluster API providers in one process, against the cluster of the in-cluster
service account (or $KUBECONFIG):
  infrastructure  GcoreCluster, GcoreMachine(Template): networks, routers, security groups and
                  Nova servers (VMs, or bare metal through Ironic) in the cloud named by each
                  object's identityRef (a clouds.yaml Secret)
  controlplane    GcoreControlPlane: etcd, kube-apiserver, controller-manager and scheduler as
                  pods in the Cluster's namespace, published by a cloud load balancer
  bootstrap       GcoreConfig(Template): cloud-init that joins workers through that load balancer

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&providers, "providers", strings.Join(manager.AllProviders, ","), "comma-separated providers to run: "+strings.Join(manager.AllProviders, ", "))
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 turns it off)")
	fs.StringVar(&o.HealthAddr, "health-probe-bind-address", ":9440", "address of /healthz and /readyz (0 turns them off)")
	fs.IntVar(&o.WebhookPort, "webhook-port", 9443, "port of the admission webhook server (0 turns webhooks off)")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory holding the webhook server's tls.crt and tls.key")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "elect a leader so that only one replica acts")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election lease (default: the pod's)")
	fs.StringVar(&o.Namespace, "namespace", "", "watch only this namespace (default: all)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "objects each controller reconciles at once")
	fs.DurationVar(&o.SyncPeriod, "sync-period", 0, "reconcile every object this often even without changes (default: controller-runtime's 10h)")
	fs.DurationVar(&o.MaxRetryDelay, "max-retry-delay", manager.DefaultMaxRetryDelay, "the longest a failed reconcile (a cloud error) waits before it is retried; controller-runtime's own back-off grows to 1000s")
	zopts := zap.Options{}
	zopts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:])
	o.Providers = strings.Split(providers, ",")

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	log := ctrl.Log.WithName("setup")
	ctx := ctrl.SetupSignalHandler()
	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "no cluster to talk to: run in a pod, or set KUBECONFIG")
		os.Exit(1)
	}
	mgr, err := manager.New(ctx, cfg, o)
	if err != nil {
		log.Error(err, "setting up the manager failed")
		os.Exit(1)
	}
	log.Info("starting", "providers", o.Providers)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}
