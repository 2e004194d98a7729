package infrastructure

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/cluster-api/util/annotations"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/cluster-api/util/predicates"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/compute"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/networking"
)

// GcoreClusterReconciler reconciles GcoreClusters.
type GcoreClusterReconciler struct {
	Client client.Client
	Clouds cloudclient.Source
}

// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoreclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoreclusters/status;gcoreclusters/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters;clusters/status,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// SetupWithManager registers the controller with mgr.
func (r *GcoreClusterReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, options controller.Options) error {
	log := ctrl.LoggerFrom(ctx)
	return ctrl.NewControllerManagedBy(mgr).
		For(&infrav1.GcoreCluster{}).
		WithOptions(options).
		WithEventFilter(predicates.ResourceNotPaused(mgr.GetScheme(), log)).
		Watches(&clusterv1.Cluster{},
			handler.EnqueueRequestsFromMapFunc(util.ClusterToInfrastructureMapFunc(ctx, infrav1.GroupVersion.WithKind("GcoreCluster"), mgr.GetClient(), &infrav1.GcoreCluster{})),
			builder.WithPredicates(predicates.ClusterUnpaused(mgr.GetScheme(), log))).
		Complete(r)
}

// Reconcile makes the cluster's network, subnet, router and security group, or deletes them.
func (r *GcoreClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	gc := &infrav1.GcoreCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, gc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cluster, err := util.GetOwnerCluster(ctx, r.Client, gc.ObjectMeta)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("reading the owner Cluster of %s: %w", req, err)
	}
	if cluster == nil && gc.DeletionTimestamp.IsZero() {
		log.Info("waiting for the Cluster controller to set the owner reference")
		return ctrl.Result{}, nil
	}
	if cluster != nil && annotations.IsPaused(cluster, gc) {
		log.Info("paused: doing nothing")
		return ctrl.Result{}, nil
	}

	helper, err := patch.NewHelper(gc, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("patch helper for %s: %w", req, err)
	}
	defer func() {
		if err := helper.Patch(ctx, gc, patch.WithOwnedConditions{Conditions: []string{
			infrav1.ReadyCondition, infrav1.NetworkReadyCondition, infrav1.RouterReadyCondition, infrav1.SecurityGroupsReadyCondition,
		}}); err != nil && reterr == nil {
			reterr = fmt.Errorf("patching %s: %w", req, err)
		}
	}()

	owner := networking.Owner{Tag: ClusterTag(gc.Namespace, gc.Name), Name: resourceName(gc.Namespace, gc.Name)}
	if !gc.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, gc, owner)
	}
	// Resources made before the finalizer is saved are found again by their tag.
	controllerutil.AddFinalizer(gc, infrav1.ClusterFinalizer)
	return r.reconcileNormal(ctx, gc, owner)
}

func (r *GcoreClusterReconciler) clients(ctx context.Context, gc *infrav1.GcoreCluster) (*cloudclient.Clients, error) {
	return r.Clouds.Clients(ctx, cloudclient.Identity{Namespace: gc.Namespace, Secret: gc.Spec.IdentityRef.Name, CloudName: gc.Spec.IdentityRef.CloudName})
}

func (r *GcoreClusterReconciler) reconcileNormal(ctx context.Context, gc *infrav1.GcoreCluster, owner networking.Owner) (ctrl.Result, error) {
	cc, err := r.clients(ctx, gc)
	if err != nil {
		return cloudFailure(gc, infrav1.NetworkReadyCondition, err)
	}
	net := networking.Service{Client: cc.Network}

	ext, err := net.ExternalNetwork(ctx, gc.Spec.ExternalNetworkID)
	if err != nil {
		return cloudFailure(gc, infrav1.RouterReadyCondition, err)
	}
	gc.Status.ExternalNetworkID = ext

	cidr := gc.Spec.Network.CIDR
	if cidr == "" {
		cidr = "10.6.0.0/24"
	}
	netID, subnetID, err := net.EnsureNetwork(ctx, owner, cidr, gc.Spec.Network.DNSNameservers)
	if err != nil {
		return cloudFailure(gc, infrav1.NetworkReadyCondition, err)
	}
	gc.Status.Network = &infrav1.NetworkStatus{ID: netID, Name: owner.Name, Subnet: &infrav1.SubnetStatus{ID: subnetID, CIDR: cidr}}
	setTrue(gc, infrav1.NetworkReadyCondition)

	routerID, err := net.EnsureRouter(ctx, owner, ext, subnetID)
	if err != nil {
		return cloudFailure(gc, infrav1.RouterReadyCondition, err)
	}
	gc.Status.RouterID = routerID
	setTrue(gc, infrav1.RouterReadyCondition)

	sgID, err := net.EnsureWorkerSecurityGroup(ctx, owner, cidr)
	if err != nil {
		return cloudFailure(gc, infrav1.SecurityGroupsReadyCondition, err)
	}
	gc.Status.WorkerSecurityGroupID = sgID
	setTrue(gc, infrav1.SecurityGroupsReadyCondition)

	zones, err := compute.Service{Compute: cc.Compute}.AvailabilityZones(ctx)
	if err != nil {
		return cloudFailure(gc, infrav1.ReadyCondition, err)
	}
	gc.Status.FailureDomains = nil
	for _, z := range zones {
		gc.Status.FailureDomains = append(gc.Status.FailureDomains, clusterv1.FailureDomain{Name: z, ControlPlane: ptr.To(false)})
	}

	gc.Status.Initialization.Provisioned = ptr.To(true)
	setTrue(gc, infrav1.ReadyCondition)
	return ctrl.Result{}, nil
}

func (r *GcoreClusterReconciler) reconcileDelete(ctx context.Context, gc *infrav1.GcoreCluster, owner networking.Owner) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(gc, infrav1.ClusterFinalizer) {
		return ctrl.Result{}, nil
	}
	setFalse(gc, infrav1.ReadyCondition, infrav1.DeletingReason, "deleting the cluster's network, router and security group")
	cc, err := r.clients(ctx, gc)
	if err != nil {
		return cloudFailure(gc, infrav1.ReadyCondition, err)
	}
	done, err := networking.Service{Client: cc.Network}.DeleteAll(ctx, owner)
	if err != nil {
		return cloudFailure(gc, infrav1.ReadyCondition, err)
	}
	if !done {
		ctrl.LoggerFrom(ctx).Info("cloud resources still in use (servers going away); retrying")
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	controllerutil.RemoveFinalizer(gc, infrav1.ClusterFinalizer)
	return ctrl.Result{}, nil
}
