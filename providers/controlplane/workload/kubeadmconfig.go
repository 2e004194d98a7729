package workload

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

const (
	// KubeadmConfigConfigMap is the kube-system ConfigMap holding kubeadm's
	// ClusterConfiguration, which `kubeadm join` reads.
	KubeadmConfigConfigMap = "kubeadm-config"
	// ClusterConfigurationKey is KubeadmConfigConfigMap's key for the ClusterConfiguration.
	ClusterConfigurationKey = "ClusterConfiguration"
	// nodesKubeadmConfigRole lets bootstrap tokens and nodes get kubeadm-config (kubeadm's
	// uploadconfig.NodesKubeadmConfigClusterRoleName).
	nodesKubeadmConfigRole = "kubeadm:nodes-kubeadm-config"

	kubeadmAPIVersion = "kubeadm.k8s.io/v1beta4"
	certificatesDir   = "/etc/kubernetes/pki"
	imageRepository   = "registry.k8s.io"
)

// clusterConfiguration is the part of kubeadm's v1beta4 ClusterConfiguration this package
// fills in. The rest (etcd, apiServer, ...) describes a kubeadm-run control plane, which
// there is not: kubeadm defaults it when it reads the ConfigMap, and joining workers do not
// use it.
type clusterConfiguration struct {
	APIVersion           string     `json:"apiVersion"`
	Kind                 string     `json:"kind"`
	ClusterName          string     `json:"clusterName"`
	KubernetesVersion    string     `json:"kubernetesVersion"`
	ControlPlaneEndpoint string     `json:"controlPlaneEndpoint"`
	CertificatesDir      string     `json:"certificatesDir"`
	ImageRepository      string     `json:"imageRepository"`
	Networking           networking `json:"networking"`
}

type networking struct {
	DNSDomain     string `json:"dnsDomain"`
	PodSubnet     string `json:"podSubnet"`
	ServiceSubnet string `json:"serviceSubnet"`
}

// kubeadmConfigObjects is what kubeadm's upload-config/kubeadm phase leaves: the
// kubeadm-config ConfigMap and the Role/RoleBinding letting bootstrap tokens and nodes read it.
func kubeadmConfigObjects(r resolved) ([]client.Object, error) {
	data, err := yaml.Marshal(clusterConfiguration{
		APIVersion:           kubeadmAPIVersion,
		Kind:                 "ClusterConfiguration",
		ClusterName:          r.ClusterName,
		KubernetesVersion:    r.KubernetesVersion,
		ControlPlaneEndpoint: r.controlPlaneEndpoint(),
		CertificatesDir:      certificatesDir,
		ImageRepository:      imageRepository,
		Networking: networking{
			DNSDomain:     r.DNSDomain,
			PodSubnet:     r.PodCIDR,
			ServiceSubnet: r.ServiceCIDR,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("marshalling kubeadm's ClusterConfiguration: %w", err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: objectMeta(namespaceSystem, KubeadmConfigConfigMap, nil),
		Data:       map[string]string{ClusterConfigurationKey: string(data)},
	}
	role, binding := configMapReader(namespaceSystem, nodesKubeadmConfigRole, KubeadmConfigConfigMap,
		group(bootstrapTokenGroup), group(nodesGroup))
	return []client.Object{cm, role, binding}, nil
}
