package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/scenarios"
	"github.com/kaas-sandbox/sandbox/versions"
)

var testVersions = &versions.List{Kubernetes: []versions.Kubernetes{{Version: "v1.35.4"}, {Version: "v1.36.3"}, {Version: "v1.37.2"}}}

// parse loads a scenario from YAML as the command line does.
func parse(t *testing.T, src string) *scenarios.Scenario {
	t.Helper()
	l, err := scenarios.NewLoader(scenarios.Options{LookupEnv: func(string) (string, bool) { return "", false }, Versions: testVersions})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := l.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parsing the test scenario: %v", err)
	}
	return sc
}

// testEnv is an Env on a fake service cluster and an in-process fakecloud.
type testEnv struct {
	*Env
	harness  *cloudtest.Harness
	out      *syncBuffer
	dumps    []string
	template *fakeTemplate
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	sch, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	h := cloudtest.Start(t)
	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(clouds, []byte(h.CloudsYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	cloud, err := NewSandboxCloud(context.Background(), clouds, cloudtest.Admin)
	if err != nil {
		t.Fatal(err)
	}
	te := &testEnv{harness: h, out: &syncBuffer{}, template: &fakeTemplate{}}
	te.Env = &Env{
		Service:        fake.NewClientBuilder().WithScheme(sch).Build(),
		Cloud:          cloud,
		Templates:      te.template,
		Versions:       testVersions,
		Progress:       te.out,
		ProgressEvery:  50 * time.Millisecond,
		CleanupTimeout: 10 * time.Second,
		ArtifactsRoot:  t.TempDir(),
	}
	te.Dumper = dumperFunc(func(_ context.Context, dir, ns string) error {
		te.dumps = append(te.dumps, dir+" "+ns)
		return nil
	})
	return te
}

type dumperFunc func(ctx context.Context, dir, namespace string) error

func (f dumperFunc) Dump(ctx context.Context, dir, namespace string) error {
	return f(ctx, dir, namespace)
}

// fakeTemplate renders a Cluster and a GcoreControlPlane whose EndpointReady names an
// Octavia 503.
type fakeTemplate struct {
	vars map[string]string
}

func (f *fakeTemplate) Generate(_ context.Context, name, namespace string, vars map[string]string) ([]byte, error) {
	f.vars = vars
	return []byte(fmt.Sprintf(`apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: %[1]s, namespace: %[2]s}
spec: {}
---
apiVersion: controlplane.cluster.x-k8s.io/v1alpha1
kind: GcoreControlPlane
metadata:
  name: %[1]s-control-plane
  namespace: %[2]s
  labels: {cluster.x-k8s.io/cluster-name: %[1]s}
spec: {version: %[3]s}
status:
  conditions:
  - {type: EndpointReady, status: "False", reason: CloudError, message: "creating the load balancer: 503 The load-balancer service is unavailable", lastTransitionTime: "2026-01-01T00:00:00Z"}
  - {type: Ready, status: "False", reason: EndpointNotReady, message: waiting, lastTransitionTime: "2026-01-01T00:00:00Z"}
`, name, namespace, vars[scenarios.TemplateKubernetesVersion])), nil
}

// setConditions replaces a control plane's conditions, as its controller would.
func setConditions(t *testing.T, c client.Client, namespace, name string, conds ...metav1.Condition) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("controlplane.cluster.x-k8s.io/v1alpha1")
	u.SetKind("GcoreControlPlane")
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, u); err != nil {
		t.Errorf("getting the control plane: %v", err)
		return
	}
	var list []any
	for _, cd := range conds {
		list = append(list, map[string]any{"type": cd.Type, "status": string(cd.Status), "reason": cd.Reason, "message": cd.Message,
			"lastTransitionTime": "2026-01-01T00:00:00Z"})
	}
	if err := unstructured.SetNestedSlice(u.Object, list, "status", "conditions"); err != nil {
		t.Error(err)
		return
	}
	if err := c.Update(context.Background(), u); err != nil {
		t.Errorf("updating the control plane: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress lines and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}
