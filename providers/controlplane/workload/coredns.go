package workload

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// CoreDNSConfigMap holds CoreDNS's Corefile.
	CoreDNSConfigMap = "coredns"
	// CoreDNSService is the cluster DNS Service, at the cluster DNS IP.
	CoreDNSService = "kube-dns"

	coreDNSName     = "coredns"
	coreDNSRole     = "system:coredns"
	coreDNSReplicas = 2
	// controlPlaneTaint is kubeadm's control plane node taint, which CoreDNS tolerates.
	controlPlaneTaint = "node-role.kubernetes.io/control-plane"
)

// corefile is kubeadm's default Corefile (phases/addons/dns), forwarding to the node's
// /etc/resolv.conf.
func corefile(domain string) string {
	return strings.ReplaceAll(`.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes DOMAIN in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success DOMAIN
       disable denial DOMAIN
    }
    loop
    reload
    loadbalance
}
`, "DOMAIN", domain)
}

// coreDNSObjects is CoreDNS as kubeadm's addon phase deploys it: ServiceAccount, ClusterRole
// and binding, Corefile ConfigMap, Deployment and the kube-dns Service at the cluster DNS IP.
// The image tag is the one the version's kubeadm expects (versions.json).
func coreDNSObjects(r resolved) ([]client.Object, error) {
	if r.release.CoreDNS == "" {
		return nil, fmt.Errorf("versions.json names no CoreDNS version for Kubernetes %s", r.release.Version)
	}
	labels := map[string]string{"k8s-app": "kube-dns"}
	role := &rbacv1.ClusterRole{
		TypeMeta:   typeClusterRole,
		ObjectMeta: objectMeta("", coreDNSRole, nil),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	service := &corev1.Service{
		TypeMeta: typeService,
		ObjectMeta: objectMeta(namespaceSystem, CoreDNSService, map[string]string{
			"k8s-app":                       "kube-dns",
			"kubernetes.io/cluster-service": "true",
			"kubernetes.io/name":            "CoreDNS",
		}),
		Spec: corev1.ServiceSpec{
			ClusterIP: r.dnsIP.String(),
			Selector:  labels,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			},
		},
	}
	service.Annotations = map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}
	return []client.Object{
		&corev1.ServiceAccount{TypeMeta: typeServiceAccount, ObjectMeta: objectMeta(namespaceSystem, coreDNSName, nil)},
		role,
		clusterRoleBinding(coreDNSRole, coreDNSRole, serviceAccount(namespaceSystem, coreDNSName)),
		&corev1.ConfigMap{
			TypeMeta:   typeConfigMap,
			ObjectMeta: objectMeta(namespaceSystem, CoreDNSConfigMap, nil),
			Data:       map[string]string{"Corefile": corefile(r.DNSDomain)},
		},
		coreDNSDeployment(r, labels),
		service,
	}, nil
}

func coreDNSDeployment(r resolved, labels map[string]string) *appsv1.Deployment {
	maxUnavailable := intstr.FromInt32(1)
	return &appsv1.Deployment{
		TypeMeta:   typeDeployment,
		ObjectMeta: objectMeta(namespaceSystem, coreDNSName, labels),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](coreDNSReplicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: podMeta(labels),
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-cluster-critical",
					ServiceAccountName: coreDNSName,
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
									Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-dns"},
								}}},
								TopologyKey: corev1.LabelHostname,
							},
						}},
					}},
					Tolerations: []corev1.Toleration{
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: controlPlaneTaint, Effect: corev1.TaintEffectNoSchedule},
					},
					NodeSelector: map[string]string{corev1.LabelOSStable: "linux"},
					DNSPolicy:    corev1.DNSDefault,
					Containers:   []corev1.Container{coreDNSContainer(r)},
					Volumes: []corev1.Volume{configMapVolume("config-volume", CoreDNSConfigMap,
						corev1.KeyToPath{Key: "Corefile", Path: "Corefile"})},
				},
			},
		},
	}
}

func coreDNSContainer(r resolved) corev1.Container {
	return corev1.Container{
		Name:            coreDNSName,
		Image:           "registry.k8s.io/coredns/coredns:" + r.release.CoreDNS,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Args:            []string{"-conf", "/etc/coredns/Corefile"},
		Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("70Mi"),
			},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
		Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
			{Name: "liveness-probe", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
			{Name: "readiness-probe", ContainerPort: 8181, Protocol: corev1.ProtocolTCP},
		},
		LivenessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/health", Port: intstr.FromString("liveness-probe"), Scheme: corev1.URISchemeHTTP,
			}},
			InitialDelaySeconds: 60,
			TimeoutSeconds:      5,
			SuccessThreshold:    1,
			FailureThreshold:    5,
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/ready", Port: intstr.FromString("readiness-probe"), Scheme: corev1.URISchemeHTTP,
			}},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{
				Add:  []corev1.Capability{"NET_BIND_SERVICE"},
				Drop: []corev1.Capability{"ALL"},
			},
			ReadOnlyRootFilesystem: ptr.To(true),
		},
	}
}
