package manifests

import (
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
)

// APIServerPortName names the apiserver Service's port; its nodePort is what the load
// balancer's members listen on.
const APIServerPortName = "https"

// apiServerService publishes the apiserver on every service-cluster node, for the load
// balancer, and inside the service cluster as <cluster>-apiserver.<ns>.svc:6443, for
// controller-manager and scheduler. The node port is left for Kubernetes to pick.
func apiServerService(v valid) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: v.objectMeta(names.APIServer(v.ClusterName), APIServer),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: SelectorLabels(v.ClusterName, APIServer),
			Ports: []corev1.ServicePort{{
				Name: APIServerPortName, Port: names.APIServerPort, TargetPort: intstr.FromString(APIServerPortName), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// apiServerCommand is kube-apiserver's command line, kubeadm's less what a hosted control
// plane has no use for.
func apiServerCommand(v valid) []string {
	c, ns := v.ClusterName, v.Namespace
	p := func(file string) string { return path.Join(pkiDir, file) }
	return []string{
		"kube-apiserver",
		flag("advertise-address", v.AdvertiseAddress),
		flag("bind-address", "0.0.0.0"),
		flag("secure-port", names.APIServerPort),
		flag("allow-privileged", true),
		flag("authorization-mode", "Node,RBAC"),
		flag("enable-admission-plugins", "NodeRestriction"),
		flag("enable-bootstrap-token-auth", true),
		flag("client-ca-file", p("ca.crt")),
		flag("tls-cert-file", p("apiserver.crt")),
		flag("tls-private-key-file", p("apiserver.key")),
		flag("etcd-servers", names.EtcdClientURL(c, ns)),
		flag("etcd-cafile", p("etcd/ca.crt")),
		flag("etcd-certfile", p("apiserver-etcd-client.crt")),
		flag("etcd-keyfile", p("apiserver-etcd-client.key")),
		flag("kubelet-client-certificate", p("apiserver-kubelet-client.crt")),
		flag("kubelet-client-key", p("apiserver-kubelet-client.key")),
		// The kubelets' InternalIPs are in the customer's node network, which the tunnel routes;
		// a node name would have to be resolved, and nothing in the service cluster can.
		flag("kubelet-preferred-address-types", "InternalIP"),
		flag("proxy-client-cert-file", p("front-proxy-client.crt")),
		flag("proxy-client-key-file", p("front-proxy-client.key")),
		flag("requestheader-client-ca-file", p("front-proxy-ca.crt")),
		flag("requestheader-allowed-names", "front-proxy-client"),
		flag("requestheader-username-headers", "X-Remote-User"),
		flag("requestheader-group-headers", "X-Remote-Group"),
		flag("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
		flag("service-account-issuer", "https://kubernetes.default.svc."+v.DNSDomain),
		flag("service-account-key-file", p("sa.pub")),
		flag("service-account-signing-key-file", p("sa.key")),
		flag("service-cluster-ip-range", strings.Join(v.ServiceCIDRs, ",")),
		// Replicas share the VIP: leases keep the "kubernetes" endpoints at that one address.
		flag("endpoint-reconciler-type", "lease"),
	}
}

func apiServerDeployment(v valid) (*appsv1.Deployment, error) {
	n := v.PKI.Secrets
	meta, err := v.podMeta(APIServer, n.CA, n.EtcdCA, n.ServiceAccount, n.FrontProxyCA,
		n.APIServer, n.APIServerKubeletClient, n.APIServerEtcdClient, n.FrontProxyClient)
	if err != nil {
		return nil, err
	}
	ctr := container("kube-apiserver", "registry.k8s.io/kube-apiserver:"+v.Version, apiServerCommand(v), v.Resources.APIServer)
	ctr.Ports = []corev1.ContainerPort{{Name: APIServerPortName, ContainerPort: names.APIServerPort, Protocol: corev1.ProtocolTCP}}
	ctr.VolumeMounts = []corev1.VolumeMount{{Name: "pki", MountPath: pkiDir, ReadOnly: true}}
	probes(&ctr, corev1.URISchemeHTTPS, names.APIServerPort, "/livez", "/readyz")

	crt, key := secret.TLSCrtDataName, secret.TLSKeyDataName
	pod := podSpec([]corev1.Volume{projected("pki",
		secretFile{n.CA, crt, "ca.crt"},
		secretFile{n.EtcdCA, crt, "etcd/ca.crt"},
		secretFile{n.ServiceAccount, crt, "sa.pub"},
		secretFile{n.ServiceAccount, key, "sa.key"},
		secretFile{n.FrontProxyCA, crt, "front-proxy-ca.crt"},
		secretFile{n.APIServer, crt, "apiserver.crt"},
		secretFile{n.APIServer, key, "apiserver.key"},
		secretFile{n.APIServerKubeletClient, crt, "apiserver-kubelet-client.crt"},
		secretFile{n.APIServerKubeletClient, key, "apiserver-kubelet-client.key"},
		secretFile{n.APIServerEtcdClient, crt, "apiserver-etcd-client.crt"},
		secretFile{n.APIServerEtcdClient, key, "apiserver-etcd-client.key"},
		secretFile{n.FrontProxyClient, crt, "front-proxy-client.crt"},
		secretFile{n.FrontProxyClient, key, "front-proxy-client.key"},
	)}, ctr)
	if v.VPN != nil {
		client, vols := v.VPN.Container()
		pod.Containers = append(pod.Containers, client)
		pod.Volumes = append(pod.Volumes, vols...)
		meta.Annotations[vpn.ConfigHashAnnotation] = vpn.Hash(v.VPN.Config)
	}
	// pod-template-hash: spread each rollout's pods, not old and new ones together.
	v.spread(APIServer, &pod, []string{appsv1.DefaultDeploymentUniqueLabelKey})

	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: v.objectMeta(names.APIServer(v.ClusterName), APIServer),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(v.Replicas),
			Selector: v.selector(APIServer),
			// A new pod is ready before an old one goes, even with a single replica.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)),
				MaxSurge:       ptr.To(intstr.FromInt32(1)),
			}},
			Template: corev1.PodTemplateSpec{ObjectMeta: meta, Spec: pod},
		},
	}, nil
}

// APIServerService returns the apiserver's NodePort Service alone, as Build makes it: the
// controller applies it before anything else, because the load balancer's members need its
// node port and every certificate needs the load balancer's VIP.
func APIServerService(cluster, namespace string, owner *metav1.OwnerReference) *corev1.Service {
	return apiServerService(valid{Params: Params{ClusterName: cluster, Namespace: namespace, Owner: owner}})
}
