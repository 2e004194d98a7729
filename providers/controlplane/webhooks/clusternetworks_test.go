package webhooks

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

func TestClusterNetworks(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "svc-1", Annotations: map[string]string{"kaas.sandbox/lb-member-address": "172.24.4.9"}},
		Spec:       corev1.NodeSpec{PodCIDRs: []string{"100.96.0.0/24"}},
		Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.96.2"}}},
	}
	kube := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"}, Spec: corev1.ServiceSpec{ClusterIP: "100.64.0.1"}}
	w := ClusterNetworks{Reader: fake.NewClientBuilder().WithScheme(s).WithObjects(node, kube).Build(), AddressAnnotations: []string{"kaas.sandbox/lb-member-address"}}
	cluster := func(kind string, pods, services string) *clusterv1.Cluster {
		return &clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Name: "c"},
			Spec: clusterv1.ClusterSpec{
				ClusterNetwork:  clusterv1.ClusterNetwork{Pods: clusterv1.NetworkRanges{CIDRBlocks: []string{pods}}, Services: clusterv1.NetworkRanges{CIDRBlocks: []string{services}}},
				ControlPlaneRef: clusterv1.ContractVersionedObjectReference{APIGroup: controlplanev1.GroupVersion.Group, Kind: kind, Name: "c"},
			},
		}
	}
	ctx := context.Background()
	if _, err := w.ValidateCreate(ctx, cluster("GcoreControlPlane", "10.244.0.0/16", "10.96.0.0/12")); err != nil {
		t.Errorf("kubeadm's defaults are refused: %v", err)
	}
	for _, bad := range []struct{ pods, services, want string }{
		{"100.96.0.0/16", "10.96.0.0/12", "spec.clusterNetwork.pods.cidrBlocks[0]: Invalid value: \"100.96.0.0/16\": the customer's pod network 100.96.0.0/16 overlaps the pod network of service-cluster node svc-1 100.96.0.0/24"},
		{"10.244.0.0/16", "100.64.0.0/12", "the customer's service network 100.64.0.0/12 overlaps the service cluster's Service network 100.64.0.1/32"},
		{"100.127.0.0/16", "10.96.0.0/12", "overlaps the tunnel's transfer network 100.127.255.0/24"},
		{"192.168.0.0/16", "10.96.0.0/12", "overlaps the address of service-cluster node svc-1 192.168.96.2/32"},
		{"172.24.0.0/16", "10.96.0.0/12", "overlaps the address of service-cluster node svc-1 172.24.4.9/32"},
	} {
		_, err := w.ValidateUpdate(ctx, nil, cluster("GcoreControlPlane", bad.pods, bad.services))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("pods %s services %s: got %v, want an error containing %q", bad.pods, bad.services, err, bad.want)
		}
	}
	if _, err := w.ValidateCreate(ctx, cluster("KubeadmControlPlane", "100.96.0.0/16", "100.64.0.0/16")); err != nil {
		t.Errorf("a Cluster of another control plane is checked: %v", err)
	}

	// The node network: the GcoreCluster's, checked when it exists before its Cluster.
	_ = infrav1.AddToScheme(s)
	gc := &infrav1.GcoreCluster{ObjectMeta: metav1.ObjectMeta{Name: "c-infra"}, Spec: infrav1.GcoreClusterSpec{Network: infrav1.NetworkSpec{CIDR: "192.168.96.0/24"}}}
	w.Reader = fake.NewClientBuilder().WithScheme(s).WithObjects(node, kube, gc).Build()
	withInfra := func(name string) *clusterv1.Cluster {
		c := cluster("GcoreControlPlane", "10.244.0.0/16", "10.96.0.0/12")
		c.Spec.InfrastructureRef = clusterv1.ContractVersionedObjectReference{APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreCluster", Name: name}
		return c
	}
	_, err := w.ValidateCreate(ctx, withInfra("c-infra"))
	if want := `spec.infrastructureRef: Invalid value: "c-infra": GcoreCluster c-infra: the customer's node network 192.168.96.0/24 overlaps the address of service-cluster node svc-1 192.168.96.2/32`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a GcoreCluster whose node network holds a service-cluster node: got %v, want %q", err, want)
	}
	if _, err := w.ValidateCreate(ctx, withInfra("not-made-yet")); err != nil {
		t.Errorf("a Cluster whose GcoreCluster does not exist yet: %v (its own webhook checks it)", err)
	}
}
