package baremetal

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/servicetest"
)

type testEnv struct {
	*servicetest.Harness
	svc *Service
}

// recorder is a backend that remembers what it was asked and can be told to fail.
type recorder struct {
	mu        sync.Mutex
	deployed  map[string][]byte
	cleaned   map[string]int
	power     map[string]bool
	deployErr error
}

func newRecorder() *recorder {
	return &recorder{deployed: map[string][]byte{}, cleaned: map[string]int{}, power: map[string]bool{}}
}

func (b *recorder) Deploy(_ context.Context, n NodeSpec, userData []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deployErr != nil {
		return b.deployErr
	}
	b.deployed[n.ID] = userData
	return nil
}

func (b *recorder) Clean(_ context.Context, n NodeSpec) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleaned[n.ID]++
	return nil
}

func (b *recorder) SetPower(_ context.Context, id string, on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.power[id] = on
	return nil
}

func (b *recorder) userData(id string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.deployed[id]
	return d, ok
}

func newTestEnv(t testing.TB, backend Backend) *testEnv {
	t.Helper()
	return newTestEnvIn(t, "", backend)
}

// newTestEnvIn starts the service on the state in dir (to test restarts; "" for a new one).
// Stopping it lets a task that is running finish its attempt; queued ones stay in the state.
func newTestEnvIn(t testing.TB, dir string, backend Backend) *testEnv {
	t.Helper()
	h := servicetest.New(t, servicetest.Options{Dir: dir, Drain: 200 * time.Millisecond,
		Timing: services.Timing{NodeDeploy: 20 * time.Millisecond, NodeClean: 20 * time.Millisecond}})
	svc, err := New(h.Env, backend)
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes()
	h.Start()
	return &testEnv{Harness: h, svc: svc}
}

// client returns a gophercloud bare-metal client authenticated with token, asking for
// microversion 1.87.
func (e *testEnv) client(token string) *gophercloud.ServiceClient {
	c := e.Client(token, "baremetal", "/baremetal/", "/baremetal/v1/")
	c.Microversion = "1.87"
	return c
}

// do sends a raw request and decodes a JSON answer (if any) into a map.
func (e *testEnv) do(t testing.TB, token, method, path, contentType string, body any) (int, map[string]any) {
	code, m, _ := e.doV(t, token, "1.87", method, path, contentType, body)
	return code, m
}

// doV is do with a chosen microversion ("" for none); it also returns the response headers.
func (e *testEnv) doV(t testing.TB, token, version, method, path, contentType string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	hdr := http.Header{}
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	if version != "" {
		hdr.Set(hdrVersion, version)
	}
	code, respHdr, data := e.Do(t, token, method, path, hdr, body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return code, m, respHdr
}

// waitState polls a node until its provision state is want.
func (e *testEnv) waitState(t testing.TB, id, want string) Node {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, _ := e.svc.nodes.Get(id)
		if n.ProvisionState == want && n.TargetProvisionState == "" || (want == StateDeployFailed && n.ProvisionState == want) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: state %q (target %q, last error %q), want %q", id, n.ProvisionState, n.TargetProvisionState, n.LastError, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sleep() { time.Sleep(5 * time.Millisecond) }
