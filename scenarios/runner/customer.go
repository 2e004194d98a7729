package runner

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretCustomers opens a customer cluster from the <cluster>-kubeconfig Secret Cluster API
// keeps in the service cluster.
type SecretCustomers struct {
	// Service reads the Secret.
	Service client.Client
	// Scheme is the customer client's scheme.
	Scheme *runtime.Scheme
	// Timeout bounds each request to the customer cluster; default 15s.
	Timeout time.Duration
}

// Open implements Customers.
func (s *SecretCustomers) Open(ctx context.Context, namespace, name string) (Customer, error) {
	var sec corev1.Secret
	key := types.NamespacedName{Namespace: namespace, Name: name + "-kubeconfig"}
	if err := s.Service.Get(ctx, key, &sec); err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(sec.Data["value"])
	if err != nil {
		return nil, fmt.Errorf("the kubeconfig of Secret %s: %w", key, err)
	}
	cfg.Timeout = s.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	cl, err := client.New(cfg, client.Options{Scheme: s.Scheme})
	if err != nil {
		return nil, fmt.Errorf("a client of cluster %s/%s: %w", namespace, name, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("a clientset of cluster %s/%s: %w", namespace, name, err)
	}
	return &customer{cl: cl, cs: cs}, nil
}

type customer struct {
	cl client.Client
	cs kubernetes.Interface
}

func (c *customer) Client() client.Client           { return c.cl }
func (c *customer) Clientset() kubernetes.Interface { return c.cs }

func (c *customer) Get(ctx context.Context, path string) ([]byte, error) {
	return c.cs.Discovery().RESTClient().Get().AbsPath(path).DoRaw(ctx)
}
