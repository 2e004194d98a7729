package webhooks

import (
	"context"
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

// TestTunnelNetworks: the node network of a GcoreCluster whose Cluster has a hosted control
// plane must not overlap the service side's networks; other GcoreClusters are not held to it.
func TestTunnelNetworks(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = clusterv1.AddToScheme(s)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "svc-1", Annotations: map[string]string{"kaas.sandbox/lb-member-address": "172.24.4.9"}},
		Spec:       corev1.NodeSpec{PodCIDRs: []string{"100.96.0.0/24"}},
		Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.96.2"}}},
	}
	kube := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"}, Spec: corev1.ServiceSpec{ClusterIP: "100.64.0.1"}}
	owner := func(name, cpKind string) *clusterv1.Cluster {
		return &clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec: clusterv1.ClusterSpec{
				InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreCluster", Name: name + "-infra"},
				ControlPlaneRef:   clusterv1.ContractVersionedObjectReference{APIGroup: controlplanev1.GroupVersion.Group, Kind: cpKind, Name: name + "-cp"},
			},
		}
	}
	w := Cluster{
		Reader:             fake.NewClientBuilder().WithScheme(s).WithObjects(node, kube, owner("hosted", "GcoreControlPlane"), owner("kubeadm", "KubeadmControlPlane")).Build(),
		AddressAnnotations: []string{"kaas.sandbox/lb-member-address"},
	}
	gcore := func(name, cidr string) *infrav1.GcoreCluster {
		return cluster(func(c *infrav1.GcoreCluster) { c.Namespace, c.Name, c.Spec.Network.CIDR = "ns", name, cidr })
	}
	ctx := context.Background()
	for _, c := range []struct{ name, cidr, want string }{
		{"hosted-infra", "10.6.0.0/24", ""},
		{"hosted-infra", "192.168.96.0/24", "the customer's node network 192.168.96.0/24 overlaps the address of service-cluster node svc-1 192.168.96.2/32"},
		{"hosted-infra", "172.24.4.0/24", "overlaps the address of service-cluster node svc-1 172.24.4.9/32"},
		{"hosted-infra", "100.127.255.0/28", "overlaps the tunnel's transfer network 100.127.255.0/24"},
		{"hosted-infra", "100.96.0.0/24", "overlaps the pod network of service-cluster node svc-1 100.96.0.0/24"},
		// No tunnel: a kubeadm control plane's cluster, or a GcoreCluster no Cluster names yet.
		{"kubeadm-infra", "192.168.96.0/24", ""},
		{"orphan", "192.168.96.0/24", ""},
	} {
		_, err := w.ValidateCreate(ctx, gcore(c.name, c.cidr))
		wantErr(t, err, c.want)
		if c.want != "" {
			wantErr(t, err, "spec.network.cidr")
		}
	}
	// Without a reader (no service cluster to ask) only the spec is checked.
	if _, err := (Cluster{}).ValidateCreate(ctx, gcore("hosted-infra", "192.168.96.0/24")); err != nil {
		t.Errorf("with no reader: %v", err)
	}
}
