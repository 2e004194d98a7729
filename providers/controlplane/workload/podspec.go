package workload

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podMeta is a pod template's metadata: its labels only, as kubeadm's manifests have it.
func podMeta(labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: labels}
}

func configMapVolume(name, configMap string, items ...corev1.KeyToPath) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
			Items:                items,
		},
	}}
}

// hostPathVolume mounts path from the node; an empty typ means no check, as in kubeadm's
// manifests.
func hostPathVolume(name, path string, typ corev1.HostPathType) corev1.Volume {
	src := &corev1.HostPathVolumeSource{Path: path}
	if typ != "" {
		src.Type = &typ
	}
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: src}}
}
