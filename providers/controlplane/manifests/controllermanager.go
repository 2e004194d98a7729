package manifests

import (
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// kubernetesDir holds the kubeconfigs (and pki/ below it), as under kubeadm.
const kubernetesDir = "/etc/kubernetes"

// controllerManagerCommand is kube-controller-manager's command line. It reaches the
// apiserver through its Service (the kubeconfig's server) and signs kubelet certificates
// with the cluster CA.
func controllerManagerCommand(v valid) []string {
	conf := path.Join(kubernetesDir, "controller-manager.conf")
	p := func(file string) string { return path.Join(pkiDir, file) }
	return append([]string{
		"kube-controller-manager",
		flag("kubeconfig", conf),
		flag("authentication-kubeconfig", conf),
		flag("authorization-kubeconfig", conf),
		flag("bind-address", "0.0.0.0"),
		flag("secure-port", names.ControllerManagerPort),
		flag("cluster-name", v.ClusterName),
		flag("controllers", "*,bootstrapsigner,tokencleaner"),
		flag("allocate-node-cidrs", true),
		flag("cluster-cidr", strings.Join(v.PodCIDRs, ",")),
		flag("node-cidr-mask-size", 24),
		flag("service-cluster-ip-range", strings.Join(v.ServiceCIDRs, ",")),
		flag("client-ca-file", p("ca.crt")),
		flag("requestheader-client-ca-file", p("front-proxy-ca.crt")),
		flag("root-ca-file", p("ca.crt")),
		flag("cluster-signing-cert-file", p("ca.crt")),
		flag("cluster-signing-key-file", p("ca.key")),
		flag("service-account-private-key-file", p("sa.key")),
		flag("use-service-account-credentials", true),
	}, leaderElectionFlags()...)
}

// leaderElectionFlags are the controller-manager's and scheduler's: leader-elected, with twice
// the default lease (30 s) and renew deadline (25 s instead of 10 s). All hosted control planes
// share the service cluster's cores, and with the defaults a busy minute (a new cluster's
// pods starting) made them miss a renewal, lose the lease and restart, again and again.
func leaderElectionFlags() []string {
	return []string{
		flag("leader-elect", true),
		flag("leader-elect-lease-duration", "30s"),
		flag("leader-elect-renew-deadline", "25s"),
		flag("leader-elect-retry-period", "4s"),
	}
}

func controllerManagerDeployment(v valid) (*appsv1.Deployment, error) {
	n := v.PKI.Secrets
	meta, err := v.podMeta(ControllerManager, n.CA, n.ServiceAccount, n.FrontProxyCA, n.ControllerManagerKubeconfig)
	if err != nil {
		return nil, err
	}
	ctr := container("kube-controller-manager", "registry.k8s.io/kube-controller-manager:"+v.Version, controllerManagerCommand(v), v.Resources.ControllerManager)
	ctr.Ports = []corev1.ContainerPort{{Name: "https", ContainerPort: names.ControllerManagerPort, Protocol: corev1.ProtocolTCP}}
	ctr.VolumeMounts = []corev1.VolumeMount{{Name: "kubernetes", MountPath: kubernetesDir, ReadOnly: true}}
	probes(&ctr, corev1.URISchemeHTTPS, names.ControllerManagerPort, "/healthz", "/healthz")

	crt, key := secret.TLSCrtDataName, secret.TLSKeyDataName
	pod := podSpec([]corev1.Volume{projected("kubernetes",
		secretFile{n.ControllerManagerKubeconfig, secret.KubeconfigDataName, "controller-manager.conf"},
		secretFile{n.CA, crt, "pki/ca.crt"},
		secretFile{n.CA, key, "pki/ca.key"},
		secretFile{n.ServiceAccount, key, "pki/sa.key"},
		secretFile{n.FrontProxyCA, crt, "pki/front-proxy-ca.crt"},
	)}, ctr)
	return singleton(v, names.ControllerManager(v.ClusterName), ControllerManager, meta, pod), nil
}

// singleton is the Deployment of a leader-elected component: one replica, rolled by
// surging a new pod that waits for the old one's lease.
func singleton(v valid, name string, c Component, meta metav1.ObjectMeta, pod corev1.PodSpec) *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: v.objectMeta(name, c),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: v.selector(c),
			Template: corev1.PodTemplateSpec{ObjectMeta: meta, Spec: pod},
		},
	}
}
