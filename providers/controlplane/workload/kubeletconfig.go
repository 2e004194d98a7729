package workload

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

const (
	// KubeletConfigConfigMap is the kube-system ConfigMap `kubeadm join` writes each node's
	// /var/lib/kubelet/config.yaml from.
	KubeletConfigConfigMap = "kubelet-config"
	// KubeletConfigKey is KubeletConfigConfigMap's key for the KubeletConfiguration.
	KubeletConfigKey = "kubelet"
	// kubeletConfigRole lets bootstrap tokens and nodes get kubelet-config (kubeadm's
	// constants.KubeletBaseConfigMapRole).
	kubeletConfigRole = "kubeadm:kubelet-config"
)

// kubeletConfiguration is the part of kubelet.config.k8s.io/v1beta1 KubeletConfiguration
// that kubeadm sets by default (componentconfigs kubeletConfig.Default), plus this sandbox's
// host quirks. Fields without omitempty are written even when false or zero, on purpose.
type kubeletConfiguration struct {
	APIVersion         string                `json:"apiVersion"`
	Kind               string                `json:"kind"`
	Authentication     kubeletAuthentication `json:"authentication"`
	Authorization      kubeletAuthorization  `json:"authorization"`
	CgroupDriver       string                `json:"cgroupDriver"`
	ClusterDNS         []string              `json:"clusterDNS"`
	ClusterDomain      string                `json:"clusterDomain"`
	HealthzBindAddress string                `json:"healthzBindAddress"`
	HealthzPort        int32                 `json:"healthzPort"`
	RotateCertificates bool                  `json:"rotateCertificates"`
	ServerTLSBootstrap bool                  `json:"serverTLSBootstrap"`
	StaticPodPath      string                `json:"staticPodPath"`
	FailCgroupV1       bool                  `json:"failCgroupV1"`
	ImageGCHighPercent int32                 `json:"imageGCHighThresholdPercent"`
	EvictionHard       map[string]string     `json:"evictionHard"`
}

type kubeletAuthentication struct {
	Anonymous struct {
		Enabled bool `json:"enabled"`
	} `json:"anonymous"`
	Webhook struct {
		Enabled bool `json:"enabled"`
	} `json:"webhook"`
	X509 struct {
		ClientCAFile string `json:"clientCAFile"`
	} `json:"x509"`
}

type kubeletAuthorization struct {
	Mode string `json:"mode"`
}

// kubeletConfigObjects is what kubeadm's upload-config/kubelet phase leaves: the signed
// kubelet-config ConfigMap and the Role/RoleBinding letting nodes and bootstrap tokens read it.
func kubeletConfigObjects(r resolved) ([]client.Object, error) {
	cfg := kubeletConfiguration{
		APIVersion:         "kubelet.config.k8s.io/v1beta1",
		Kind:               "KubeletConfiguration",
		CgroupDriver:       "systemd",
		ClusterDNS:         []string{r.dnsIP.String()},
		ClusterDomain:      r.DNSDomain,
		HealthzBindAddress: "127.0.0.1",
		HealthzPort:        10248,
		RotateCertificates: true,
		ServerTLSBootstrap: false,
		StaticPodPath:      "/etc/kubernetes/manifests",
		// This host runs cgroup v1, which kubelet 1.35+ refuses unless told otherwise.
		FailCgroupV1: false,
		// Nodes are containers sharing the host's disk and no registry is reachable: as on
		// kind, never garbage-collect the preloaded images nor evict on the host's disk usage.
		ImageGCHighPercent: 100,
		EvictionHard: map[string]string{
			"nodefs.available":  "0%",
			"nodefs.inodesFree": "0%",
			"imagefs.available": "0%",
		},
	}
	cfg.Authentication.Anonymous.Enabled = false
	cfg.Authentication.Webhook.Enabled = true
	cfg.Authentication.X509.ClientCAFile = certificatesDir + "/ca.crt"
	cfg.Authorization.Mode = "Webhook"
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshalling the KubeletConfiguration: %w", err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: objectMeta(namespaceSystem, KubeletConfigConfigMap, nil),
		Data:       map[string]string{KubeletConfigKey: string(data)},
	}
	signConfigMap(cm)
	role, binding := configMapReader(namespaceSystem, kubeletConfigRole, KubeletConfigConfigMap,
		group(nodesGroup), group(bootstrapTokenGroup))
	return []client.Object{cm, role, binding}, nil
}
