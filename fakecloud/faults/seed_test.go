package faults_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// draws adds an error rule at rate 0.3 (with seed, when not nil) to a fresh injector and
// returns which of n requests it failed.
func draws(t *testing.T, seed *int64, n int) []bool {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	in, err := faults.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Add(faults.Rule{Type: faults.TypeError, Service: "network", Rate: 0.3, Status: 503, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	out := make([]bool, n)
	for i := range out {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/v2.0/networks", nil)
		out[i] = in.Intercept(w, r, httpapi.Op{Service: "network", Name: "network.list"}, httpapi.StyleNeutron)
	}
	return out
}

func same(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSeedRepeatsDraws: two rules with the same seed fail the same requests; another seed
// fails others; about the rate's share fails either way.
func TestSeedRepeatsDraws(t *testing.T) {
	s1, s2 := int64(20261207), int64(42)
	a, b, c := draws(t, &s1, 400), draws(t, &s1, 400), draws(t, &s2, 400)
	if !same(a, b) {
		t.Error("the same seed drew different requests")
	}
	if same(a, c) {
		t.Error("two seeds drew the same 400 requests")
	}
	failed := 0
	for _, f := range a {
		if f {
			failed++
		}
	}
	if failed < 80 || failed > 160 {
		t.Errorf("%d of 400 requests failed at rate 0.3", failed)
	}
	if u := draws(t, nil, 400); same(u, draws(t, nil, 400)) {
		t.Log("two unseeded rules drew alike (possible, unlikely)")
	}
}
