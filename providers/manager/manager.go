// Package manager runs the project's providers in one controller-runtime manager: the
// infrastructure provider (CAPGC), the hosted control plane and the bootstrap provider, each
// switchable, with their webhooks, metrics, health probes and leader election.
package manager

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/kaas-sandbox/sandbox/providers/bootstrap"
	bswebhooks "github.com/kaas-sandbox/sandbox/providers/bootstrap/webhooks"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/controlplane"
	cpwebhooks "github.com/kaas-sandbox/sandbox/providers/controlplane/webhooks"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure"
	infrawebhooks "github.com/kaas-sandbox/sandbox/providers/infrastructure/webhooks"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/providers/workloadclient"
)

// Provider names, as --providers takes them.
const (
	Infrastructure = "infrastructure"
	ControlPlane   = "controlplane"
	Bootstrap      = "bootstrap"
)

// AllProviders lists every provider the manager can run.
var AllProviders = []string{Infrastructure, ControlPlane, Bootstrap}

// Options configure a manager.
type Options struct {
	// Providers to run (default: all).
	Providers []string
	// MetricsAddr serves Prometheus metrics ("0" turns them off).
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz ("0" turns them off).
	HealthAddr string
	// WebhookPort and WebhookCertDir configure the admission webhook server (the cert dir holds
	// tls.crt and tls.key); WebhookPort 0 turns webhooks off.
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// LeaderElect makes only one replica act at a time.
	LeaderElect bool
	// LeaderElectionNamespace holds the lease (default: the pod's namespace).
	LeaderElectionNamespace string
	// Namespace limits what is watched to one namespace ("" = all).
	Namespace string
	// Concurrency is the number of objects each controller reconciles at once.
	Concurrency int
	// SyncPeriod is how often every object is reconciled even without changes.
	SyncPeriod time.Duration
	// MaxRetryDelay caps the back-off of a reconcile that failed (0: DefaultMaxRetryDelay).
	MaxRetryDelay time.Duration
	// SkipNameValidation lets a process build more than one manager (controller-runtime keeps
	// controller names process-wide): for tests run with -count.
	SkipNameValidation bool
}

// Validate checks the options.
func (o *Options) Validate() error {
	if len(o.Providers) == 0 {
		o.Providers = AllProviders
	}
	for _, p := range o.Providers {
		if !slices.Contains(AllProviders, p) {
			return fmt.Errorf("unknown provider %q: choose from %s", p, strings.Join(AllProviders, ", "))
		}
	}
	if o.Concurrency < 1 {
		return fmt.Errorf("concurrency must be at least 1, got %d", o.Concurrency)
	}
	if o.MaxRetryDelay < 0 {
		return fmt.Errorf("max retry delay must not be negative, got %s", o.MaxRetryDelay)
	}
	if o.MaxRetryDelay == 0 {
		o.MaxRetryDelay = DefaultMaxRetryDelay
	}
	return nil
}

func (o *Options) has(p string) bool { return slices.Contains(o.Providers, p) }

// New builds the manager with the chosen providers set up.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	mopts := ctrl.Options{
		Scheme:                  s,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.HealthAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        "gcore-providers.kaas.sandbox",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Cluster API's KCP timings rather than controller-runtime's 15/10/2 s: a service
		// cluster busy on two cores answers lease renewals late, and a lost lease restarts us.
		LeaseDuration: ptr.To(60 * time.Second),
		RenewDeadline: ptr.To(40 * time.Second),
		RetryPeriod:   ptr.To(5 * time.Second),
	}
	if o.SyncPeriod > 0 {
		mopts.Cache.SyncPeriod = ptr.To(o.SyncPeriod)
	}
	if o.Namespace != "" {
		mopts.Cache.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	if o.SkipNameValidation {
		mopts.Controller.SkipNameValidation = ptr.To(true)
	}
	if o.WebhookPort > 0 {
		mopts.WebhookServer = webhook.NewServer(webhook.Options{Host: o.WebhookHost, Port: o.WebhookPort, CertDir: o.WebhookCertDir})
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	copts := controller.Options{MaxConcurrentReconciles: o.Concurrency, RateLimiter: retryLimiter(o.MaxRetryDelay)}
	clouds := cloudclient.NewFactory(mgr.GetAPIReader())

	if o.has(Infrastructure) {
		if err := (&infrastructure.GcoreClusterReconciler{Client: mgr.GetClient(), Clouds: clouds}).SetupWithManager(ctx, mgr, copts); err != nil {
			return nil, fmt.Errorf("GcoreCluster controller: %w", err)
		}
		if err := (&infrastructure.GcoreMachineReconciler{Client: mgr.GetClient(), Clouds: clouds}).SetupWithManager(ctx, mgr, copts); err != nil {
			return nil, fmt.Errorf("GcoreMachine controller: %w", err)
		}
		if o.WebhookPort > 0 {
			if err := infrawebhooks.SetupWebhooks(mgr, controlplane.MemberAddressAnnotation); err != nil {
				return nil, err
			}
		}
	}
	workloads := workloadclient.FromKubeconfigSecret{Reader: mgr.GetAPIReader(), Scheme: s}
	if o.has(ControlPlane) {
		if err := (&controlplane.GcoreControlPlaneReconciler{Client: mgr.GetClient(), Clouds: clouds, Workload: workloads}).SetupWithManager(ctx, mgr, copts); err != nil {
			return nil, fmt.Errorf("GcoreControlPlane controller: %w", err)
		}
		if o.WebhookPort > 0 {
			if err := cpwebhooks.SetupWebhooks(mgr, controlplane.MemberAddressAnnotation); err != nil {
				return nil, err
			}
		}
	}
	if o.has(Bootstrap) {
		if err := (&bootstrap.GcoreConfigReconciler{Client: mgr.GetClient(), Workload: workloads}).SetupWithManager(ctx, mgr, copts); err != nil {
			return nil, fmt.Errorf("GcoreConfig controller: %w", err)
		}
		if o.WebhookPort > 0 {
			if err := bswebhooks.SetupWebhooks(mgr); err != nil {
				return nil, err
			}
		}
	}

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("health check: %w", err)
	}
	ready := healthz.Ping
	if o.WebhookPort > 0 {
		ready = func(req *http.Request) error { return mgr.GetWebhookServer().StartedChecker()(req) }
	}
	if err := mgr.AddReadyzCheck("ready", ready); err != nil {
		return nil, fmt.Errorf("ready check: %w", err)
	}
	return mgr, nil
}
