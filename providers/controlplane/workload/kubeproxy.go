package workload

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

const (
	// KubeProxyConfigMap holds kube-proxy's config.conf and kubeconfig.conf.
	KubeProxyConfigMap = "kube-proxy"
	// KubeProxyConfigKey is KubeProxyConfigMap's key for the KubeProxyConfiguration.
	KubeProxyConfigKey = "config.conf"
	// KubeProxyKubeconfigKey is KubeProxyConfigMap's key for kube-proxy's kubeconfig.
	KubeProxyKubeconfigKey = "kubeconfig.conf"

	kubeProxyName        = "kube-proxy"
	kubeProxyBinding     = "kubeadm:node-proxier"
	kubeProxyRole        = "system:node-proxier"
	kubeProxyConfigDir   = "/var/lib/kube-proxy"
	serviceAccountSecret = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// kubeProxyConfiguration is the part of kubeproxy.config.k8s.io/v1alpha1
// KubeProxyConfiguration kubeadm sets (componentconfigs kubeProxyConfig.Default), plus the
// conntrack setting kind uses for nodes that are containers.
type kubeProxyConfiguration struct {
	APIVersion       string `json:"apiVersion"`
	Kind             string `json:"kind"`
	BindAddress      string `json:"bindAddress"`
	ClientConnection struct {
		Kubeconfig string `json:"kubeconfig"`
	} `json:"clientConnection"`
	ClusterCIDR string `json:"clusterCIDR"`
	Conntrack   struct {
		// MaxPerCore 0 leaves nf_conntrack_max alone: it is the host's, shared by every
		// node container.
		MaxPerCore int32 `json:"maxPerCore"`
	} `json:"conntrack"`
	Mode string `json:"mode"`
}

// kubeProxyObjects is kube-proxy as kubeadm's addon phase deploys it
// (phases/addons/proxy): ServiceAccount, node-proxier binding, a Role/RoleBinding letting
// bootstrap tokens read the ConfigMap, the ConfigMap and the DaemonSet. Its kubeconfig points
// at the load balancer VIP, not at the kubernetes Service, which needs kube-proxy to work.
func kubeProxyObjects(r resolved) ([]client.Object, error) {
	cfg := kubeProxyConfiguration{
		APIVersion:  "kubeproxy.config.k8s.io/v1alpha1",
		Kind:        "KubeProxyConfiguration",
		BindAddress: "0.0.0.0",
		ClusterCIDR: r.PodCIDR,
		Mode:        "iptables",
	}
	cfg.ClientConnection.Kubeconfig = kubeProxyConfigDir + "/" + KubeProxyKubeconfigKey
	config, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshalling the KubeProxyConfiguration: %w", err)
	}
	kubeconfig, err := clientcmd.Write(clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{"default": {
			Server:               r.Server(),
			CertificateAuthority: serviceAccountSecret + "/ca.crt",
		}},
		AuthInfos: map[string]*clientcmdapi.AuthInfo{"default": {
			TokenFile: serviceAccountSecret + "/token",
		}},
		Contexts: map[string]*clientcmdapi.Context{"default": {
			Cluster: "default", AuthInfo: "default", Namespace: "default",
		}},
		CurrentContext: "default",
	})
	if err != nil {
		return nil, fmt.Errorf("writing kube-proxy's kubeconfig: %w", err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: objectMeta(namespaceSystem, KubeProxyConfigMap, map[string]string{"app": kubeProxyName}),
		Data: map[string]string{
			KubeProxyConfigKey:     string(config),
			KubeProxyKubeconfigKey: string(kubeconfig),
		},
	}
	signConfigMap(cm)
	sa := &corev1.ServiceAccount{
		TypeMeta:   typeServiceAccount,
		ObjectMeta: objectMeta(namespaceSystem, kubeProxyName, nil),
	}
	role, binding := configMapReader(namespaceSystem, kubeProxyName, KubeProxyConfigMap, group(bootstrapTokenGroup))
	return []client.Object{
		sa,
		clusterRoleBinding(kubeProxyBinding, kubeProxyRole, serviceAccount(namespaceSystem, kubeProxyName)),
		role,
		binding,
		cm,
		kubeProxyDaemonSet(r),
	}, nil
}

func kubeProxyDaemonSet(r resolved) *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": kubeProxyName}
	return &appsv1.DaemonSet{
		TypeMeta:   typeDaemonSet,
		ObjectMeta: objectMeta(namespaceSystem, kubeProxyName, labels),
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: podMeta(labels),
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-node-critical",
					HostNetwork:        true,
					ServiceAccountName: kubeProxyName,
					NodeSelector:       map[string]string{corev1.LabelOSStable: "linux"},
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name:            kubeProxyName,
						Image:           "registry.k8s.io/kube-proxy:" + r.release.Version,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{
							"/usr/local/bin/kube-proxy",
							"--config=" + kubeProxyConfigDir + "/" + KubeProxyConfigKey,
							"--hostname-override=$(NODE_NAME)",
						},
						Env: []corev1.EnvVar{{
							Name: "NODE_NAME",
							ValueFrom: &corev1.EnvVarSource{
								FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"},
							},
						}},
						SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "kube-proxy", MountPath: kubeProxyConfigDir},
							{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
							{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
						},
					}},
					Volumes: []corev1.Volume{
						configMapVolume("kube-proxy", KubeProxyConfigMap),
						hostPathVolume("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
						hostPathVolume("lib-modules", "/lib/modules", ""),
					},
				},
			},
		},
	}
}
