package manager

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestRetryLimiterCapped: the back-off of an object that keeps failing grows as
// controller-runtime's does, then stays at the cap; another object starts from the bottom.
func TestRetryLimiterCapped(t *testing.T) {
	rl := retryLimiter(20 * time.Second)
	a := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "a"}}
	var last time.Duration
	for i := range 40 {
		d := rl.When(a)
		if d > 20*time.Second {
			t.Fatalf("failure %d: retry after %s, over the 20s cap", i+1, d)
		}
		if i > 0 && d < last {
			t.Fatalf("failure %d: retry after %s, shorter than the one before (%s)", i+1, d, last)
		}
		last = d
	}
	if last != 20*time.Second {
		t.Errorf("after 40 failures the retry is %s, want the cap 20s", last)
	}
	if d := rl.When(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "b"}}); d > time.Second {
		t.Errorf("a first failure of another object waits %s", d)
	}
	rl.Forget(a)
	if d := rl.When(a); d > time.Second {
		t.Errorf("after Forget the object waits %s, want the back-off started again", d)
	}
}

func TestValidateMaxRetryDelay(t *testing.T) {
	o := Options{Concurrency: 1}
	if err := o.Validate(); err != nil || o.MaxRetryDelay != DefaultMaxRetryDelay {
		t.Errorf("zero MaxRetryDelay: %v, %s; want the default %s", err, o.MaxRetryDelay, DefaultMaxRetryDelay)
	}
	o = Options{Concurrency: 1, MaxRetryDelay: -time.Second}
	if err := o.Validate(); err == nil {
		t.Error("a negative MaxRetryDelay was accepted")
	}
}
