package workload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestApplyStopsWhenTheAPIServerDoesNotAnswer: behind a load balancer that cuts every
// connection, Apply gives up after the first object instead of trying each in turn.
func TestApplyStopsWhenTheAPIServerDoesNotAnswer(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	defer srv.Close()

	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c"}},
	}
	apply := func(objs []client.Object) (int64, error) {
		c, err := client.New(&rest.Config{Host: srv.URL, Timeout: 5 * time.Second}, client.Options{Scheme: scheme.Scheme})
		if err != nil {
			t.Fatal(err)
		}
		before := requests.Load()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = Apply(ctx, c, objs, testOwner)
		return requests.Load() - before, err
	}
	one, err := apply(objs[:1])
	if err == nil || one == 0 {
		t.Fatalf("one object: %d requests, error %v; want requests and an error", one, err)
	}
	all, err := apply(objs)
	if err == nil || !strings.Contains(err.Error(), "2 more objects not tried") {
		t.Errorf("three objects: error %v; want it to say the other 2 were not tried", err)
	}
	if all != one {
		t.Errorf("three objects made %d requests, one object %d: want Apply to stop after the first", all, one)
	}
}
