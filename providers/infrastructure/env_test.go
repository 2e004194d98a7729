package infrastructure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
)

// fixture is a real kube-apiserver with Cluster API's and our CRDs, a fakecloud on its memory
// backend, and a clouds.yaml Secret for its demo project.
type fixture struct {
	t      *testing.T
	env    *testenv.Env
	cloud  *cloudtest.Harness
	scheme *runtime.Scheme
	ns     string
}

// TestControllers starts one API server for every test of the package (starting one takes
// seconds) and runs each test in a namespace of its own, with a fakecloud of its own.
func TestControllers(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{CRDDirs: append(testenv.ClusterAPICRDDirs(t), testenv.ProjectCRDDir(t)), Scheme: s})
	for name, test := range map[string]func(*fixture){
		"ClusterLifecycle":              testClusterLifecycle,
		"ClusterCloudErrors":            testClusterCloudErrors,
		"ClusterInvalidExternalNetwork": testClusterInvalidExternalNetwork,
		"MachineLifecycle":              testMachineLifecycle,
		"MachineBareMetal":              testMachineBareMetal,
		"MachineFlavorTypeMismatch":     testMachineFlavorTypeMismatch,
		"MachineBuildFailureReplaced":   testMachineBuildFailureReplaced,
	} {
		t.Run(name, func(t *testing.T) { test(newFixture(t, env, s)) })
	}
}

func newFixture(t *testing.T, env *testenv.Env, s *runtime.Scheme) *fixture {
	t.Helper()
	f := &fixture{t: t, scheme: s, env: env, ns: strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))}
	f.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}})
	f.cloud = cloudtest.Start(t)
	f.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cloud", Namespace: f.ns},
		Data:       map[string][]byte{cloudclient.CloudsYAMLKey: []byte(f.cloud.CloudsYAML())},
	})
	return f
}

func (f *fixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f.t.Cleanup(cancel)
	return ctx
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	if err := f.env.Client.Create(f.ctx(), obj); err != nil {
		f.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// startManager runs both reconcilers until stop is called or the test ends.
func (f *fixture) startManager() (stop func()) {
	f.t.Helper()
	return f.env.StartManager(f.t, f.scheme, func(ctx context.Context, mgr ctrl.Manager) error {
		clouds := cloudclient.NewFactory(mgr.GetAPIReader())
		opts := controller.Options{SkipNameValidation: ptr.To(true)}
		if err := (&infrastructure.GcoreClusterReconciler{Client: mgr.GetClient(), Clouds: clouds}).SetupWithManager(ctx, mgr, opts); err != nil {
			return err
		}
		return (&infrastructure.GcoreMachineReconciler{Client: mgr.GetClient(), Clouds: clouds}).SetupWithManager(ctx, mgr, opts)
	})
}

// newCluster creates a Cluster and its GcoreCluster, owned by it as the Cluster controller does.
func (f *fixture) newCluster(name, cidr string, mutate ...func(*infrav1.GcoreCluster)) (*clusterv1.Cluster, *infrav1.GcoreCluster) {
	f.t.Helper()
	cl := &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: clusterv1.ClusterSpec{
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreCluster", Name: name},
		},
	}
	f.create(cl)
	gc := &infrav1.GcoreCluster{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: f.ns, Labels: map[string]string{clusterv1.ClusterNameLabel: name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: clusterv1.GroupVersion.String(), Kind: "Cluster", Name: name, UID: cl.UID}},
		},
		Spec: infrav1.GcoreClusterSpec{
			IdentityRef: infrav1.IdentityReference{Name: "cloud", CloudName: cloudtest.Demo},
			Network:     infrav1.NetworkSpec{CIDR: cidr},
		},
	}
	for _, m := range mutate {
		m(gc)
	}
	f.create(gc)
	return cl, gc
}

// eventually polls cond until it holds (testenv.Eventually).
func (f *fixture) eventually(what string, timeout time.Duration, cond func() (bool, string)) {
	f.t.Helper()
	testenv.Eventually(f.t, what, timeout, cond)
}

func (f *fixture) get(obj client.Object) error {
	return f.env.Client.Get(f.ctx(), client.ObjectKeyFromObject(obj), obj)
}

// setClusterProvisioned does what the Cluster controller would: copy provisioned from the
// GcoreCluster to the Cluster.
func (f *fixture) setClusterProvisioned(cl *clusterv1.Cluster) {
	f.t.Helper()
	if err := f.get(cl); err != nil {
		f.t.Fatal(err)
	}
	cl.Status.Initialization.InfrastructureProvisioned = ptr.To(true)
	if err := f.env.Client.Status().Update(f.ctx(), cl); err != nil {
		f.t.Fatal(err)
	}
}

func conditionOf(conds []metav1.Condition, t string) string {
	for _, c := range conds {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason + ": " + c.Message
		}
	}
	return "<none>"
}
