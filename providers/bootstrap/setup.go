package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
)

// SetupWithManager registers the controller with mgr: it watches GcoreConfigs, the Machines
// that own them and the Clusters those Machines belong to.
func (r *GcoreConfigReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, options controller.Options) error {
	if r.Client == nil || r.Workload == nil {
		return errors.New("GcoreConfigReconciler needs a Client and a Workload getter")
	}
	r.apiReader = mgr.GetAPIReader()
	err := ctrl.NewControllerManagedBy(mgr).
		For(&bootstrapv1.GcoreConfig{}).
		WithOptions(options).
		Watches(&clusterv1.Machine{}, handler.EnqueueRequestsFromMapFunc(machineToConfig)).
		Watches(&clusterv1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.clusterToConfigs),
			builder.WithPredicates(clusterProgressed())).
		Complete(r)
	if err != nil {
		return fmt.Errorf("setting up the GcoreConfig controller: %w", err)
	}
	ctrl.LoggerFrom(ctx).V(2).Info("GcoreConfig controller set up", "tokenTTL", r.tokenTTL())
	return nil
}

// machineToConfig maps a Machine to the GcoreConfig its spec.bootstrap.configRef names.
func machineToConfig(_ context.Context, o client.Object) []ctrl.Request {
	m, ok := o.(*clusterv1.Machine)
	if !ok {
		return nil
	}
	ref := m.Spec.Bootstrap.ConfigRef
	if ref.Kind != "GcoreConfig" || ref.APIGroup != bootstrapv1.GroupVersion.Group || ref.Name == "" {
		return nil
	}
	return []ctrl.Request{{NamespacedName: client.ObjectKey{Namespace: m.Namespace, Name: ref.Name}}}
}

// clusterToConfigs maps a Cluster to the GcoreConfigs of its Machines (found by the
// cluster-name label Cluster API puts on every Machine).
func (r *GcoreConfigReconciler) clusterToConfigs(ctx context.Context, o client.Object) []ctrl.Request {
	c, ok := o.(*clusterv1.Cluster)
	if !ok {
		return nil
	}
	machines := &clusterv1.MachineList{}
	if err := r.Client.List(ctx, machines, client.InNamespace(c.Namespace),
		client.MatchingLabels{clusterv1.ClusterNameLabel: c.Name}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing the Machines of a Cluster", "Cluster", client.ObjectKeyFromObject(c))
		return nil
	}
	var reqs []ctrl.Request
	for i := range machines.Items {
		reqs = append(reqs, machineToConfig(ctx, &machines.Items[i])...)
	}
	return reqs
}

// clusterProgressed lets through Cluster creations and the updates a waiting or paused config
// cares about: pause flips, initialization steps, a new control plane endpoint.
func clusterProgressed() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldC, okOld := e.ObjectOld.(*clusterv1.Cluster)
			newC, okNew := e.ObjectNew.(*clusterv1.Cluster)
			if !okOld || !okNew {
				return false
			}
			return ptr.Deref(oldC.Spec.Paused, false) != ptr.Deref(newC.Spec.Paused, false) ||
				!equality.Semantic.DeepEqual(oldC.Status.Initialization, newC.Status.Initialization) ||
				oldC.Spec.ControlPlaneEndpoint != newC.Spec.ControlPlaneEndpoint
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
