package controlplane

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestAppliedSets(t *testing.T) {
	var a appliedSets // the zero value works
	key := types.NamespacedName{Namespace: "ns", Name: "cp"}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if a.current(key, "h1", now) {
		t.Fatal("nothing applied yet, but current")
	}
	a.record(key, "h1", now)
	if !a.current(key, "h1", now.Add(reapplyEvery-time.Second)) {
		t.Error("the same set within reapplyEvery is not current")
	}
	if a.current(key, "h2", now.Add(time.Second)) {
		t.Error("a changed set is current")
	}
	if a.current(key, "h1", now.Add(reapplyEvery)) {
		t.Error("the set is still current after reapplyEvery: deleted objects would never come back")
	}
	if a.current(types.NamespacedName{Namespace: "ns", Name: "other"}, "h1", now) {
		t.Error("another control plane shares the record")
	}
	a.forget(key)
	if a.current(key, "h1", now) {
		t.Error("current after forget")
	}
}

func TestHashObjects(t *testing.T) {
	cm := func(data string) client.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "c"}, Data: map[string]string{"k": data}}
	}
	h1, err := hashObjects([]client.Object{cm("a"), cm("b")})
	if err != nil {
		t.Fatal(err)
	}
	same, _ := hashObjects([]client.Object{cm("a"), cm("b")})
	changed, _ := hashObjects([]client.Object{cm("a"), cm("c")})
	fewer, _ := hashObjects([]client.Object{cm("a")})
	if h1 != same {
		t.Errorf("equal sets hash differently: %s, %s", h1, same)
	}
	if h1 == changed || h1 == fewer {
		t.Error("a changed set hashes as before")
	}
}
