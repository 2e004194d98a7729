package hostpath

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// ClaimReconciler provisions a volume for each pending claim placed on its node.
type ClaimReconciler struct {
	Client client.Client
	Config Config
}

// SetupWithManager registers the reconciler; only claims this instance wants reach it.
func (r *ClaimReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("hostpath-claims").
		For(&corev1.PersistentVolumeClaim{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			c, ok := o.(*corev1.PersistentVolumeClaim)
			return ok && r.Config.wants(c)
		}))).
		Complete(r)
}

// Reconcile makes the claim's directory and its PersistentVolume.
func (r *ClaimReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var claim corev1.PersistentVolumeClaim
	if err := r.Client.Get(ctx, req.NamespacedName, &claim); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !r.Config.wants(&claim) {
		return ctrl.Result{}, nil
	}
	var existing corev1.PersistentVolume
	err := r.Client.Get(ctx, client.ObjectKey{Name: VolumeName(claim.UID)}, &existing)
	if err == nil {
		return ctrl.Result{}, nil // made before; the PV controller binds it
	}
	if !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("looking for the claim's volume: %w", err)
	}
	class, err := r.storageClass(ctx, &claim)
	if err != nil {
		return ctrl.Result{}, err
	}
	pv, err := r.Config.volumeFor(&claim, class)
	if err != nil {
		return ctrl.Result{}, err // the claim asks for what a directory cannot give
	}
	dir := pv.Spec.HostPath.Path
	if err := makeDir(dir); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.Client.Create(ctx, pv); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, nil // made by the reconcile before, not yet in the cache
		}
		return ctrl.Result{}, fmt.Errorf("creating volume %s for claim %s/%s: %w", pv.Name, claim.Namespace, claim.Name, err)
	}
	log.Info("provisioned", "volume", pv.Name, "dir", dir, "size", claim.Spec.Resources.Requests.Storage().String())
	return ctrl.Result{}, nil
}

func (r *ClaimReconciler) storageClass(ctx context.Context, claim *corev1.PersistentVolumeClaim) (*storagev1.StorageClass, error) {
	name := ""
	if claim.Spec.StorageClassName != nil {
		name = *claim.Spec.StorageClassName
	}
	if name == "" {
		return nil, fmt.Errorf("claim %s/%s names no StorageClass", claim.Namespace, claim.Name)
	}
	var class storagev1.StorageClass
	if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, &class); err != nil {
		return nil, fmt.Errorf("reading StorageClass %s of claim %s/%s: %w", name, claim.Namespace, claim.Name, err)
	}
	return &class, nil
}

// volumeFor is the PersistentVolume of claim: a hostPath directory on this node, bound ahead to
// the claim, with the class's reclaim policy and mount options.
func (c Config) volumeFor(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass) (*corev1.PersistentVolume, error) {
	if claim.Spec.VolumeMode != nil && *claim.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return nil, fmt.Errorf("claim %s/%s asks for a block device: %s makes directories only", claim.Namespace, claim.Name, c.Name)
	}
	size, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil, fmt.Errorf("claim %s/%s requests no storage size", claim.Namespace, claim.Name)
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	dirType := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: VolumeName(claim.UID), Annotations: map[string]string{AnnProvisionedBy: c.Name}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              class.Name,
			MountOptions:                  class.MountOptions,
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: c.dirFor(claim), Type: &dirType},
			},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{c.Node}},
				}}},
			}},
		},
	}, nil
}
