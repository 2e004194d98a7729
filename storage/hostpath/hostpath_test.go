package hostpath_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/storage/hostpath"
)

// TestProvisioner runs the provisioner against a real apiserver, playing the parts of the PV
// controller and the scheduler (the annotations they set, the Released phase) by hand.
func TestProvisioner(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	c := env.Client
	base := t.TempDir()
	cfg := hostpath.Config{Name: hostpath.DefaultName, Node: "node-a", BaseDir: base}
	env.StartManager(t, nil, func(_ context.Context, mgr ctrl.Manager) error { return hostpath.Setup(mgr, cfg) })

	bg := context.Background()
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: hostpath.DefaultName,
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer), ReclaimPolicy: ptr.To(corev1.PersistentVolumeReclaimDelete)}
	if err := c.Create(bg, class); err != nil {
		t.Fatal(err)
	}
	claim := func(name, node, provisioner string) *corev1.PersistentVolumeClaim {
		t.Helper()
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{
				hostpath.AnnStorageProvisioner: provisioner, hostpath.AnnSelectedNode: node}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To("standard"),
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
		if err := c.Create(bg, pvc); err != nil {
			t.Fatal(err)
		}
		pvc.Status.Phase = corev1.ClaimPending
		if err := c.Status().Update(bg, pvc); err != nil {
			t.Fatal(err)
		}
		return pvc
	}
	mine := claim("data-0", "node-a", hostpath.DefaultName)
	otherNode := claim("data-1", "node-b", hostpath.DefaultName)
	otherProvisioner := claim("data-2", "node-a", "rancher.io/local-path")

	var pv corev1.PersistentVolume
	testenv.Eventually(t, "a volume for the claim on this node", 20*time.Second, func() (bool, string) {
		err := c.Get(bg, client.ObjectKey{Name: hostpath.VolumeName(mine.UID)}, &pv)
		return err == nil, errString(err)
	})
	dir := pv.Spec.HostPath.Path
	if filepath.Dir(dir) != base {
		t.Errorf("volume directory %s is not in %s", dir, base)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() || st.Mode().Perm() != 0o777 {
		t.Errorf("volume directory %s: %v, %v; want a directory open to all", dir, st, err)
	}
	if r := pv.Spec.ClaimRef; r == nil || r.UID != mine.UID || r.Name != "data-0" {
		t.Errorf("claimRef %+v, want data-0 (%s)", r, mine.UID)
	}
	if got := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values; len(got) != 1 || got[0] != "node-a" {
		t.Errorf("node affinity %v, want node-a", got)
	}
	if pv.Spec.StorageClassName != "standard" || pv.Spec.Capacity.Storage().String() != "1Gi" || pv.Annotations[hostpath.AnnProvisionedBy] != hostpath.DefaultName {
		t.Errorf("volume %s: class %q, capacity %s, annotations %v", pv.Name, pv.Spec.StorageClassName, pv.Spec.Capacity.Storage(), pv.Annotations)
	}

	// Claims of another node or another provisioner get nothing from this instance.
	time.Sleep(2 * time.Second)
	for _, pvc := range []*corev1.PersistentVolumeClaim{otherNode, otherProvisioner} {
		err := c.Get(bg, client.ObjectKey{Name: hostpath.VolumeName(pvc.UID)}, &corev1.PersistentVolume{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("claim %s: volume lookup gave %v, want not found", pvc.Name, err)
		}
	}

	// A volume of another provisioner pointing into the base directory is left alone when released.
	foreignDir := filepath.Join(base, "foreign")
	if err := os.Mkdir(foreignDir, 0o755); err != nil {
		t.Fatal(err)
	}
	foreign := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "foreign", Annotations: map[string]string{hostpath.AnnProvisionedBy: "someone-else"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete, NodeAffinity: pv.Spec.NodeAffinity,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: foreignDir}},
		},
	}
	if err := c.Create(bg, foreign); err != nil {
		t.Fatal(err)
	}
	foreign.Status.Phase = corev1.VolumeReleased
	if err := c.Status().Update(bg, foreign); err != nil {
		t.Fatal(err)
	}

	// Released (its claim deleted): the directory and the volume go.
	pv.Status.Phase = corev1.VolumeReleased
	if err := c.Status().Update(bg, &pv); err != nil {
		t.Fatal(err)
	}
	// Deleted, or deleting: the apiserver gives volumes the pv-protection finalizer, which
	// kube-controller-manager (not running here) would remove.
	testenv.Eventually(t, "the released volume deleted", 20*time.Second, func() (bool, string) {
		var got corev1.PersistentVolume
		err := c.Get(bg, client.ObjectKey{Name: pv.Name}, &got)
		return apierrors.IsNotFound(err) || (err == nil && got.DeletionTimestamp != nil), errString(err)
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("volume directory %s still there: %v", dir, err)
	}
	if err := c.Get(bg, client.ObjectKey{Name: "foreign"}, foreign); err != nil || foreign.DeletionTimestamp != nil {
		t.Errorf("another provisioner's released volume: %v, deleting since %v; want it left alone", err, foreign.DeletionTimestamp)
	}
	if _, err := os.Stat(foreignDir); err != nil {
		t.Errorf("another provisioner's directory: %v, want it left alone", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
