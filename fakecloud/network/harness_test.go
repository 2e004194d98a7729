package network

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

// quotaStub is an injected quota limit.
type quotaStub map[string]int

func (q quotaStub) Limit(project, resource string) (int, bool) {
	v, ok := q[project+"/"+resource]
	return v, ok
}

type harness struct {
	*servicetest.Harness
	t       *testing.T
	svc     *Service
	backend *recordingBackend
	quotas  quotaStub
}

func newHarness(t testing.TB) *harness {
	return newHarnessAt(t, "")
}

// newHarnessAt starts the service on the state in dir ("" for a new one).
func newHarnessAt(t testing.TB, dir string) *harness { return newHarnessCfg(t, dir, Config{}) }

// newHarnessCfg starts the service with cfg on the state in dir ("" for a new one).
func newHarnessCfg(t testing.TB, dir string, cfg Config) *harness {
	q := quotaStub{}
	st := servicetest.New(t, servicetest.Options{Dir: dir, Quotas: q, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	be := &recordingBackend{}
	svc, err := New(st.Env, cfg, be)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	if err := svc.Seed(SeedConfig{AdminProject: "admin"}); err != nil {
		t.Fatal(err)
	}
	st.Start()
	h := &harness{Harness: st, svc: svc, backend: be, quotas: q}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	return h
}

// call sends a request and decodes the JSON answer (nil for an empty body).
func (h *harness) call(tb testing.TB, token, method, path string, body any) (int, map[string]any) {
	tb.Helper()
	code, _, data := h.Do(tb, token, method, "/network"+path, http.Header{"Content-Type": {"application/json"}}, body)
	out, err := servicetest.JSONObject(data)
	if err != nil {
		tb.Fatalf("%s %s: bad JSON answer %q", method, path, data)
	}
	return code, out
}

// must is call that fails the test unless the status is want; it returns the object under key.
func (h *harness) must(tb testing.TB, want int, token, method, path string, body any, key string) map[string]any {
	tb.Helper()
	st, out := h.call(tb, token, method, path, body)
	if st != want {
		tb.Fatalf("%s %s: status %d, want %d: %v", method, path, st, want, out)
	}
	if key == "" {
		return out
	}
	m, _ := out[key].(map[string]any)
	return m
}

// errType returns the NeutronError type of an error answer.
func errType(out map[string]any) string {
	e, _ := out["NeutronError"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func (h *harness) publicNet() string {
	id, _ := h.svc.ExternalNetwork()
	return id
}

// recordingBackend records the backend calls for the reconciliation tests.
type recordingBackend struct {
	MemoryBackend
	// calls, once record has set it, receives a line per call. Atomic: the task engine's
	// workers read it while a test starts recording.
	calls atomic.Pointer[chan string]
	// failRouter makes that many EnsureRouter calls fail (retried); permanent makes them
	// fail with services.Permanent.
	failRouter atomic.Int32
	permanent  atomic.Bool
	// holdEnsure, when set, makes EnsureRouter wait for the channel to close before it acts.
	holdEnsure atomic.Pointer[chan struct{}]
	// routers holds the IDs of the routers the backend has made and not deleted.
	routers sync.Map
	// deletedRouters counts DeleteRouter calls.
	deletedRouters atomic.Int32
}

func (b *recordingBackend) DeleteRouter(ctx context.Context, id string) error {
	b.routers.Delete(id)
	b.deletedRouters.Add(1)
	return nil
}

func (b *recordingBackend) EnsureRouter(ctx context.Context, spec RouterSpec) error {
	if b.failRouter.Add(-1) >= 0 {
		err := fmt.Errorf("router backend unavailable")
		if b.permanent.Load() {
			return services.Permanent(err)
		}
		return err
	}
	if hold := b.holdEnsure.Load(); hold != nil {
		<-*hold
	}
	b.routers.Store(spec.ID, true)
	gw := ""
	if spec.Gateway != nil {
		gw = spec.Gateway.IPAddress
	}
	b.note(fmt.Sprintf("router %s ifaces=%d gw=%s", spec.ID, len(spec.Interfaces), gw))
	return nil
}

func (b *recordingBackend) SetFloatingIP(ctx context.Context, spec FloatingIPSpec) error {
	b.note(fmt.Sprintf("fip %s -> %s", spec.FloatingIP, spec.FixedIP))
	return nil
}

// record starts recording the backend calls into a new channel of the given capacity.
func (b *recordingBackend) record(capacity int) <-chan string {
	ch := make(chan string, capacity)
	b.calls.Store(&ch)
	return ch
}

// note sends one call's line to the recording channel, if recording.
func (b *recordingBackend) note(line string) {
	if ch := b.calls.Load(); ch != nil {
		*ch <- line
	}
}
