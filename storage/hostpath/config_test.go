package hostpath

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestValidate(t *testing.T) {
	good := Config{Name: DefaultName, Node: "n", BaseDir: "/var/x"}
	if err := good.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	for _, bad := range []Config{
		{Node: "n", BaseDir: "/var/x"},
		{Name: DefaultName, BaseDir: "/var/x"},
		{Name: DefaultName, Node: "n", BaseDir: "relative"},
		{Name: DefaultName, Node: "n", BaseDir: "/"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestOwnDir(t *testing.T) {
	c := Config{Name: DefaultName, Node: "n", BaseDir: "/var/lp"}
	pv := func(name, path string) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}}
	}
	if d, err := c.ownDir(pv("pvc-1", "/var/lp/pvc-1_ns_data")); err != nil || d != "/var/lp/pvc-1_ns_data" {
		t.Errorf("own directory refused: %q, %v", d, err)
	}
	for _, p := range []string{"/var/lp", "/var/lp/pvc-2_ns_data", "/var/lp/../etc/pvc-1_x", "/var/lp/pvc-1_ns/nested", "/etc"} {
		if d, err := c.ownDir(pv("pvc-1", p)); err == nil {
			t.Errorf("path %s of volume pvc-1 taken as its own: %s", p, d)
		}
	}
	if _, err := c.ownDir(&corev1.PersistentVolume{}); err == nil {
		t.Error("a volume without hostPath taken as own")
	}
}

func TestVolumeForRefusesBlock(t *testing.T) {
	c := Config{Name: DefaultName, Node: "n", BaseDir: "/var/lp"}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", UID: "u"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeMode: ptr.To(corev1.PersistentVolumeBlock),
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := c.volumeFor(claim, &storagev1.StorageClass{}); err == nil {
		t.Error("a block claim got a directory")
	}
	claim.Spec.VolumeMode = nil
	claim.Spec.Resources.Requests = nil
	if _, err := c.volumeFor(claim, &storagev1.StorageClass{}); err == nil {
		t.Error("a claim without a size got a volume")
	}
}
