package workload

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// FlannelNamespace is flannel's namespace.
	FlannelNamespace = "kube-flannel"
	// FlannelConfigMap holds flannel's cni-conf.json and net-conf.json.
	FlannelConfigMap = "kube-flannel-cfg"
	// FlannelImage is flanneld with this project's flannel CNI plugin, preloaded on every
	// node image (hack/images/addons.sh, FLANNEL_VERSION).
	FlannelImage = "kaas.local/flannel:v0.28.10"

	flannelName      = "flannel"
	flannelDaemonSet = "kube-flannel-ds"
	flannelCfgDir    = "/etc/kube-flannel/"

	// flannelCNIConf is the CNI network config the init container installs on each node.
	flannelCNIConf = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`
)

// flannelNetConf is flanneld's net-conf.json.
type flannelNetConf struct {
	Network        string `json:"Network"`
	EnableNFTables bool   `json:"EnableNFTables"`
	Backend        struct {
		Type string `json:"Type"`
	} `json:"Backend"`
}

// flannelObjects is flannel with the VXLAN backend and the kube subnet manager (each node's
// spec.podCIDR, so kube-controller-manager must allocate node CIDRs from the pod CIDR), as
// hack/manifests/flannel.yaml deploys it on the project's kind clusters, with the pod CIDR
// as its Network.
func flannelObjects(r resolved) ([]client.Object, error) {
	nc := flannelNetConf{Network: r.PodCIDR}
	nc.Backend.Type = "vxlan"
	netConf, err := json.MarshalIndent(nc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshalling flannel's net-conf.json: %w", err)
	}
	ns := &corev1.Namespace{
		TypeMeta: typeNamespace,
		ObjectMeta: objectMeta("", FlannelNamespace, map[string]string{
			"pod-security.kubernetes.io/enforce": "privileged",
		}),
	}
	role := &rbacv1.ClusterRole{
		TypeMeta:   typeClusterRole,
		ObjectMeta: objectMeta("", flannelName, nil),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch"}},
		},
	}
	return []client.Object{
		ns,
		&corev1.ServiceAccount{TypeMeta: typeServiceAccount, ObjectMeta: objectMeta(FlannelNamespace, flannelName, nil)},
		role,
		clusterRoleBinding(flannelName, flannelName, serviceAccount(FlannelNamespace, flannelName)),
		&corev1.ConfigMap{
			TypeMeta:   typeConfigMap,
			ObjectMeta: objectMeta(FlannelNamespace, FlannelConfigMap, nil),
			Data: map[string]string{
				"cni-conf.json": flannelCNIConf,
				"net-conf.json": string(netConf) + "\n",
			},
		},
		flannelDaemonSetObject(),
	}, nil
}

func flannelDaemonSetObject() *appsv1.DaemonSet {
	labels := map[string]string{"app": flannelName}
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: path},
		}}
	}
	return &appsv1.DaemonSet{
		TypeMeta:   typeDaemonSet,
		ObjectMeta: objectMeta(FlannelNamespace, flannelDaemonSet, labels),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: podMeta(labels),
				Spec: corev1.PodSpec{
					HostNetwork:        true,
					PriorityClassName:  "system-node-critical",
					ServiceAccountName: flannelName,
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					InitContainers: []corev1.Container{{
						Name:            "install-cni",
						Image:           FlannelImage,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command:         []string{"/opt/kaas/install-cni"},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "cni-bin", MountPath: "/host/opt/cni/bin"},
							{Name: "cni-conf", MountPath: "/host/etc/cni/net.d"},
							{Name: "flannel-cfg", MountPath: flannelCfgDir},
						},
					}},
					Containers: []corev1.Container{{
						Name:            "kube-flannel",
						Image:           FlannelImage,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command:         []string{"/opt/bin/flanneld"},
						Args:            []string{"--ip-masq", "--kube-subnet-mgr"},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("50m"),
							corev1.ResourceMemory: resource.MustParse("32Mi"),
						}},
						SecurityContext: &corev1.SecurityContext{
							Privileged:   ptr.To(false),
							Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}},
						},
						Env: []corev1.EnvVar{
							fieldEnv("POD_NAME", "metadata.name"),
							fieldEnv("POD_NAMESPACE", "metadata.namespace"),
							{Name: "EVENT_QUEUE_DEPTH", Value: "5000"},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "run", MountPath: "/run/flannel"},
							{Name: "flannel-cfg", MountPath: flannelCfgDir},
							{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
						},
					}},
					Volumes: []corev1.Volume{
						hostPathVolume("run", "/run/flannel", ""),
						hostPathVolume("cni-bin", "/opt/cni/bin", ""),
						hostPathVolume("cni-conf", "/etc/cni/net.d", ""),
						configMapVolume("flannel-cfg", FlannelConfigMap),
						hostPathVolume("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
					},
				},
			},
		},
	}
}
