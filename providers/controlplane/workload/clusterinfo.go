package workload

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// ClusterInfoConfigMap is the kube-public ConfigMap `kubeadm join` discovers the cluster
	// from; the bootstrapsigner controller adds a jws-kubeconfig-<token id> key to it per
	// bootstrap token.
	ClusterInfoConfigMap = "cluster-info"
	// ClusterInfoKubeconfigKey holds cluster-info's kubeconfig: server and CA, no user.
	ClusterInfoKubeconfigKey = "kubeconfig"
	// clusterInfoRole lets anonymous users get cluster-info (kubeadm's
	// clusterinfo.BootstrapSignerClusterRoleName).
	clusterInfoRole = "kubeadm:bootstrap-signer-clusterinfo"
)

// clusterInfoObjects is what kubeadm's bootstrap-token phase leaves in kube-public: the
// cluster-info ConfigMap and the Role/RoleBinding that let anyone read it.
func clusterInfoObjects(r resolved) ([]client.Object, error) {
	kubeconfig, err := clusterInfoKubeconfig(r)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: objectMeta(namespacePublic, ClusterInfoConfigMap, nil),
		Data:       map[string]string{ClusterInfoKubeconfigKey: string(kubeconfig)},
	}
	role, binding := configMapReader(namespacePublic, clusterInfoRole, ClusterInfoConfigMap, user(anonymousUser))
	return []client.Object{cm, role, binding}, nil
}

// clusterInfoKubeconfig is a kubeconfig with one cluster, named "" as kubeadm names it,
// holding the VIP server URL and the CA; no context, no user.
func clusterInfoKubeconfig(r resolved) ([]byte, error) {
	cfg := clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{
			"": {Server: r.Server(), CertificateAuthorityData: r.CACertPEM},
		},
	}
	out, err := clientcmd.Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("writing the cluster-info kubeconfig: %w", err)
	}
	return out, nil
}
