package testenv

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// StartManager runs a controller-runtime manager against env (no metrics or probe listeners),
// with the controllers setup registers, until stop is called or the test ends. Stopping and
// starting another is how a test plays a controller's restart: nothing survives in memory.
func (e *Env) StartManager(t testing.TB, s *runtime.Scheme, setup func(ctx context.Context, mgr ctrl.Manager) error) (stop func()) {
	t.Helper()
	// SkipNameValidation: a test builds its controllers once per manager, and go test -count
	// or a restart played by the test builds them again in the same process.
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: s, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := setup(ctx, mgr); err != nil {
		cancel()
		t.Fatalf("setting up the controllers: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}
