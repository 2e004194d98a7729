// Package workloadclient hands out clients for customer (workload) clusters, built from the
// kubeconfig Secret Cluster API keeps for each one (<cluster>-kubeconfig, key "value").
package workloadclient

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The client-side rate limit of workload clients: one reconcile applies a few dozen objects.
const (
	clientQPS   = 50
	clientBurst = 100
)

// Getter returns a client for the workload cluster of a Cluster.
type Getter interface {
	// Client returns a client for the workload cluster of the Cluster named by cluster.
	Client(ctx context.Context, cluster types.NamespacedName) (client.Client, error)
}

// FromKubeconfigSecret builds clients from <cluster>-kubeconfig Secrets read through reader.
// It caches nothing: a client is cheap next to a reconcile, and a rotated kubeconfig is picked
// up at once.
type FromKubeconfigSecret struct {
	// Reader reads Secrets in the management cluster.
	Reader client.Reader
	// Scheme is the workload clients' scheme.
	Scheme *runtime.Scheme
	// Timeout bounds each request to the workload cluster; default 10s.
	Timeout time.Duration
}

// Client implements Getter.
func (g FromKubeconfigSecret) Client(ctx context.Context, cluster types.NamespacedName) (client.Client, error) {
	data, err := kubeconfig.FromSecret(ctx, g.Reader, cluster)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig secret of cluster %s: %w", cluster, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("parsing the kubeconfig of cluster %s: %w", cluster, err)
	}
	cfg.Timeout = g.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	// client-go's default of 5 requests/s (burst 10) made the first apply of a new cluster's
	// ~40 objects and their discovery wait seconds on the rate limiter alone.
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	c, err := client.New(cfg, client.Options{Scheme: g.Scheme})
	if err != nil {
		return nil, fmt.Errorf("making a client for cluster %s: %w", cluster, err)
	}
	return c, nil
}

// Static always returns the same client: for tests, where the test's own API server stands
// for every workload cluster.
type Static struct{ C client.Client }

// Client implements Getter.
func (s Static) Client(context.Context, types.NamespacedName) (client.Client, error) {
	return s.C, nil
}
