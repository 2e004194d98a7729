package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/cluster-api/util/paused"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/bootstrap/cloudinit"
	"github.com/kaas-sandbox/sandbox/providers/bootstrap/webhooks"
	"github.com/kaas-sandbox/sandbox/providers/workloadclient"
)

// Condition reasons of this controller beyond the API's.
const (
	// InvalidConfigReason: the spec cannot make a working node (webhooks off or bypassed);
	// nothing happens until it is fixed.
	InvalidConfigReason = "InvalidConfig"
	// DataSecretConflictReason: a Secret with the data secret's name exists but is not this
	// config's, or its token is unreadable.
	DataSecretConflictReason = "DataSecretConflict"
)

// waitRequeue is how often a config waiting for its Cluster looks again (the Cluster watch
// usually brings it back sooner).
const waitRequeue = 20 * time.Second

// GcoreConfigReconciler makes the bootstrap data of GcoreConfigs.
type GcoreConfigReconciler struct {
	// Client reads and writes the management cluster.
	Client client.Client
	// Workload gives clients for workload clusters, where bootstrap tokens live.
	Workload workloadclient.Getter
	// TokenTTL is a bootstrap token's validity; DefaultTokenTTL when zero.
	TokenTTL time.Duration

	// apiReader reads data secrets past the cache (so a secret just created is never made
	// twice); SetupWithManager sets it, Client stands in when it is nil.
	apiReader client.Reader
	// now is the clock, time.Now when nil.
	now func() time.Time
}

// scope is what one reconcile works on.
type scope struct {
	config  *bootstrapv1.GcoreConfig
	machine *clusterv1.Machine
	cluster *clusterv1.Cluster
}

// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigs/status;gcoreconfigs/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters;machines,verbs=get;list;watch
// +kubebuilder:rbac:groups=infrastructure.cluster.x-k8s.io,resources=gcoremachines,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch

// Reconcile makes or refreshes the bootstrap data of one GcoreConfig.
func (r *GcoreConfigReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, rerr error) {
	log := ctrl.LoggerFrom(ctx)

	cfg := &bootstrapv1.GcoreConfig{}
	if err := r.Client.Get(ctx, req.NamespacedName, cfg); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading GcoreConfig %s: %w", req.NamespacedName, err)
	}
	if !cfg.DeletionTimestamp.IsZero() {
		// The data secret goes with its owner; the token expires on its own.
		return ctrl.Result{}, nil
	}

	machine, err := util.GetOwnerMachine(ctx, r.Client, cfg.ObjectMeta)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("reading the Machine owning GcoreConfig %s: %w", req.NamespacedName, err)
	}
	if machine == nil {
		log.V(4).Info("Waiting for a Machine to own the GcoreConfig")
		return ctrl.Result{}, nil
	}
	if machine.Spec.ClusterName == "" {
		log.Info("The owner Machine names no Cluster", "Machine", klog.KObj(machine))
		return ctrl.Result{}, nil
	}
	log = log.WithValues("Machine", klog.KObj(machine), "Cluster", klog.KRef(machine.Namespace, machine.Spec.ClusterName))
	ctx = ctrl.LoggerInto(ctx, log)

	cluster, err := util.GetClusterByName(ctx, r.Client, machine.Namespace, machine.Spec.ClusterName)
	if apierrors.IsNotFound(err) {
		log.Info("Waiting for the Cluster to exist")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the Cluster of GcoreConfig %s: %w", req.NamespacedName, err)
	}

	if isPaused, requeue, err := paused.EnsurePausedCondition(ctx, r.Client, cluster, cfg); err != nil || isPaused || requeue {
		if err != nil {
			err = fmt.Errorf("setting the Paused condition of GcoreConfig %s: %w", req.NamespacedName, err)
		}
		return ctrl.Result{}, err
	}

	helper, err := patch.NewHelper(cfg, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("making a patch helper for GcoreConfig %s: %w", req.NamespacedName, err)
	}
	defer func() {
		cfg.Status.ObservedGeneration = cfg.Generation
		if err := helper.Patch(ctx, cfg, patch.WithOwnedConditions{Conditions: []string{
			bootstrapv1.ReadyCondition, bootstrapv1.DataSecretAvailableCondition, clusterv1.PausedCondition,
		}}); err != nil {
			rerr = errors.Join(rerr, fmt.Errorf("patching GcoreConfig %s: %w", req.NamespacedName, err))
		}
	}()

	return r.reconcileNormal(ctx, &scope{config: cfg, machine: machine, cluster: cluster})
}

func (r *GcoreConfigReconciler) reconcileNormal(ctx context.Context, s *scope) (ctrl.Result, error) {
	cfg, cluster := s.config, s.cluster

	switch {
	case !ptr.Deref(cluster.Status.Initialization.InfrastructureProvisioned, false):
		setNotReady(cfg, bootstrapv1.WaitingForClusterReason, "Waiting for the Cluster's infrastructure to be provisioned")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	case !ptr.Deref(cluster.Status.Initialization.ControlPlaneInitialized, false):
		setNotReady(cfg, bootstrapv1.WaitingForControlPlaneReason, "Waiting for the control plane to be initialized")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	case !cluster.Spec.ControlPlaneEndpoint.IsValid():
		setNotReady(cfg, bootstrapv1.WaitingForControlPlaneReason, "Waiting for the Cluster's control plane endpoint")
		return ctrl.Result{RequeueAfter: waitRequeue}, nil
	}

	dataSecret, err := getDataSecret(ctx, r.reader(), cfg)
	if err != nil {
		return ctrl.Result{}, err
	}
	var token bootstrapToken
	if dataSecret == nil {
		var res *ctrl.Result
		token, res, err = r.createDataSecret(ctx, s)
		if res != nil || err != nil {
			return ptr.Deref(res, ctrl.Result{}), err
		}
	} else {
		token, err = tokenFromDataSecret(dataSecret, cfg)
		if err != nil {
			setNotReady(cfg, DataSecretConflictReason, err.Error())
			return ctrl.Result{}, err
		}
	}

	var requeue time.Duration
	if !s.machine.Status.NodeRef.IsDefined() {
		requeue, err = r.ensureToken(ctx, s, token)
		if err != nil {
			setTokenError(cfg, err)
			return ctrl.Result{}, err
		}
	}

	cfg.Status.DataSecretName = ptr.To(dataSecretKey(cfg).Name)
	cfg.Status.Initialization.DataSecretCreated = ptr.To(true)
	for _, t := range []string{bootstrapv1.DataSecretAvailableCondition, bootstrapv1.ReadyCondition} {
		conditions.Set(cfg, metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: bootstrapv1.ReadyReason})
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// createDataSecret renders the user-data with a new token and stores both. A non-nil result
// means the config is not ready for it (its condition says why).
func (r *GcoreConfigReconciler) createDataSecret(ctx context.Context, s *scope) (bootstrapToken, *ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	cfg, cluster := s.config, s.cluster

	if errs := webhooks.ValidateSpec(&cfg.Spec, field.NewPath("spec")); len(errs) > 0 {
		setNotReady(cfg, InvalidConfigReason, errs.ToAggregate().Error())
		return bootstrapToken{}, &ctrl.Result{}, nil
	}
	hashes, err := caCertHashes(ctx, r.Client, cluster)
	if errors.Is(err, errCANotReady) {
		setNotReady(cfg, bootstrapv1.WaitingForControlPlaneReason, "Waiting for the cluster CA: "+err.Error())
		return bootstrapToken{}, &ctrl.Result{RequeueAfter: waitRequeue}, nil
	}
	if err != nil {
		return bootstrapToken{}, nil, err
	}
	typ, err := nodeType(ctx, r.Client, s.machine)
	if err != nil {
		return bootstrapToken{}, nil, err
	}
	token, err := newBootstrapToken()
	if err != nil {
		return bootstrapToken{}, nil, err
	}
	ep := cluster.Spec.ControlPlaneEndpoint
	userData, err := cloudinit.Render(cloudinit.Input{
		APIServerEndpoint: net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port))),
		Token:             token.String(),
		CACertHashes:      hashes,
		NodeType:          typ,
		Spec:              cfg.Spec,
	})
	if err != nil {
		setNotReady(cfg, InvalidConfigReason, err.Error())
		return bootstrapToken{}, &ctrl.Result{}, nil
	}
	secret, err := newDataSecret(cfg, cluster.Name, userData, token, r.Client.Scheme())
	if err != nil {
		return bootstrapToken{}, nil, err
	}
	if err := r.Client.Create(ctx, secret); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Made by a reconcile this one did not see; take it from the next one.
			return bootstrapToken{}, &ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return bootstrapToken{}, nil, fmt.Errorf("creating bootstrap data secret %s: %w", client.ObjectKeyFromObject(secret), err)
	}
	log.Info("Created the bootstrap data secret", "Secret", klog.KObj(secret), "tokenID", token.ID, "nodeType", typ)
	return token, nil, nil
}

// ensureToken keeps the config's token alive in the workload cluster and returns when to
// look again.
func (r *GcoreConfigReconciler) ensureToken(ctx context.Context, s *scope, token bootstrapToken) (time.Duration, error) {
	wc, err := r.Workload.Client(ctx, client.ObjectKeyFromObject(s.cluster))
	if err != nil {
		return 0, fmt.Errorf("reaching the workload cluster of %s/%s: %w", s.cluster.Namespace, s.cluster.Name, err)
	}
	k := tokenKeeper{
		c:           wc,
		ttl:         r.tokenTTL(),
		now:         r.clock(),
		description: fmt.Sprintf("Bootstrap token of GcoreConfig %s/%s", s.config.Namespace, s.config.Name),
	}
	return k.ensure(ctx, token)
}

func (r *GcoreConfigReconciler) tokenTTL() time.Duration {
	if r.TokenTTL > 0 {
		return r.TokenTTL
	}
	return DefaultTokenTTL
}

func (r *GcoreConfigReconciler) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

func (r *GcoreConfigReconciler) reader() client.Reader {
	if r.apiReader != nil {
		return r.apiReader
	}
	return r.Client
}

// setNotReady marks the data secret unavailable, and so the config not ready.
func setNotReady(cfg *bootstrapv1.GcoreConfig, reason, message string) {
	for _, t := range []string{bootstrapv1.DataSecretAvailableCondition, bootstrapv1.ReadyCondition} {
		conditions.Set(cfg, metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: message})
	}
}

// setTokenError reports a failure to make or extend the token. A data secret already handed
// out stays available (the Machine may be booting with it); the config is not Ready.
func setTokenError(cfg *bootstrapv1.GcoreConfig, err error) {
	if ptr.Deref(cfg.Status.Initialization.DataSecretCreated, false) {
		conditions.Set(cfg, metav1.Condition{
			Type: bootstrapv1.ReadyCondition, Status: metav1.ConditionFalse,
			Reason: bootstrapv1.TokenErrorReason, Message: err.Error(),
		})
		return
	}
	setNotReady(cfg, bootstrapv1.TokenErrorReason, err.Error())
}
