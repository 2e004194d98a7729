package controlplane_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/controlplane"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
	"github.com/kaas-sandbox/sandbox/providers/workloadclient"
	"github.com/kaas-sandbox/sandbox/versions"
)

// fixture: a real API server standing for both the service cluster and the customer cluster,
// and a fakecloud on its memory backend. There is no kubelet, so the test plays the pods'
// part by setting the StatefulSet's and Deployments' status.
type fixture struct {
	t      *testing.T
	env    *testenv.Env
	scheme *runtime.Scheme
	c      client.Client
	cloud  *cloudtest.Harness
	ns     string
	// stop stops the running manager (startManager's).
	stop func()
	// prober stands for the apiserver pods' tunnel probe (there is no kubelet to reach).
	prober *fakeProber
}

// fakeProber records the probes and answers err.
type fakeProber struct {
	mu    sync.Mutex
	err   error
	calls []string
}

func (p *fakeProber) Probe(_ context.Context, _ *rest.Config, podIP string, _ int, node string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, podIP+"->"+node)
	return p.err
}

func (p *fakeProber) set(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *fakeProber) called(call string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.calls, call)
}

// startManager runs the control plane controller until stop is called or the test ends.
func (f *fixture) startManager() (stop func()) {
	f.t.Helper()
	return f.env.StartManager(f.t, f.scheme, func(ctx context.Context, mgr ctrl.Manager) error {
		r := &controlplane.GcoreControlPlaneReconciler{
			Client: mgr.GetClient(), Clouds: cloudclient.NewFactory(mgr.GetAPIReader()), Workload: workloadclient.Static{C: f.env.Client},
			Tunnel: f.prober, TunnelCheckEvery: time.Second,
			// The test API server is the service and the customer cluster at once: its own
			// Service range is the customer's too, so only the service node's address is reserved.
			Reserved: func(context.Context) ([]vpn.Reserved, error) {
				return []vpn.Reserved{{Name: "service-cluster node service-node-1", CIDR: "172.24.4.50/32"}}, nil
			},
		}
		return r.SetupWithManager(ctx, mgr, controller.Options{SkipNameValidation: ptr.To(true)})
	})
}

func (f *fixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	f.t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds (testenv.Eventually).
func (f *fixture) eventually(what string, timeout time.Duration, cond func() (bool, string)) {
	f.t.Helper()
	testenv.Eventually(f.t, what, timeout, cond)
}

func conditionOf(cp *controlplanev1.GcoreControlPlane, t string) string {
	for _, c := range cp.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason + ": " + c.Message
		}
	}
	return "<none>"
}

func TestControlPlane(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{CRDDirs: append(testenv.ClusterAPICRDDirs(t), testenv.ProjectCRDDir(t)), Scheme: s})
	// One service-cluster node, on the external network.
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "service-node-1", Annotations: map[string]string{controlplane.MemberAddressAnnotation: "172.24.4.50"}}}
	if err := env.Client.Create(context.Background(), node); err != nil {
		t.Fatal(err)
	}
	for name, test := range map[string]func(*fixture){
		"LifecycleAndUpgrade":   testLifecycleAndUpgrade,
		"LoadBalancerInError":   testLoadBalancerInError,
		"OctaviaDownAtCreation": testOctaviaDownAtCreation,
		"RestartMidCreate":      testRestartMidCreate,
		"Tunnel":                testTunnel,
	} {
		t.Run(name, func(t *testing.T) {
			f := &fixture{t: t, env: env, scheme: s, c: env.Client, cloud: cloudtest.Start(t), ns: strings.ToLower(name), prober: &fakeProber{}}
			if err := f.c.Create(f.ctx(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}); err != nil {
				t.Fatal(err)
			}
			if err := f.c.Create(f.ctx(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cloud", Namespace: f.ns}, Data: map[string][]byte{cloudclient.CloudsYAMLKey: []byte(f.cloud.CloudsYAML())}}); err != nil {
				t.Fatal(err)
			}
			f.stop = f.startManager()
			test(f)
		})
	}
}

// newControlPlane makes a Cluster and its GcoreControlPlane (named differently, as in
// Cluster API's own templates, so names must come from the Cluster).
func (f *fixture) newControlPlane(cluster, version string) *controlplanev1.GcoreControlPlane {
	f.t.Helper()
	gc := &infrav1.GcoreCluster{
		ObjectMeta: metav1.ObjectMeta{Name: cluster, Namespace: f.ns},
		Spec: infrav1.GcoreClusterSpec{
			IdentityRef: infrav1.IdentityReference{Name: "cloud", CloudName: cloudtest.Demo},
			Network:     infrav1.NetworkSpec{CIDR: "10.6.0.0/24"},
		},
	}
	if err := f.c.Create(f.ctx(), gc); err != nil {
		f.t.Fatal(err)
	}
	cl := &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: cluster, Namespace: f.ns},
		Spec: clusterv1.ClusterSpec{
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreCluster", Name: cluster},
			ClusterNetwork:    clusterv1.ClusterNetwork{Pods: clusterv1.NetworkRanges{CIDRBlocks: []string{"10.244.0.0/16"}}, Services: clusterv1.NetworkRanges{CIDRBlocks: []string{"10.0.0.0/24"}}}, // envtest's own service range: the test API server stands in for the customer cluster
			ControlPlaneRef:   clusterv1.ContractVersionedObjectReference{APIGroup: controlplanev1.GroupVersion.Group, Kind: "GcoreControlPlane", Name: cluster + "-control-plane"},
		},
	}
	if err := f.c.Create(f.ctx(), cl); err != nil {
		f.t.Fatal(err)
	}
	cp := &controlplanev1.GcoreControlPlane{
		ObjectMeta: metav1.ObjectMeta{
			Name: cluster + "-control-plane", Namespace: f.ns, Labels: map[string]string{clusterv1.ClusterNameLabel: cluster},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: clusterv1.GroupVersion.String(), Kind: "Cluster", Name: cluster, UID: cl.UID}},
		},
		Spec: controlplanev1.GcoreControlPlaneSpec{
			Version: version, Replicas: ptr.To[int32](2), Etcd: controlplanev1.EtcdSpec{Replicas: 3},
			IdentityRef: controlplanev1.IdentityReference{Name: "cloud", CloudName: cloudtest.Demo},
		},
	}
	if err := f.c.Create(f.ctx(), cp); err != nil {
		f.t.Fatal(err)
	}
	return cp
}

func (f *fixture) get(obj client.Object) error {
	return f.c.Get(f.ctx(), client.ObjectKeyFromObject(obj), obj)
}

// waitEndpoint waits until the control plane has a VIP and names its load balancer (spec and
// status are written one after the other).
func (f *fixture) waitEndpoint(cp *controlplanev1.GcoreControlPlane) {
	f.t.Helper()
	f.eventually("controlPlaneEndpoint and status.loadBalancerID set", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		return cp.Spec.ControlPlaneEndpoint.IsValid() && cp.Status.LoadBalancerID != "", conditionOf(cp, controlplanev1.EndpointReadyCondition)
	})
}

// rollOut plays kubelet and the workload controllers: every component that exists reports all
// replicas updated and ready at its current template.
func (f *fixture) rollOut(cluster string) {
	f.t.Helper()
	var sts appsv1.StatefulSet
	err := f.setStatus(cluster+"-etcd", &sts, func() {
		n := ptr.Deref(sts.Spec.Replicas, 1)
		rev := fmt.Sprintf("rev-%d", sts.Generation)
		sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n, UpdatedReplicas: n, CurrentReplicas: n, CurrentRevision: rev, UpdateRevision: rev}
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, name := range []string{"-apiserver", "-controller-manager", "-scheduler"} {
		var d appsv1.Deployment
		err := f.setStatus(cluster+name, &d, func() {
			n := ptr.Deref(d.Spec.Replicas, 1)
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n, UpdatedReplicas: n}
		})
		if apierrors.IsNotFound(err) {
			continue // the controller-manager and scheduler come once an apiserver is ready
		}
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

// setStatus reads the object name of the test's namespace into obj, lets set fill its status
// and writes the status, from a fresh read again on a conflict: the controller changes these
// objects while the test plays their pods.
func (f *fixture) setStatus(name string, obj client.Object, set func()) error {
	ctx := f.ctx()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := f.c.Get(ctx, types.NamespacedName{Namespace: f.ns, Name: name}, obj); err != nil {
			return err
		}
		set()
		return f.c.Status().Update(ctx, obj)
	})
}

// rollOutUntilReady plays the pods' part (rollOut) until the control plane is initialized and
// Ready, once its etcd StatefulSet exists.
func (f *fixture) rollOutUntilReady(cp *controlplanev1.GcoreControlPlane, cluster string, timeout time.Duration) {
	f.t.Helper()
	f.eventually("Ready and initialized", timeout, func() (bool, string) {
		var etcd appsv1.StatefulSet
		if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: cluster + "-etcd"}, &etcd); err != nil {
			return false, "etcd: " + err.Error()
		}
		f.rollOut(cluster)
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		return ptr.Deref(cp.Status.Initialization.ControlPlaneInitialized, false) && strings.HasPrefix(conditionOf(cp, controlplanev1.ReadyCondition), "True"),
			conditionOf(cp, controlplanev1.ReadyCondition)
	})
}

func (f *fixture) image(kind, name string) string {
	f.t.Helper()
	key := types.NamespacedName{Namespace: f.ns, Name: name}
	var spec corev1.PodSpec
	switch kind {
	case "sts":
		var o appsv1.StatefulSet
		if err := f.c.Get(f.ctx(), key, &o); err != nil {
			f.t.Fatal(err)
		}
		spec = o.Spec.Template.Spec
	default:
		var o appsv1.Deployment
		if err := f.c.Get(f.ctx(), key, &o); err != nil {
			f.t.Fatal(err)
		}
		spec = o.Spec.Template.Spec
	}
	return spec.Containers[0].Image
}

func (f *fixture) loadBalancer(id string) (*loadbalancers.LoadBalancer, []pools.Member) {
	f.t.Helper()
	lbc := f.cloud.Client(f.t, cloudtest.Demo, "load-balancer")
	lb, err := loadbalancers.Get(context.Background(), lbc, id).Extract()
	if err != nil {
		f.t.Fatalf("load balancer %s: %v", id, err)
	}
	if len(lb.Pools) == 0 {
		return lb, nil
	}
	pages, err := pools.ListMembers(lbc, lb.Pools[0].ID, pools.ListMembersOpts{}).AllPages(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	ms, _ := pools.ExtractMembers(pages)
	return lb, ms
}

// testLifecycleAndUpgrade: the load balancer with the node as member and its VIP as endpoint,
// the PKI and pods, the join objects in the customer cluster, Ready; an upgrade rolls etcd,
// then the apiserver, then the rest; deletion removes the load balancer.
func testLifecycleAndUpgrade(f *fixture) {
	t := f.t
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	v0, v1 := l.Kubernetes[0], l.Kubernetes[1]
	cp := f.newControlPlane("alpha", v0.Version)
	f.waitEndpoint(cp)
	if cp.Spec.ControlPlaneEndpoint.Port != 6443 || !strings.HasPrefix(cp.Spec.ControlPlaneEndpoint.Host, "172.24.4.") {
		t.Errorf("endpoint %+v: want a VIP on the external network 172.24.4.0/24, port 6443", cp.Spec.ControlPlaneEndpoint)
	}
	var svc corev1.Service
	if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "alpha-apiserver"}, &svc); err != nil {
		t.Fatal(err)
	}
	lb, members := f.loadBalancer(cp.Status.LoadBalancerID)
	if lb.VipAddress != cp.Spec.ControlPlaneEndpoint.Host || len(members) != 1 || members[0].Address != "172.24.4.50" || int32(members[0].ProtocolPort) != svc.Spec.Ports[0].NodePort {
		t.Errorf("load balancer VIP %s members %+v: want the endpoint's VIP and one member 172.24.4.50:%d", lb.VipAddress, members, svc.Spec.Ports[0].NodePort)
	}
	for _, name := range []string{"alpha-ca", "alpha-etcd", "alpha-sa", "alpha-proxy", "alpha-kubeconfig"} {
		var sec corev1.Secret
		if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: name}, &sec); err != nil {
			t.Errorf("secret %s (Cluster API's conventions): %v", name, err)
		}
	}
	f.eventually("pods made, not ready", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		c := conditionOf(cp, controlplanev1.EtcdReadyCondition)
		return strings.HasPrefix(c, "False/Scaling"), c
	})
	if got := f.image("sts", "alpha-etcd"); !strings.HasSuffix(got, ":"+v0.Etcd) {
		t.Errorf("etcd image %s, want tag %s", got, v0.Etcd)
	}
	if ptr.Deref(cp.Status.Initialization.ControlPlaneInitialized, false) {
		t.Fatal("initialized before any apiserver pod is ready")
	}

	// Start order: nothing but etcd before an etcd member is ready.
	for _, name := range []string{"alpha-apiserver", "alpha-controller-manager", "alpha-scheduler"} {
		var d appsv1.Deployment
		if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: name}, &d); !apierrors.IsNotFound(err) {
			t.Fatalf("%s was made before any etcd member was ready (get: %v)", name, err)
		}
	}
	f.rollOutUntilReady(cp, "alpha", 30*time.Second) // the apiserver first; the controller-manager and scheduler follow
	if !ptr.Deref(cp.Status.ExternalManagedControlPlane, false) {
		t.Error("status.externalManagedControlPlane is not true: Cluster API would keep the Nodes of deleted worker Machines")
	}
	if cp.Status.Version != v0.Version || ptr.Deref(cp.Status.UpToDateReplicas, 0) != 2 || ptr.Deref(cp.Status.ReadyReplicas, 0) != 2 || cp.Status.Selector == "" {
		t.Errorf("status: version %s, upToDate %v, ready %v, selector %q", cp.Status.Version, cp.Status.UpToDateReplicas, cp.Status.ReadyReplicas, cp.Status.Selector)
	}
	var ci corev1.ConfigMap
	if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: "kube-public", Name: "cluster-info"}, &ci); err != nil {
		t.Errorf("cluster-info in the customer cluster: %v", err)
	} else if !strings.Contains(ci.Data["kubeconfig"], cp.Spec.ControlPlaneEndpoint.Host) {
		t.Errorf("cluster-info names no VIP: %s", ci.Data["kubeconfig"])
	}

	// Every apiserver pod down: Ready and Available follow, then come back with the pods.
	var api appsv1.Deployment
	if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "alpha-apiserver"}, &api); err != nil {
		t.Fatal(err)
	}
	// Patches, not updates: the controller writes these objects too, so an update could conflict.
	apiBefore := api.DeepCopy()
	api.Status.ReadyReplicas, api.Status.AvailableReplicas = 0, 0
	if err := f.c.Status().Patch(f.ctx(), &api, client.MergeFrom(apiBefore)); err != nil {
		t.Fatal(err)
	}
	f.eventually("not Ready, not Available without a ready apiserver", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		ready, avail := conditionOf(cp, controlplanev1.ReadyCondition), conditionOf(cp, controlplanev1.AvailableCondition)
		return strings.HasPrefix(ready, "False") && strings.HasPrefix(avail, "False"), ready + "; " + avail
	})
	f.rollOutUntilReady(cp, "alpha", 30*time.Second)

	// Upgrade one minor: etcd first.
	cpBefore := cp.DeepCopy()
	cp.Spec.Version = v1.Version
	if err := f.c.Patch(f.ctx(), cp, client.MergeFrom(cpBefore)); err != nil {
		t.Fatal(err)
	}
	f.eventually("etcd on the new version first", 30*time.Second, func() (bool, string) {
		img := f.image("sts", "alpha-etcd")
		return strings.HasSuffix(img, ":"+v1.Etcd), img
	})
	if img := f.image("deploy", "alpha-apiserver"); !strings.HasSuffix(img, ":"+v0.Version) {
		t.Fatalf("the apiserver moved to %s before etcd rolled out", img)
	}
	f.rollOut("alpha")
	f.eventually("then the apiserver", 30*time.Second, func() (bool, string) {
		img := f.image("deploy", "alpha-apiserver")
		return strings.HasSuffix(img, ":"+v1.Version), img
	})
	if img := f.image("deploy", "alpha-controller-manager"); !strings.HasSuffix(img, ":"+v0.Version) {
		t.Fatalf("the controller-manager moved to %s before the apiserver rolled out", img)
	}
	if err := f.get(cp); err != nil {
		t.Fatal(err)
	}
	if cp.Status.Version != v0.Version {
		t.Errorf("status.version %s during the upgrade, want the oldest running, %s", cp.Status.Version, v0.Version)
	}
	f.rollOut("alpha")
	f.eventually("then controller-manager and scheduler", 30*time.Second, func() (bool, string) {
		img := f.image("deploy", "alpha-scheduler")
		return strings.HasSuffix(img, ":"+v1.Version), img
	})
	f.rollOut("alpha")
	f.eventually("status.version moves on", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		return cp.Status.Version == v1.Version, cp.Status.Version
	})

	lbID := cp.Status.LoadBalancerID
	if err := f.c.Delete(f.ctx(), cp); err != nil {
		t.Fatal(err)
	}
	f.eventually("control plane gone", 30*time.Second, func() (bool, string) {
		err := f.get(cp)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if _, err := loadbalancers.Get(context.Background(), f.cloud.Client(t, cloudtest.Demo, "load-balancer"), lbID).Extract(); err == nil {
		t.Errorf("load balancer %s still exists after the control plane was deleted", lbID)
	}
}

// testLoadBalancerInError: Octavia leaves the load balancer in ERROR (what once needed a hand
// in Magnum's database); the controller replaces it on the same VIP, so the endpoint holds.
func testLoadBalancerInError(f *fixture) {
	t := f.t
	l, _ := versions.Load()
	cp := f.newControlPlane("beta", l.Newest().Version)
	f.waitEndpoint(cp)
	firstID, vip := cp.Status.LoadBalancerID, cp.Spec.ControlPlaneEndpoint.Host
	f.eventually("endpoint ready", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		c := conditionOf(cp, controlplanev1.EndpointReadyCondition)
		return strings.HasPrefix(c, "True"), c
	})

	// The next change to the load balancer hangs, then fails: a member update when a node joins.
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeStuck, Service: "load-balancer", Operation: loadbalancer.TaskUpdate, StuckFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "service-node-2", Annotations: map[string]string{controlplane.MemberAddressAnnotation: "172.24.4.51"}}}
	if err := f.c.Create(f.ctx(), node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.c.Delete(context.Background(), node) })
	f.waitLoadBalancerInError("the load balancer", firstID)
	if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	f.eventually("a new load balancer on the same VIP, with both nodes", 60*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		if cp.Status.LoadBalancerID == firstID {
			return false, "still the first load balancer: " + conditionOf(cp, controlplanev1.EndpointReadyCondition)
		}
		lb, members := f.loadBalancer(cp.Status.LoadBalancerID)
		return lb.ProvisioningStatus == "ACTIVE" && len(members) == 2, fmt.Sprintf("%s, %d members", lb.ProvisioningStatus, len(members))
	})
	if cp.Spec.ControlPlaneEndpoint.Host != vip {
		t.Errorf("the endpoint moved from %s to %s", vip, cp.Spec.ControlPlaneEndpoint.Host)
	}
	lb, _ := f.loadBalancer(cp.Status.LoadBalancerID)
	if lb.VipAddress != vip {
		t.Errorf("the new load balancer's VIP is %s, want the old %s", lb.VipAddress, vip)
	}
}

// waitLoadBalancerInError waits until Octavia has put load balancer id in ERROR. The
// controller deletes a load balancer in ERROR at once, so it may be seen in ERROR, being
// deleted or already gone.
func (f *fixture) waitLoadBalancerInError(what, id string) {
	f.t.Helper()
	f.eventually(what+" went to ERROR", 30*time.Second, func() (bool, string) {
		lb, err := loadbalancers.Get(context.Background(), f.cloud.Client(f.t, cloudtest.Demo, "load-balancer"), id).Extract()
		if err != nil {
			return strings.Contains(err.Error(), "404"), err.Error()
		}
		return lb.ProvisioningStatus == "ERROR" || lb.ProvisioningStatus == "PENDING_DELETE", lb.ProvisioningStatus
	})
}

// testOctaviaDownAtCreation: with Octavia answering 503, the control plane says so and waits;
// it converges by itself once the service is back.
func testOctaviaDownAtCreation(f *fixture) {
	t := f.t
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeOutage, Service: "load-balancer"})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := versions.Load()
	cp := f.newControlPlane("gamma", l.Newest().Version)
	f.eventually("EndpointReady False with the cloud's error", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		c := conditionOf(cp, controlplanev1.EndpointReadyCondition)
		return strings.HasPrefix(c, "False/CloudError") && strings.Contains(c, "503"), c
	})
	if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	f.waitEndpoint(cp)
}

// testRestartMidCreate: the controller stops while Octavia is still building the load balancer,
// and the status it wrote is lost (as if the update after the create had failed). The next
// controller finds the load balancer again by its tag, keeps the PKI it made, and converges
// with no second load balancer and the same VIP.
func testRestartMidCreate(f *fixture) {
	t := f.t
	lbc := f.cloud.Client(t, cloudtest.Demo, "load-balancer")
	// The apiserver's load balancers, or the tunnel's (suffix -vpn).
	listOf := func(suffix string) []loadbalancers.LoadBalancer {
		pages, err := loadbalancers.List(lbc, loadbalancers.ListOpts{}).AllPages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		lbs, err := loadbalancers.ExtractLoadBalancers(pages)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(lbs, func(lb loadbalancers.LoadBalancer) bool { return !strings.HasSuffix(lb.Name, suffix) })
	}
	listLBs := func() []loadbalancers.LoadBalancer { return listOf("-apiserver") }
	// Octavia's create hangs in PENDING_CREATE until the rule is removed.
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeStuck, Service: "load-balancer", Operation: loadbalancer.TaskCreate, StuckFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := versions.Load()
	cp := f.newControlPlane("delta", l.Newest().Version)
	var first loadbalancers.LoadBalancer
	f.eventually("a load balancer in PENDING_CREATE", 30*time.Second, func() (bool, string) {
		lbs := listLBs()
		if len(lbs) != 1 {
			return false, fmt.Sprintf("%d load balancers", len(lbs))
		}
		first = lbs[0]
		return first.ProvisioningStatus == "PENDING_CREATE", first.ProvisioningStatus
	})
	// The VIP is the endpoint as soon as Octavia accepts the load balancer: the PKI and etcd do
	// not wait for the amphora.
	f.eventually("the VIP as endpoint and etcd made, the load balancer still PENDING_CREATE", 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		var etcd appsv1.StatefulSet
		err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "delta-etcd"}, &etcd)
		return cp.Spec.ControlPlaneEndpoint.Host == first.VipAddress && err == nil,
			fmt.Sprintf("endpoint %q, etcd: %v", cp.Spec.ControlPlaneEndpoint.Host, err)
	})
	if lbs := listLBs(); len(lbs) != 1 || lbs[0].ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("load balancers %+v: want the one still PENDING_CREATE", lbs)
	}
	f.restartLosingStatus(cp, func() {
		if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
			t.Fatal(err)
		}
	})

	// Stopped again once the PKI and etcd exist, before anything is ready.
	var ca corev1.Secret
	f.eventually("the cluster CA and etcd made", 30*time.Second, func() (bool, string) {
		if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "delta-ca"}, &ca); err != nil {
			return false, err.Error()
		}
		var etcd appsv1.StatefulSet
		err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "delta-etcd"}, &etcd)
		return err == nil && len(ca.Data["tls.crt"]) > 0, fmt.Sprint(err)
	})
	f.restartLosingStatus(cp, nil)

	f.rollOutUntilReady(cp, "delta", 60*time.Second)
	lbs := listLBs()
	if len(lbs) != 1 || lbs[0].ID != first.ID || lbs[0].ProvisioningStatus != "ACTIVE" {
		t.Errorf("load balancers after the restarts: %+v; want only %s, ACTIVE", lbs, first.ID)
	}
	if cp.Status.LoadBalancerID != first.ID || cp.Spec.ControlPlaneEndpoint.Host != first.VipAddress {
		t.Errorf("status.loadBalancerID %s, endpoint %s; want the first load balancer %s and its VIP %s",
			cp.Status.LoadBalancerID, cp.Spec.ControlPlaneEndpoint.Host, first.ID, first.VipAddress)
	}
	if vpns := listOf("-vpn"); len(vpns) != 1 || cp.Status.VPN.LoadBalancerID != vpns[0].ID || cp.Status.VPN.Address != vpns[0].VipAddress {
		t.Errorf("tunnel load balancers after the restarts: %d (%+v); want one, named in status.vpn %+v", len(vpns), vpns, cp.Status.VPN)
	}
	var after corev1.Secret
	if err := f.c.Get(f.ctx(), types.NamespacedName{Namespace: f.ns, Name: "delta-ca"}, &after); err != nil {
		t.Fatal(err)
	}
	if string(after.Data["tls.crt"]) != string(ca.Data["tls.crt"]) {
		t.Error("the cluster CA was made again after a restart: every certificate signed with the old one is now worthless")
	}
}

// restartLosingStatus stops the manager, wipes cp's status (as if the controller had died before
// writing it), runs between (if any) and starts a new manager.
func (f *fixture) restartLosingStatus(cp *controlplanev1.GcoreControlPlane, between func()) {
	f.t.Helper()
	f.stop()
	if err := f.get(cp); err != nil {
		f.t.Fatal(err)
	}
	cp.Status = controlplanev1.GcoreControlPlaneStatus{}
	if err := f.c.Status().Update(f.ctx(), cp); err != nil {
		f.t.Fatal(err)
	}
	if between != nil {
		between()
	}
	f.stop = f.startManager()
}
