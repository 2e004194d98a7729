package faults_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
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

// TestSeedThroughAdminAPI: a seed given to the admin API (as the scenario runner and
// `fakecloud fault add --seed` give it) reaches the rule, and the same seed fails the same
// requests again when the rule is added anew.
func TestSeedThroughAdminAPI(t *testing.T) {
	h := cloudtest.Start(t, func(c *cloud.Config) {})
	ctx := context.Background()
	ac := admin(t, h)
	seed := int64(7)
	net := h.Client(t, cloudtest.Demo, "network")
	run := func() []bool {
		r, err := ac.AddFault(ctx, adminclient.FaultSpec{Type: faults.TypeError, Service: "network", Rate: 0.3, Status: 503, Seed: &seed, For: "1m"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seed == nil || *r.Seed != seed {
			t.Fatalf("the rule the admin API made has seed %v, want %d", r.Seed, seed)
		}
		out := make([]bool, 60)
		for i := range out {
			_, err := net.Get(ctx, net.ServiceURL("networks"), nil, nil)
			out[i] = gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable)
		}
		if _, err := ac.RemoveFault(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(), run()
	if !same(a, b) {
		t.Errorf("the same seed through the admin API failed different requests:\n%v\n%v", a, b)
	}
	failed := 0
	for _, f := range a {
		if f {
			failed++
		}
	}
	if failed == 0 || failed == len(a) {
		t.Errorf("%d of %d requests failed at rate 0.3", failed, len(a))
	}
}
