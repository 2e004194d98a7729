package controlplane

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/pki"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/workload"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
)

// Network defaults for a Cluster that names none.
const (
	DefaultPodCIDR     = "10.244.0.0/16"
	DefaultServiceCIDR = "10.96.0.0/12"
	DefaultDNSDomain   = "cluster.local"
)

func ownerRef(cp *controlplanev1.GcoreControlPlane) *metav1.OwnerReference {
	return metav1.NewControllerRef(cp, controlplanev1.GroupVersion.WithKind("GcoreControlPlane"))
}

// clusterNetwork reads the Cluster's pod and service ranges and DNS domain, with defaults.
func clusterNetwork(c *clusterv1.Cluster) (pods, services []string, domain string) {
	pods, services, domain = []string{DefaultPodCIDR}, []string{DefaultServiceCIDR}, DefaultDNSDomain
	if c == nil {
		return pods, services, domain
	}
	n := c.Spec.ClusterNetwork
	if len(n.Pods.CIDRBlocks) > 0 {
		pods = n.Pods.CIDRBlocks
	}
	if len(n.Services.CIDRBlocks) > 0 {
		services = n.Services.CIDRBlocks
	}
	if n.ServiceDomain != "" {
		domain = n.ServiceDomain
	}
	return pods, services, domain
}

func (r *GcoreControlPlaneReconciler) reconcilePKI(ctx context.Context, s *scope) (*pki.Result, error) {
	_, services, domain := clusterNetwork(s.cluster)
	res, err := pki.Ensure(ctx, r.Client, pki.Params{
		ClusterName: s.clusterName(), Namespace: s.cp.Namespace, Endpoint: s.cp.Spec.ControlPlaneEndpoint,
		ServiceCIDRs: services, DNSDomain: domain,
	}, *ownerRef(s.cp))
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	return res, nil
}

// rollout is one component's progress.
type rollout struct {
	replicas, ready, available, updated int32
	// matches: the live object's template is the desired one (images and certificates).
	matches bool
	// done: it matches and every replica runs that template and is ready.
	done bool
}

// podsState is every component's progress.
type podsState struct {
	etcd, apiServer, controllerManager, scheduler rollout
	// version is the oldest version the components run.
	version string
}

func (s podsState) allReady() bool {
	return s.etcd.done && s.apiServer.done && s.controllerManager.done && s.scheduler.done
}

func (r *GcoreControlPlaneReconciler) build(s *scope, version string, p *pki.Result) (*manifests.Objects, error) {
	pods, services, domain := clusterNetwork(s.cluster)
	return manifests.Build(manifests.Params{
		ClusterName: s.clusterName(), Namespace: s.cp.Namespace, Version: version,
		Replicas: ptr.Deref(s.cp.Spec.Replicas, 0), Etcd: s.cp.Spec.Etcd, Resources: s.cp.Spec.Resources,
		PodCIDRs: pods, ServiceCIDRs: services, DNSDomain: domain,
		AdvertiseAddress: s.cp.Spec.ControlPlaneEndpoint.Host, PKI: p, VPN: s.vpnClient, Owner: ownerRef(s.cp),
	})
}

// reconcilePods applies the components. On a version change it moves one component at a time:
// etcd first, the apiserver once every etcd member runs the new version, the controller-manager
// and scheduler once every apiserver does.
func (r *GcoreControlPlaneReconciler) reconcilePods(ctx context.Context, s *scope, p *pki.Result) (podsState, error) {
	target := s.cp.Spec.Version
	prev := s.cp.Status.Version
	if prev == "" {
		prev = target
	}
	want, err := r.build(s, target, p)
	if err != nil {
		return podsState{}, err
	}
	old := want
	if prev != target {
		if old, err = r.build(s, prev, p); err != nil {
			return podsState{}, err
		}
	}

	var st podsState
	etcdLive, err := r.statefulSet(ctx, s.cp.Namespace, want.Etcd.Name)
	if err != nil {
		return st, err
	}
	st.etcd = statefulSetRollout(etcdLive, want.Etcd)
	apiServer := want.APIServer
	if prev != target && !st.etcd.done {
		apiServer = old.APIServer
	}
	apiLive, err := r.deployment(ctx, s.cp.Namespace, want.APIServer.Name)
	if err != nil {
		return st, err
	}
	st.apiServer = deploymentRollout(apiLive, want.APIServer)
	cm, sched := want.ControllerManager, want.Scheduler
	if prev != target && !st.apiServer.done {
		cm, sched = old.ControllerManager, old.Scheduler
	}
	cmLive, err := r.deployment(ctx, s.cp.Namespace, want.ControllerManager.Name)
	if err != nil {
		return st, err
	}
	schedLive, err := r.deployment(ctx, s.cp.Namespace, want.Scheduler.Name)
	if err != nil {
		return st, err
	}
	// Start order: an apiserver started before etcd answers crash-loops, and kubelet's growing
	// back-off then delays it long after etcd is up; kube-scheduler started before any
	// apiserver answers can hang waiting for its caches (seen here: alive, never ready). So the
	// apiserver is made once an etcd member is ready, the controller-manager and the scheduler
	// once an apiserver is; after that each is kept up to date like the rest.
	objs := []client.Object{want.EtcdService, want.EtcdClientService, want.Etcd, want.APIServerService}
	if st.etcd.ready > 0 || apiLive != nil {
		objs = append(objs, apiServer)
	}
	if st.apiServer.ready > 0 || cmLive != nil || schedLive != nil {
		objs = append(objs, cm, sched)
	}
	if err := workload.Apply(ctx, r.Client, objs, FieldOwner); err != nil {
		return st, fmt.Errorf("applying the control plane's pods: %w", err)
	}
	if cmLive, err = r.deployment(ctx, s.cp.Namespace, want.ControllerManager.Name); err != nil {
		return st, err
	}
	st.controllerManager = deploymentRollout(cmLive, want.ControllerManager)
	if schedLive, err = r.deployment(ctx, s.cp.Namespace, want.Scheduler.Name); err != nil {
		return st, err
	}
	st.scheduler = deploymentRollout(schedLive, want.Scheduler)
	st.version = prev
	if st.allReady() {
		st.version = target
	}
	return st, nil
}

func (r *GcoreControlPlaneReconciler) statefulSet(ctx context.Context, ns, name string) (*appsv1.StatefulSet, error) {
	var o appsv1.StatefulSet
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &o); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading StatefulSet %s: %w", name, err)
	}
	return &o, nil
}

func (r *GcoreControlPlaneReconciler) deployment(ctx context.Context, ns, name string) (*appsv1.Deployment, error) {
	var o appsv1.Deployment
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &o); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Deployment %s: %w", name, err)
	}
	return &o, nil
}

// sameTemplate compares what decides whether pods must be replaced: images and the config hash.
func sameTemplate(live, want *metav1.ObjectMeta, liveImages, wantImages []string) bool {
	for _, a := range []string{manifests.ConfigHashAnnotation, vpn.ConfigHashAnnotation} {
		if live.Annotations[a] != want.Annotations[a] {
			return false
		}
	}
	if len(liveImages) != len(wantImages) {
		return false
	}
	for i := range liveImages {
		if liveImages[i] != wantImages[i] {
			return false
		}
	}
	return true
}

func containerImages(cs []corev1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Image)
	}
	return out
}

func statefulSetRollout(live, want *appsv1.StatefulSet) rollout {
	if live == nil {
		return rollout{replicas: ptr.Deref(want.Spec.Replicas, 1)}
	}
	r := rollout{replicas: ptr.Deref(live.Spec.Replicas, 1), ready: live.Status.ReadyReplicas, available: live.Status.AvailableReplicas, updated: live.Status.UpdatedReplicas}
	r.matches = sameTemplate(&live.Spec.Template.ObjectMeta, &want.Spec.Template.ObjectMeta, containerImages(live.Spec.Template.Spec.Containers), containerImages(want.Spec.Template.Spec.Containers))
	r.done = r.matches && live.Status.ObservedGeneration >= live.Generation &&
		live.Status.UpdatedReplicas == r.replicas && r.ready == r.replicas &&
		(live.Status.UpdateRevision == "" || live.Status.CurrentRevision == live.Status.UpdateRevision)
	return r
}

func deploymentRollout(live, want *appsv1.Deployment) rollout {
	if live == nil {
		return rollout{replicas: ptr.Deref(want.Spec.Replicas, 1)}
	}
	r := rollout{replicas: ptr.Deref(live.Spec.Replicas, 1), ready: live.Status.ReadyReplicas, available: live.Status.AvailableReplicas, updated: live.Status.UpdatedReplicas}
	r.matches = sameTemplate(&live.Spec.Template.ObjectMeta, &want.Spec.Template.ObjectMeta, containerImages(live.Spec.Template.Spec.Containers), containerImages(want.Spec.Template.Spec.Containers))
	r.done = r.matches && live.Status.ObservedGeneration >= live.Generation &&
		r.updated == r.replicas && r.available == r.replicas && live.Status.Replicas == r.replicas
	return r
}

// updateStatus reports replicas, version and per-component conditions.
func (r *GcoreControlPlaneReconciler) updateStatus(s *scope, st podsState) {
	cp := s.cp
	api := st.apiServer
	cp.Status.Replicas = ptr.To(api.replicas)
	cp.Status.ReadyReplicas = ptr.To(api.ready)
	cp.Status.AvailableReplicas = ptr.To(api.available)
	upToDate := int32(0)
	if api.matches {
		upToDate = api.updated
	}
	cp.Status.UpToDateReplicas = ptr.To(upToDate)
	cp.Status.EtcdReadyReplicas = ptr.To(st.etcd.ready)
	cp.Status.Selector = labels.SelectorFromSet(manifests.SelectorLabels(s.clusterName(), manifests.APIServer)).String()
	cp.Status.Version = st.version

	report := func(t string, ro rollout, what string) {
		switch {
		case ro.done:
			setTrue(cp, t)
		case cp.Status.Version != cp.Spec.Version && ro.ready > 0:
			setFalse(cp, t, controlplanev1.UpgradingReason, "%s: %d of %d updated to %s, %d ready", what, ro.updated, ro.replicas, cp.Spec.Version, ro.ready)
		default:
			setFalse(cp, t, controlplanev1.ScalingReason, "%s: %d of %d ready", what, ro.ready, ro.replicas)
		}
	}
	report(controlplanev1.EtcdReadyCondition, st.etcd, "etcd members")
	report(controlplanev1.APIServerReadyCondition, st.apiServer, "apiserver pods")
	report(controlplanev1.ControllerManagerReadyCondition, st.controllerManager, "controller-manager")
	report(controlplanev1.SchedulerReadyCondition, st.scheduler, "scheduler")
}
