package manager_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/providers/manager"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/versions"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestManagerServesWebhooks runs the whole manager against a real API server with the
// generated webhook configurations installed: bad objects are turned away by the API server
// itself with 422 and the webhook's message, and /readyz answers once the webhook server runs.
func TestManagerServesWebhooks(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{
		CRDDirs:    append(testenv.ClusterAPICRDDirs(t), testenv.ProjectCRDDir(t)),
		Scheme:     s,
		WebhookDir: testenv.ProjectWebhookDir(t),
	})
	health := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mgr, err := manager.New(ctx, env.Config, manager.Options{
		MetricsAddr: "0", HealthAddr: health, Concurrency: 1, SkipNameValidation: true,
		WebhookHost: env.Webhook.Host, WebhookPort: env.Webhook.Port, WebhookCertDir: env.Webhook.CertDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200 within 30s (last error %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	c := env.Client
	bad := &infrav1.GcoreCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"},
		Spec: infrav1.GcoreClusterSpec{
			IdentityRef: infrav1.IdentityReference{Name: "cloud", CloudName: "demo"},
			Network:     infrav1.NetworkSpec{CIDR: "10.9.0.7/24"},
		},
	}
	err = c.Create(ctx, bad)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "did you mean 10.9.0.0/24") {
		t.Fatalf("creating a GcoreCluster with host bits set: %v; want 422 from the webhook", err)
	}

	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	cp := &controlplanev1.GcoreControlPlane{
		ObjectMeta: metav1.ObjectMeta{Name: "cp", Namespace: "default"},
		Spec: controlplanev1.GcoreControlPlaneSpec{
			Version:     l.Kubernetes[0].Version,
			IdentityRef: controlplanev1.IdentityReference{Name: "cloud", CloudName: "demo"},
		},
	}
	if err := c.Create(ctx, cp); err != nil {
		t.Fatalf("creating a valid GcoreControlPlane: %v", err)
	}
	if ptr.Deref(cp.Spec.Replicas, 0) != 2 || cp.Spec.Etcd.Replicas != 3 {
		t.Errorf("defaults: replicas %v, etcd %d; want 2 and 3", cp.Spec.Replicas, cp.Spec.Etcd.Replicas)
	}
	cp.Spec.Version = l.Kubernetes[2].Version
	err = c.Update(ctx, cp)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "one minor at a time") {
		t.Fatalf("skipping a minor: %v; want 422 saying to upgrade one minor at a time", err)
	}
	unpinned := cp.DeepCopy()
	unpinned.ObjectMeta = metav1.ObjectMeta{Name: "old", Namespace: "default"}
	unpinned.Spec.Version = "v1.20.0"
	err = c.Create(ctx, unpinned)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), l.Newest().Version) {
		t.Fatalf("an unpinned version: %v; want 422 listing the pinned versions", err)
	}
}
