package workload

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
)

const testOwner = "gcore-controlplane-test"

// TestApply runs Apply against a real kube-apiserver (envtest), shared by its subtests.
func TestApply(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	t.Run("twice changes nothing", func(t *testing.T) { testApplyTwice(t, env.Client) })
	t.Run("errors name the object", func(t *testing.T) { testApplyErrors(t, env.Client) })
}

// testApplyTwice applies JoinObjects and Addons twice and checks that the second apply
// changes nothing, that fields other managers own survive and that fields this package owns
// are taken back.
func testApplyTwice(t *testing.T, c client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	waitForNamespace(ctx, t, c, "kube-public")

	p := testParams(t, "v1.37.2")
	p.ServiceCIDR = "10.0.0.0/24" // envtest's apiserver --service-cluster-ip-range
	join, err := JoinObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	addons, err := Addons(p)
	if err != nil {
		t.Fatal(err)
	}
	// Flannel's Namespace comes last on purpose: Apply must create it before its contents.
	objs := append(append([]client.Object{}, join...), addons...)
	for i, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Kind == "Namespace" {
			objs = append(append(objs[:i:i], objs[i+1:]...), o)
			break
		}
	}
	if err := Apply(ctx, c, objs, testOwner); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	first := resourceVersions(ctx, t, c, objs)
	if err := Apply(ctx, c, objs, testOwner); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	for key, rv := range resourceVersions(ctx, t, c, objs) {
		if rv != first[key] {
			t.Errorf("the second apply changed %s: resourceVersion %s -> %s", key, first[key], rv)
		}
	}
	// Objects built anew from the same parameters are the same objects too.
	again, err := JoinObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, c, again, testOwner); err != nil {
		t.Fatal(err)
	}
	for key, rv := range resourceVersions(ctx, t, c, again) {
		if rv != first[key] {
			t.Errorf("re-applying rebuilt JoinObjects changed %s", key)
		}
	}

	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "kube-dns"}, svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.0.0.10" || svc.Labels[ManagedByLabel] != ManagedByValue {
		t.Errorf("kube-dns: clusterIP %q, labels %v", svc.Spec.ClusterIP, svc.Labels)
	}

	// The bootstrapsigner adds a signature per token to cluster-info with an update; a
	// re-apply must leave it there.
	info := &corev1.ConfigMap{}
	key := client.ObjectKey{Namespace: "kube-public", Name: "cluster-info"}
	if err := c.Get(ctx, key, info); err != nil {
		t.Fatal(err)
	}
	kubeconfig := info.Data["kubeconfig"]
	info.Data["jws-kubeconfig-abcdef"] = "signature"
	if err := c.Update(ctx, info, client.FieldOwner("kube-controller-manager")); err != nil {
		t.Fatal(err)
	}
	// Someone else edits the Corefile: the apply takes it back, without a conflict.
	corefile := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "coredns"}, corefile); err != nil {
		t.Fatal(err)
	}
	corefile.Data["Corefile"] = ".:53 { whoami }"
	if err := c.Update(ctx, corefile, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, c, objs, testOwner); err != nil {
		t.Fatalf("apply after other managers' edits: %v", err)
	}
	if err := c.Get(ctx, key, info); err != nil {
		t.Fatal(err)
	}
	if info.Data["jws-kubeconfig-abcdef"] != "signature" || info.Data["kubeconfig"] != kubeconfig {
		t.Errorf("cluster-info after re-apply: %v", info.Data)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(corefile), corefile); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(corefile.Data["Corefile"], "forward . /etc/resolv.conf") {
		t.Errorf("the apply did not take the Corefile back: %q", corefile.Data["Corefile"])
	}
}

func testApplyErrors(t *testing.T, c client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orphan := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "no-such-namespace"},
	}
	invalid := &corev1.ConfigMap{ // no kind set: found through the client's scheme
		ObjectMeta: metav1.ObjectMeta{Name: "Not_A_DNS_Name", Namespace: "default"},
	}
	fine := &corev1.ConfigMap{
		TypeMeta:   typeConfigMap,
		ObjectMeta: metav1.ObjectMeta{Name: "fine", Namespace: "default"},
		Data:       map[string]string{"k": "v"},
	}
	err := Apply(ctx, c, []client.Object{orphan, invalid, fine}, testOwner)
	if err == nil {
		t.Fatal("Apply reported no error")
	}
	for _, want := range []string{"applying ConfigMap no-such-namespace/orphan", "applying ConfigMap default/Not_A_DNS_Name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Apply went on past the failures.
	if err := c.Get(ctx, client.ObjectKeyFromObject(fine), &corev1.ConfigMap{}); err != nil {
		t.Errorf("the valid object after the failing ones was not applied: %v", err)
	}
	if err := Apply(ctx, c, []client.Object{fine}, ""); err == nil || !strings.Contains(err.Error(), "field owner") {
		t.Errorf("an empty field owner gave %v", err)
	}
}

// resourceVersions reads every object of objs back and returns its resourceVersion by
// "Kind namespace/name".
func resourceVersions(ctx context.Context, t *testing.T, c client.Client, objs []client.Object) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), u); err != nil {
			t.Fatalf("reading %s back: %v", describe(o, nil), err)
		}
		if u.GetLabels()[ManagedByLabel] != ManagedByValue {
			t.Errorf("%s in the apiserver lacks the managed-by label", describe(o, nil))
		}
		out[describe(o, nil)] = u.GetResourceVersion()
	}
	return out
}

// waitForNamespace waits until the apiserver has made a system namespace.
func waitForNamespace(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("namespace %s did not appear: %v", name, err)
	}
}
