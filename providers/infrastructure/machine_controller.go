package infrastructure

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/compute"
)

// ProviderIDPrefix starts every provider ID, as with OpenStack's cloud provider.
const ProviderIDPrefix = "openstack:///"

// GcoreMachineReconciler reconciles GcoreMachines.
type GcoreMachineReconciler struct {
	Client client.Client
	Clouds cloudclient.Source
}

// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoremachines,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoremachines/status;gcoremachines/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoremachinetemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=machines;machines/status,verbs=get;list;watch

// SetupWithManager registers the controller with mgr.
func (r *GcoreMachineReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, options controller.Options) error {
	log := ctrl.LoggerFrom(ctx)
	return ctrl.NewControllerManagedBy(mgr).
		For(&infrav1.GcoreMachine{}).
		WithOptions(options).
		WithEventFilter(predicates.ResourceNotPaused(mgr.GetScheme(), log)).
		Watches(&clusterv1.Machine{},
			handler.EnqueueRequestsFromMapFunc(util.MachineToInfrastructureMapFunc(infrav1.GroupVersion.WithKind("GcoreMachine")))).
		Watches(&infrav1.GcoreCluster{},
			handler.EnqueueRequestsFromMapFunc(r.gcoreClusterToMachines)).
		Watches(&clusterv1.Cluster{},
			handler.EnqueueRequestsFromMapFunc(r.clusterToMachines),
			builder.WithPredicates(predicates.ClusterPausedTransitionsOrInfrastructureProvisioned(mgr.GetScheme(), log))).
		Complete(r)
}

// clusterToMachines maps a Cluster to its GcoreMachines.
func (r *GcoreMachineReconciler) clusterToMachines(ctx context.Context, o client.Object) []reconcile.Request {
	var list infrav1.GcoreMachineList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingLabels{clusterv1.ClusterNameLabel: o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, m := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.Namespace, Name: m.Name}})
	}
	return out
}

// gcoreClusterToMachines maps a GcoreCluster to the GcoreMachines of its Cluster.
func (r *GcoreMachineReconciler) gcoreClusterToMachines(ctx context.Context, o client.Object) []reconcile.Request {
	name, ok := o.GetLabels()[clusterv1.ClusterNameLabel]
	if !ok {
		return nil
	}
	var c clusterv1.Cluster
	c.Name, c.Namespace = name, o.GetNamespace()
	return r.clusterToMachines(ctx, &c)
}

// machineScope is everything one reconcile of a GcoreMachine works with.
type machineScope struct {
	gm      *infrav1.GcoreMachine
	machine *clusterv1.Machine
	cluster *clusterv1.Cluster
	gc      *infrav1.GcoreCluster
	tag     string
}

// Reconcile makes the machine's server and reports it, or deletes it.
func (r *GcoreMachineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	log := ctrl.LoggerFrom(ctx)
	gm := &infrav1.GcoreMachine{}
	if err := r.Client.Get(ctx, req.NamespacedName, gm); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	machine, err := util.GetOwnerMachine(ctx, r.Client, gm.ObjectMeta)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("reading the owner Machine of %s: %w", req, err)
	}
	if machine == nil && gm.DeletionTimestamp.IsZero() {
		log.Info("waiting for the Machine controller to set the owner reference")
		return ctrl.Result{}, nil
	}
	s := &machineScope{gm: gm, machine: machine, tag: MachineTag(gm.Namespace, gm.Name)}
	if machine != nil {
		if s.cluster, err = util.GetClusterFromMetadata(ctx, r.Client, machine.ObjectMeta); err != nil {
			log.Info("the Machine names no Cluster yet", "error", err.Error())
			return ctrl.Result{}, nil
		}
		if annotations.IsPaused(s.cluster, gm) {
			log.Info("paused: doing nothing")
			return ctrl.Result{}, nil
		}
	}

	helper, err := patch.NewHelper(gm, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("patch helper for %s: %w", req, err)
	}
	defer func() {
		if err := helper.Patch(ctx, gm, patch.WithOwnedConditions{Conditions: []string{
			infrav1.ReadyCondition, infrav1.InstanceReadyCondition,
		}}); err != nil && reterr == nil {
			reterr = fmt.Errorf("patching %s: %w", req, err)
		}
	}()

	if s.cluster != nil {
		s.gc = &infrav1.GcoreCluster{}
		key := types.NamespacedName{Namespace: s.cluster.Namespace, Name: s.cluster.Spec.InfrastructureRef.Name}
		if err := r.Client.Get(ctx, key, s.gc); err != nil {
			if apierrors.IsNotFound(err) && gm.DeletionTimestamp.IsZero() {
				setFalse(gm, infrav1.InstanceReadyCondition, infrav1.WaitingForClusterReason, "GcoreCluster %s not found", key.Name)
				return ctrl.Result{RequeueAfter: retryShort}, nil
			}
			if !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("reading GcoreCluster %s: %w", key, err)
			}
			s.gc = nil
		}
	}
	if !gm.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	return r.reconcileNormal(ctx, s)
}

func (r *GcoreMachineReconciler) service(ctx context.Context, s *machineScope) (compute.Service, error) {
	if s.gc == nil {
		return compute.Service{}, fmt.Errorf("the GcoreCluster of machine %s is gone: its cloud credentials cannot be found", s.gm.Name)
	}
	cc, err := r.Clouds.Clients(ctx, cloudclient.Identity{Namespace: s.gc.Namespace, Secret: s.gc.Spec.IdentityRef.Name, CloudName: s.gc.Spec.IdentityRef.CloudName})
	if err != nil {
		return compute.Service{}, err
	}
	return compute.Service{Compute: cc.Compute, Network: cc.Network, Image: cc.Image}, nil
}

func (r *GcoreMachineReconciler) reconcileNormal(ctx context.Context, s *machineScope) (ctrl.Result, error) {
	gm := s.gm
	if !ptr.Deref(s.cluster.Status.Initialization.InfrastructureProvisioned, false) || s.gc.Status.Network == nil || s.gc.Status.Network.Subnet == nil {
		setFalse(gm, infrav1.InstanceReadyCondition, infrav1.WaitingForClusterReason, "the cluster's network is not provisioned yet")
		setFalse(gm, infrav1.ReadyCondition, infrav1.WaitingForClusterReason, "the cluster's network is not provisioned yet")
		return ctrl.Result{}, nil
	}
	controllerutil.AddFinalizer(gm, infrav1.MachineFinalizer)

	svc, err := r.service(ctx, s)
	if err != nil {
		return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
	}
	srv, err := r.findServer(ctx, svc, s)
	if err != nil {
		return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
	}
	if srv == nil {
		if ptr.Deref(gm.Status.Initialization.Provisioned, false) {
			// The node is gone with its server: a new server would need a new provider ID, which
			// Cluster API does not allow. Report it; a MachineHealthCheck replaces the Machine.
			gm.Status.InstanceState = "DELETED"
			setFalse(gm, infrav1.InstanceReadyCondition, infrav1.InstanceDeletedReason, "server %s disappeared from the cloud", gm.Status.InstanceID)
			setFalse(gm, infrav1.ReadyCondition, infrav1.InstanceDeletedReason, "server %s disappeared from the cloud", gm.Status.InstanceID)
			return ctrl.Result{RequeueAfter: invalidSpecRetry}, nil
		}
		if wait := replacementWait(gm, time.Now()); wait > 0 {
			// The last server failed moments ago: InstanceError stays up until the replacement.
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		if s.machine.Spec.Bootstrap.DataSecretName == nil {
			setFalse(gm, infrav1.InstanceReadyCondition, infrav1.WaitingForBootstrapDataReason, "waiting for the bootstrap provider's user-data")
			setFalse(gm, infrav1.ReadyCondition, infrav1.WaitingForBootstrapDataReason, "waiting for the bootstrap provider's user-data")
			return ctrl.Result{}, nil
		}
		if srv, err = r.createServer(ctx, svc, s); err != nil {
			return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
		}
	}
	gm.Status.InstanceID = srv.ID
	gm.Status.InstanceState = srv.Status
	if srv.AvailabilityZone != "" {
		gm.Status.FailureDomain = srv.AvailabilityZone
	}

	switch srv.Status {
	case "ACTIVE":
	case "SHUTOFF":
		setFalse(gm, infrav1.InstanceReadyCondition, infrav1.InstanceStoppedReason, "server %s is SHUTOFF: starting it", srv.ID)
		if err := svc.StartServer(ctx, srv.ID); err != nil {
			return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
		}
		return ctrl.Result{RequeueAfter: retryShort}, nil
	case "ERROR":
		msg := "server is in ERROR"
		if srv.Fault.Message != "" {
			msg += ": " + srv.Fault.Message
		}
		setFalse(gm, infrav1.InstanceReadyCondition, infrav1.InstanceErrorReason, "%s", msg)
		setFalse(gm, infrav1.ReadyCondition, infrav1.InstanceErrorReason, "%s", msg)
		if !ptr.Deref(gm.Status.Initialization.Provisioned, false) {
			// Never provisioned: nothing depends on this server yet, so replace it.
			if err := svc.DeleteServer(ctx, srv.ID); err != nil {
				return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
			}
			gm.Status.InstanceID = ""
			if f := gm.Status.LastFailedServer; f == nil || f.ID != srv.ID { // seen again while Nova deletes it: keep the first time
				gm.Status.LastFailedServer = &infrav1.FailedServer{ID: srv.ID, Fault: truncate(srv.Fault.Message, 1024), FailedAt: metav1.Now()}
			}
			ctrl.LoggerFrom(ctx).Info("server failed to build: deleted it, a new one follows", "server", srv.ID, "fault", srv.Fault.Message)
		}
		return ctrl.Result{RequeueAfter: retryShort}, nil
	default: // BUILD, REBOOT, ...
		msg := fmt.Sprintf("server %s is %s", srv.ID, srv.Status)
		if f := gm.Status.LastFailedServer; f != nil && !ptr.Deref(gm.Status.Initialization.Provisioned, false) {
			msg += fmt.Sprintf(" (it replaces server %s, which went to ERROR)", f.ID)
		}
		setFalse(gm, infrav1.InstanceReadyCondition, infrav1.InstanceBuildingReason, "%s", msg)
		setFalse(gm, infrav1.ReadyCondition, infrav1.InstanceBuildingReason, "%s", msg)
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}

	addrs := serverAddresses(srv)
	if gm.Status.PortID != "" {
		if ips, err := svc.PortAddresses(ctx, gm.Status.PortID); err == nil && len(ips) > 0 {
			addrs = ips
		}
	}
	gm.Status.Addresses = []clusterv1.MachineAddress{{Type: clusterv1.MachineHostName, Address: srv.Name}}
	for _, a := range addrs {
		gm.Status.Addresses = append(gm.Status.Addresses, clusterv1.MachineAddress{Type: clusterv1.MachineInternalIP, Address: a})
	}
	gm.Spec.ProviderID = ProviderIDPrefix + srv.ID
	gm.Status.Initialization.Provisioned = ptr.To(true)
	setTrue(gm, infrav1.InstanceReadyCondition)
	setTrue(gm, infrav1.ReadyCondition)
	return ctrl.Result{}, nil
}

// findServer finds the machine's server by its recorded ID, else by the machine's tag.
func (r *GcoreMachineReconciler) findServer(ctx context.Context, svc compute.Service, s *machineScope) (*servers.Server, error) {
	if id := s.gm.Status.InstanceID; id != "" {
		srv, err := svc.GetServer(ctx, id)
		if err != nil || srv != nil {
			return srv, err
		}
	}
	return svc.FindServer(ctx, s.tag)
}

func (r *GcoreMachineReconciler) createServer(ctx context.Context, svc compute.Service, s *machineScope) (*servers.Server, error) {
	gm, m := s.gm, s.machine
	flavor, err := svc.FindFlavor(ctx, gm.Spec.Flavor)
	if err != nil {
		return nil, err
	}
	wantBM := gm.Spec.Type == infrav1.MachineTypeBareMetal
	if wantBM != flavor.BareMetal {
		kind := map[bool]string{true: "bare-metal", false: "virtual"}
		return nil, fmt.Errorf("%w: type %q needs a %s flavor, but %s is a %s one", compute.ErrInvalidSpec, gm.Spec.Type, kind[wantBM], flavor.Name, kind[flavor.BareMetal])
	}
	kubeVersion := gm.Spec.Image.KubeVersion
	if kubeVersion == "" {
		kubeVersion = m.Spec.Version
	}
	imageID, err := svc.FindImage(ctx, gm.Spec.Image.Name, kubeVersion)
	if err != nil {
		return nil, err
	}
	userData, err := r.bootstrapData(ctx, m)
	if err != nil {
		return nil, err
	}
	spec := compute.ServerSpec{
		Name: gm.Name, Tag: s.tag, ClusterTag: ClusterTag(s.gc.Namespace, s.gc.Name), FlavorID: flavor.ID, ImageID: imageID,
		NetworkID: s.gc.Status.Network.ID, SubnetID: s.gc.Status.Network.Subnet.ID, SecurityGroupID: s.gc.Status.WorkerSecurityGroupID,
		UserData: userData, AvailabilityZone: m.Spec.FailureDomain, ServerGroupID: gm.Spec.ServerGroupID, KeyName: gm.Spec.SSHKeyName,
	}
	portID, err := svc.EnsurePort(ctx, spec)
	if err != nil {
		return nil, err
	}
	gm.Status.PortID = portID
	srv, err := svc.CreateServer(ctx, spec, portID)
	if err != nil {
		return nil, err
	}
	ctrl.LoggerFrom(ctx).Info("created server", "server", srv.ID, "flavor", flavor.Name, "image", imageID)
	return srv, nil
}

// bootstrapData reads the user-data the bootstrap provider wrote for the machine.
func (r *GcoreMachineReconciler) bootstrapData(ctx context.Context, m *clusterv1.Machine) ([]byte, error) {
	var sec corev1.Secret
	key := types.NamespacedName{Namespace: m.Namespace, Name: *m.Spec.Bootstrap.DataSecretName}
	if err := r.Client.Get(ctx, key, &sec); err != nil {
		return nil, fmt.Errorf("reading the bootstrap data secret %s: %w", key, err)
	}
	v, ok := sec.Data["value"]
	if !ok {
		return nil, fmt.Errorf("bootstrap data secret %s has no \"value\" key", key)
	}
	return v, nil
}

// serverAddresses returns the fixed IPv4 addresses Nova reports for a server.
func serverAddresses(srv *servers.Server) []string {
	var out []string
	for _, v := range srv.Addresses {
		list, _ := v.([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			if addr, _ := m["addr"].(string); addr != "" {
				if t, _ := m["OS-EXT-IPS:type"].(string); t == "" || t == "fixed" {
					out = append(out, addr)
				}
			}
		}
	}
	return out
}

func (r *GcoreMachineReconciler) reconcileDelete(ctx context.Context, s *machineScope) (ctrl.Result, error) {
	gm := s.gm
	if !controllerutil.ContainsFinalizer(gm, infrav1.MachineFinalizer) {
		return ctrl.Result{}, nil
	}
	setFalse(gm, infrav1.ReadyCondition, infrav1.DeletingReason, "deleting the server")
	svc, err := r.service(ctx, s)
	if err != nil {
		return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
	}
	srv, err := r.findServer(ctx, svc, s)
	if err != nil {
		return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
	}
	if srv != nil {
		if srv.Status != "DELETED" {
			if err := svc.DeleteServer(ctx, srv.ID); err != nil {
				return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
			}
		}
		gm.Status.InstanceState = "DELETING"
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	done, err := svc.DeletePorts(ctx, s.tag)
	if err != nil {
		return cloudFailure(gm, infrav1.InstanceReadyCondition, err)
	}
	if !done {
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	controllerutil.RemoveFinalizer(gm, infrav1.MachineFinalizer)
	return ctrl.Result{}, nil
}

// replacementWait is how long to wait before replacing a server that failed to build: the
// replacement comes retryShort after the failure, so that InstanceError can be seen and a cloud
// that fails every build is not asked for a new server in a tight loop.
func replacementWait(gm *infrav1.GcoreMachine, now time.Time) time.Duration {
	f := gm.Status.LastFailedServer
	if f == nil || gm.Status.InstanceID != "" {
		return 0
	}
	return max(0, f.FailedAt.Add(retryShort).Sub(now))
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
