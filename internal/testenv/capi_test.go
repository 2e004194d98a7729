package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
)

// TestClusterAPICoreCRDs installs CAPI core's CRDs, as its release ships them, into a real
// kube-apiserver, then creates and reads a Cluster and checks that CAPI's OpenAPI schema
// turns an invalid one away.
func TestClusterAPICoreCRDs(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := clusterv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{CRDDirs: testenv.ClusterAPICRDDirs(t), Scheme: scheme})

	var names []string
	for _, crd := range env.CRDs {
		names = append(names, crd.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "clusters.cluster.x-k8s.io") {
		t.Fatalf("clusters.cluster.x-k8s.io was not installed; got %v", names)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	valid := &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default"},
		Spec: clusterv1.ClusterSpec{
			ClusterNetwork: clusterv1.ClusterNetwork{
				APIServerPort: 6443,
				Pods:          clusterv1.NetworkRanges{CIDRBlocks: []string{"10.244.0.0/16"}},
			},
			ControlPlaneRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: clusterv1.GroupVersionControlPlane.Group, Kind: "GcoreControlPlane", Name: "demo",
			},
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: clusterv1.GroupVersionInfrastructure.Group, Kind: "GcoreCluster", Name: "demo",
			},
		},
	}
	if err := env.Client.Create(ctx, valid); err != nil {
		t.Fatalf("creating a valid Cluster: %v", err)
	}
	got := &clusterv1.Cluster{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(valid), got); err != nil {
		t.Fatalf("reading the Cluster back: %v", err)
	}
	if got.Spec.ControlPlaneRef.Kind != "GcoreControlPlane" || got.Spec.ClusterNetwork.APIServerPort != 6443 ||
		len(got.Spec.ClusterNetwork.Pods.CIDRBlocks) != 1 || got.UID == "" {
		t.Fatalf("the Cluster read back differs from the one created: %+v", got.Spec)
	}

	// Each of these breaks one rule of CAPI's schema; the apiserver must refuse all of them.
	invalid := []struct {
		name   string
		field  string
		mutate func(*clusterv1.Cluster)
	}{
		{"port out of range", "spec.clusterNetwork.apiServerPort", func(c *clusterv1.Cluster) { c.Spec.ClusterNetwork.APIServerPort = 70000 }},
		{"kind starting with a digit", "spec.controlPlaneRef.kind", func(c *clusterv1.Cluster) { c.Spec.ControlPlaneRef.Kind = "1Plane" }},
		{"apiGroup not a DNS name", "spec.infrastructureRef.apiGroup", func(c *clusterv1.Cluster) { c.Spec.InfrastructureRef.APIGroup = "Not_A_Group" }},
		{"reference without a name", "spec.controlPlaneRef.name", func(c *clusterv1.Cluster) { c.Spec.ControlPlaneRef.Name = "" }},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			c := valid.DeepCopy()
			c.ObjectMeta = metav1.ObjectMeta{Name: "invalid", Namespace: "default"}
			tc.mutate(c)
			err := env.Client.Create(ctx, c)
			if err == nil {
				t.Fatalf("the apiserver accepted a Cluster with %s", tc.name)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("want an Invalid error naming %s, got: %v", tc.field, err)
			}
		})
	}
}

// TestAssetsDirNamesMakeTest checks that a missing KUBEBUILDER_ASSETS is reported with the
// command that fixes it, rather than skipped.
func TestAssetsDirNamesMakeTest(t *testing.T) {
	t.Setenv(testenv.AssetsEnv, "")
	_, err := testenv.AssetsDir()
	if err == nil || !strings.Contains(err.Error(), "make test") {
		t.Fatalf("want an error that says to run make test, got %v", err)
	}
	t.Setenv(testenv.AssetsEnv, t.TempDir())
	if _, err := testenv.AssetsDir(); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("want an error naming the missing kube-apiserver, got %v", err)
	}
}
