package vpn

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Prober checks the tunnel of one apiserver pod.
type Prober interface {
	// Probe asks the apiserver at podIP for the kubelet of node; an error says what failed.
	Probe(ctx context.Context, admin *rest.Config, podIP string, port int, node string) error
}

// KubeletProber is the real Prober: it asks the apiserver pod itself, at its own address in the
// service cluster (so each replica's tunnel is checked, not whichever one the load balancer
// picks), for the kubelet's /healthz through the node proxy. The apiserver dials the kubelet at
// its InternalIP, which only the tunnel routes.
type KubeletProber struct {
	// Timeout bounds one probe; default 5 s.
	Timeout time.Duration
}

// Probe implements Prober.
func (p KubeletProber) Probe(ctx context.Context, admin *rest.Config, podIP string, port int, node string) error {
	cfg := rest.CopyConfig(admin)
	if cfg.TLSClientConfig.ServerName == "" {
		// The serving certificate names the endpoint's VIP, not the pod's address.
		if u, err := url.Parse(admin.Host); err == nil {
			cfg.TLSClientConfig.ServerName = u.Hostname()
		}
	}
	cfg.Host = "https://" + net.JoinHostPort(podIP, strconv.Itoa(port))
	cfg.Timeout = p.Timeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("a client for apiserver pod %s: %w", podIP, err)
	}
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "healthz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("the apiserver at %s does not reach the kubelet of node %s: %w", podIP, node, err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("the kubelet of node %s answered the apiserver at %s with %q", node, podIP, string(body))
	}
	return nil
}
