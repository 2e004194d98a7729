package hostpath

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// VolumeReconciler deletes the released volumes this instance made, directory first.
type VolumeReconciler struct {
	Client client.Client
	Config Config
}

// SetupWithManager registers the reconciler; only this node's released volumes reach it.
func (r *VolumeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("hostpath-volumes").
		For(&corev1.PersistentVolume{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			pv, ok := o.(*corev1.PersistentVolume)
			return ok && r.Config.releasedOwn(pv)
		}))).
		Complete(r)
}

// releasedOwn reports whether pv is a volume of this instance, released, to be deleted.
func (c Config) releasedOwn(pv *corev1.PersistentVolume) bool {
	return pv.Annotations[AnnProvisionedBy] == c.Name && nodeOf(pv) == c.Node &&
		pv.Status.Phase == corev1.VolumeReleased && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete &&
		pv.DeletionTimestamp == nil
}

// Reconcile removes a released volume's directory, then the volume.
func (r *VolumeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var pv corev1.PersistentVolume
	if err := r.Client.Get(ctx, req.NamespacedName, &pv); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !r.Config.releasedOwn(&pv) {
		return ctrl.Result{}, nil
	}
	dir, err := r.Config.ownDir(&pv)
	if err != nil {
		// Not a path this provisioner made: retrying cannot help, and deleting it could harm.
		ctrl.LoggerFrom(ctx).Error(err, "not deleting the volume")
		return ctrl.Result{}, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing the directory of volume %s: %w", pv.Name, err)
	}
	if err := r.Client.Delete(ctx, &pv, client.Preconditions{UID: &pv.UID}); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("deleting volume %s: %w", pv.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("deleted", "volume", pv.Name, "dir", dir)
	return ctrl.Result{}, nil
}
