package controlplane

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
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
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
	"github.com/kaas-sandbox/sandbox/providers/workloadclient"
)

// FieldOwner is the server-side apply field manager of everything the controller applies.
const FieldOwner = "gcore-controlplane"

// GcoreControlPlaneReconciler reconciles GcoreControlPlanes.
type GcoreControlPlaneReconciler struct {
	// Client reads and writes the service cluster.
	Client client.Client
	// Clouds reaches Octavia (and Neutron, to find the external network).
	Clouds cloudclient.Source
	// Workload reaches the customer clusters' apiservers.
	Workload workloadclient.Getter
	// Tunnel probes each apiserver pod's tunnel; nil means vpn.KubeletProber.
	Tunnel vpn.Prober
	// TransferCIDR is the tunnel's own network; empty means vpn.DefaultTransferCIDR.
	TransferCIDR string
	// Reserved lists the service side's networks no customer network may overlap; nil means
	// ServiceClusterNetworks (read from the service cluster itself).
	Reserved func(ctx context.Context) ([]vpn.Reserved, error)
	// TunnelCheckEvery is how often a working tunnel is checked (and the server's objects in
	// the customer cluster looked at); default 15 s.
	TunnelCheckEvery time.Duration

	applied appliedSets
}

// +kubebuilder:rbac:groups=controlplane.cluster.x-k8s.io,resources=gcorecontrolplanes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=controlplane.cluster.x-k8s.io,resources=gcorecontrolplanes/status;gcorecontrolplanes/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters;clusters/status,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=statefulsets;deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=servicecidrs,verbs=get;list;watch
// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoreclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// SetupWithManager registers the controller with mgr.
func (r *GcoreControlPlaneReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, options controller.Options) error {
	log := ctrl.LoggerFrom(ctx)
	return ctrl.NewControllerManagedBy(mgr).
		For(&controlplanev1.GcoreControlPlane{}).
		WithOptions(options).
		WithEventFilter(predicates.ResourceNotPaused(mgr.GetScheme(), log)).
		Owns(&appsv1.StatefulSet{}).
		Owns(&appsv1.Deployment{}).
		Watches(&clusterv1.Cluster{}, handler.EnqueueRequestsFromMapFunc(clusterToControlPlane),
			builder.WithPredicates(predicates.ClusterUnpaused(mgr.GetScheme(), log))).
		// The load balancer's members are the service cluster's nodes.
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.allControlPlanes),
			builder.WithPredicates(nodeMembershipChanged())).
		Complete(r)
}

// clusterToControlPlane maps a Cluster to the GcoreControlPlane it names.
func clusterToControlPlane(_ context.Context, o client.Object) []reconcile.Request {
	c, ok := o.(*clusterv1.Cluster)
	if !ok || c.Spec.ControlPlaneRef.Kind != "GcoreControlPlane" || c.Spec.ControlPlaneRef.APIGroup != controlplanev1.GroupVersion.Group {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.ControlPlaneRef.Name}}}
}

func (r *GcoreControlPlaneReconciler) allControlPlanes(ctx context.Context, _ client.Object) []reconcile.Request {
	var list controlplanev1.GcoreControlPlaneList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, cp := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: cp.Namespace, Name: cp.Name}})
	}
	return out
}

// scope is what one reconcile works with.
type scope struct {
	cp      *controlplanev1.GcoreControlPlane
	cluster *clusterv1.Cluster
	// externalNetwork is the VIPs' network, once reconcileEndpoint has found it.
	externalNetwork string
	// The tunnel, once reconcileVPNClient has run.
	vpnClient   *vpn.Client
	vpnKeys     *vpn.PKI
	vpnNetworks vpn.Networks
}

// clusterName is the Cluster's name: Cluster API's secrets (<cluster>-ca, -kubeconfig...) and
// the control plane's objects are named after it, not after the GcoreControlPlane.
func (s *scope) clusterName() string {
	if s.cluster != nil {
		return s.cluster.Name
	}
	if n := s.cp.Labels[clusterv1.ClusterNameLabel]; n != "" {
		return n
	}
	return s.cp.Name
}

// Reconcile brings one hosted control plane to its spec.
func (r *GcoreControlPlaneReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	cp := &controlplanev1.GcoreControlPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, cp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cluster, err := util.GetOwnerCluster(ctx, r.Client, cp.ObjectMeta)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("reading the owner Cluster of %s: %w", req, err)
	}
	if cluster == nil && cp.DeletionTimestamp.IsZero() {
		log.Info("waiting for the Cluster controller to set the owner reference")
		return ctrl.Result{}, nil
	}
	if cluster != nil && annotations.IsPaused(cluster, cp) {
		log.Info("paused: doing nothing")
		return ctrl.Result{}, nil
	}

	helper, err := patch.NewHelper(cp, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("patch helper for %s: %w", req, err)
	}
	defer func() {
		cp.Status.ObservedGeneration = cp.Generation
		cp.Status.ExternalManagedControlPlane = ptr.To(true)
		if err := helper.Patch(ctx, cp, patch.WithOwnedConditions{Conditions: ownedConditions}); err != nil && reterr == nil {
			reterr = fmt.Errorf("patching %s: %w", req, err)
		}
	}()

	s := &scope{cp: cp, cluster: cluster}
	if !cp.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	controllerutil.AddFinalizer(cp, controlplanev1.ControlPlaneFinalizer)
	return r.reconcileNormal(ctx, s)
}

func (r *GcoreControlPlaneReconciler) reconcileNormal(ctx context.Context, s *scope) (ctrl.Result, error) {
	cp := s.cp
	// 1. The apiserver's Service first: its node port is the load balancer members' port.
	nodePort, err := r.ensureAPIServerService(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	// 2. The load balancer, whose VIP is the endpoint everything else names.
	res, err := r.reconcileEndpoint(ctx, s, nodePort)
	if err != nil || !cp.Spec.ControlPlaneEndpoint.IsValid() {
		return res, err
	}
	// 3. The tunnel's load balancer, certificates and client configuration, which the
	// apiserver pods mount.
	if err := r.reconcileVPNClient(ctx, s); err != nil {
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	// 4. The PKI, for that endpoint.
	pkiResult, err := r.reconcilePKI(ctx, s)
	if err != nil {
		setFalse(cp, controlplanev1.CertificatesReadyCondition, controlplanev1.ProvisioningReason, "%v", err)
		return ctrl.Result{}, err
	}
	setTrue(cp, controlplanev1.CertificatesReadyCondition)
	// 5. The pods, rolling one component after the other on a version change.
	state, err := r.reconcilePods(ctx, s, pkiResult)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.updateStatus(s, state)
	// 6. Inside the customer cluster, once its apiserver answers.
	if state.apiServer.ready == 0 {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.WaitingForAPIServerReason, "no apiserver pod is ready yet")
		setFalse(cp, controlplanev1.AddonsReadyCondition, controlplanev1.WaitingForAPIServerReason, "no apiserver pod is ready yet")
		setFalse(cp, controlplanev1.AvailableCondition, controlplanev1.WaitingForAPIServerReason, "no apiserver pod is ready")
		r.summarize(cp)
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	firstApply := !meta.IsStatusConditionTrue(cp.Status.Conditions, controlplanev1.AddonsReadyCondition)
	started := time.Now()
	if err := r.reconcileWorkload(ctx, s); err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.WaitingForAPIServerReason, "the apiserver does not answer through the load balancer")
		setFalse(cp, controlplanev1.AddonsReadyCondition, controlplanev1.WaitingForAPIServerReason, "%v (retrying)", err)
		setFalse(cp, controlplanev1.AvailableCondition, controlplanev1.WaitingForAPIServerReason, "the apiserver does not answer through the load balancer: %v", err)
		r.summarize(cp)
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	if firstApply {
		ctrl.LoggerFrom(ctx).Info("the customer cluster has its join objects and add-ons", "took", time.Since(started).Round(time.Millisecond).String())
	}
	setTrue(cp, controlplanev1.AddonsReadyCondition)
	setTrue(cp, controlplanev1.AvailableCondition)
	t := true
	cp.Status.Initialization.ControlPlaneInitialized = &t
	r.summarize(cp)
	// 7. The tunnel's server and its check.
	vpnAfter := r.reconcileVPNServer(ctx, s)
	if !state.allReady() {
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	// res asks to come back while Octavia still builds the load balancer.
	if res.RequeueAfter == 0 || vpnAfter < res.RequeueAfter {
		res.RequeueAfter = vpnAfter
	}
	return res, nil
}

// summarize sets Ready from the component conditions.
func (r *GcoreControlPlaneReconciler) summarize(cp *controlplanev1.GcoreControlPlane) {
	for _, t := range ownedConditions {
		if t == controlplanev1.ReadyCondition || t == controlplanev1.VPNReadyCondition {
			continue
		}
		c := meta.FindStatusCondition(cp.Status.Conditions, t)
		if c == nil || c.Status != "True" {
			reason, msg := controlplanev1.ProvisioningReason, t+" is not reported yet"
			if c != nil {
				reason, msg = c.Reason, t+": "+c.Message
			}
			setFalse(cp, controlplanev1.ReadyCondition, reason, "%s", msg)
			return
		}
	}
	setTrue(cp, controlplanev1.ReadyCondition)
}

func (r *GcoreControlPlaneReconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	cp := s.cp
	if !controllerutil.ContainsFinalizer(cp, controlplanev1.ControlPlaneFinalizer) {
		return ctrl.Result{}, nil
	}
	setFalse(cp, controlplanev1.ReadyCondition, controlplanev1.DeletingReason, "deleting the load balancer; the pods and secrets go with the object")
	done, err := r.deleteEndpoint(ctx, s)
	if err != nil {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.CloudErrorReason, "deleting the load balancer: %v (retrying)", err)
		return ctrl.Result{}, err
	}
	vpnDone, err := r.deleteVPN(ctx, s)
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.CloudErrorReason, "deleting the tunnel's load balancer: %v (retrying)", err)
		return ctrl.Result{}, err
	}
	if !done || !vpnDone {
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	controllerutil.RemoveFinalizer(cp, controlplanev1.ControlPlaneFinalizer)
	r.applied.forget(client.ObjectKeyFromObject(cp))
	return ctrl.Result{}, nil
}
