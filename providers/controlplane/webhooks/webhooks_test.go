package webhooks

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/versions"
)

func newCP(t *testing.T, version string) *controlplanev1.GcoreControlPlane {
	t.Helper()
	cp := &controlplanev1.GcoreControlPlane{
		ObjectMeta: metav1.ObjectMeta{Name: "cp"},
		Spec: controlplanev1.GcoreControlPlaneSpec{
			Version:     version,
			IdentityRef: controlplanev1.IdentityReference{Name: "cloud", CloudName: "demo"},
		},
	}
	if err := (ControlPlane{}).Default(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

func check(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one saying %q", want)
	case want != "" && (!apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want)):
		t.Fatalf("error %v: want an Invalid (422) error saying %q", err, want)
	}
}

func TestControlPlaneWebhook(t *testing.T) {
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Kubernetes) < 3 {
		t.Fatalf("the pinned list has %d versions; this test needs three", len(l.Kubernetes))
	}
	v0, v1, v2 := l.Kubernetes[0].Version, l.Kubernetes[1].Version, l.Kubernetes[2].Version
	w := ControlPlane{Versions: l}
	ctx := context.Background()

	cp := newCP(t, v0)
	if *cp.Spec.Replicas != DefaultReplicas || cp.Spec.Etcd.Replicas != DefaultEtcdReplicas || cp.Spec.Etcd.StorageSize.String() != DefaultEtcdStorage {
		t.Errorf("defaults: replicas %d, etcd %d / %s", *cp.Spec.Replicas, cp.Spec.Etcd.Replicas, cp.Spec.Etcd.StorageSize.String())
	}
	_, err = w.ValidateCreate(ctx, cp)
	check(t, err, "")

	_, err = w.ValidateCreate(ctx, newCP(t, "v1.30.0"))
	check(t, err, v2) // the message lists the supported versions

	even := newCP(t, v0)
	even.Spec.Etcd.Replicas = 2
	_, err = w.ValidateCreate(ctx, even)
	check(t, err, "spec.etcd.replicas")

	many := newCP(t, v0)
	many.Spec.Replicas = ptr.To[int32](9)
	_, err = w.ValidateCreate(ctx, many)
	check(t, err, "between 1 and 5")

	noID := newCP(t, v0)
	noID.Spec.IdentityRef = controlplanev1.IdentityReference{}
	_, err = w.ValidateCreate(ctx, noID)
	check(t, err, "spec.identityRef")

	_, err = w.ValidateUpdate(ctx, newCP(t, v0), newCP(t, v1))
	check(t, err, "")
	_, err = w.ValidateUpdate(ctx, newCP(t, v0), newCP(t, v2))
	check(t, err, "upgrade one minor at a time")
	_, err = w.ValidateUpdate(ctx, newCP(t, v2), newCP(t, v1))
	check(t, err, "downgrading")

	resized := newCP(t, v0)
	resized.Spec.Etcd.Replicas = 5
	_, err = w.ValidateUpdate(ctx, newCP(t, v0), resized)
	check(t, err, "cannot be resized")

	scaled := newCP(t, v0)
	scaled.Spec.Replicas = ptr.To[int32](3)
	_, err = w.ValidateUpdate(ctx, newCP(t, v0), scaled)
	check(t, err, "")
}
