package vpn

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// ClientSecretName is the Secret, in the Cluster's namespace, holding the apiserver pods'
// client.conf.
func ClientSecretName(cluster string) string { return cluster + "-vpn-client" }

// ClientContainerName is the client container's name in the apiserver pods.
const ClientContainerName = "vpn-client"

// Client is what an apiserver pod needs to run the tunnel's client.
type Client struct {
	// Cluster is the Cluster's name.
	Cluster string
	// Config is the rendered client.conf (ClientConfig).
	Config string
	// Networks are routed through the tunnel.
	Networks Networks
}

// Secret is the client's Secret in namespace, owned by owner.
func (c Client) Secret(namespace string, owner *metav1.OwnerReference) *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ClientSecretName(c.Cluster), Namespace: namespace,
			Labels:      map[string]string{clusterv1.ClusterNameLabel: c.Cluster, managedByLabel: managedBy},
			Annotations: map[string]string{ConfigHashAnnotation: Hash(c.Config)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"client.conf": []byte(c.Config)},
	}
	if owner != nil {
		s.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return s
}

// Container is the client container and the volumes it mounts. It shares the pod's network
// namespace with kube-apiserver, so its routes are the apiserver's. It has no readiness probe:
// the apiserver serves whether or not the tunnel is up, and the controller's probe reports the
// tunnel (VPNReady).
func (c Client) Container() (corev1.Container, []corev1.Volume) {
	ctr := corev1.Container{
		Name: ClientContainerName, Image: Image, ImagePullPolicy: corev1.PullIfNotPresent,
		Args: []string{"client"},
		Env:  []corev1.EnvVar{{Name: "VPN_ROUTES", Value: strings.Join(c.Networks.All(), ",")}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5m"), corev1.ResourceMemory: resource.MustParse("8Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "vpn-client", MountPath: configDir, ReadOnly: true}, {Name: "tun", MountPath: tunDevice}},
	}
	vols := []corev1.Volume{
		{Name: "vpn-client", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: ClientSecretName(c.Cluster), DefaultMode: ptr.To[int32](0o400)}}},
		tunVolume(),
	}
	return ctr, vols
}
