package loadbalancer

import (
	"cmp"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
)

func TestSmallest(t *testing.T) {
	for n := 0; n < 40; n++ {
		for k := 1; k < 45; k += 4 {
			in := make([]int, n)
			for i := range in {
				in[i] = rand.IntN(20)
			}
			want := slices.Clone(in)
			slices.Sort(want)
			want = want[:min(k, n)]
			got := smallest(slices.Clone(in), k, cmp.Compare[int])
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d k=%d: %v, want %v", n, k, got, want)
			}
		}
	}
}

func TestPagingFollowsNextLinks(t *testing.T) {
	h := newHarness(t)
	seeded := seedLBs(t, h, 53)
	var got []string
	path := "/v2.0/lbaas/loadbalancers?limit=7&sort_key=name&sort_dir=desc"
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			t.Fatal("too many pages")
		}
		out := h.must(200, "GET", path, "demo", nil)
		for _, lb := range out["loadbalancers"].([]any) {
			got = append(got, lb.(map[string]any)["name"].(string))
		}
		path = ""
		for _, l := range out["loadbalancers_links"].([]any) {
			u, err := url.Parse(l.(map[string]any)["href"].(string))
			if err != nil {
				t.Fatal(err)
			}
			path = u.Path[len("/load-balancer"):] + "?" + u.RawQuery
		}
	}
	if len(got) != len(seeded) || !slices.IsSortedFunc(got, func(a, b string) int { return -cmp.Compare(a, b) }) {
		t.Fatalf("paged names (%d of %d): %v", len(got), len(seeded), got)
	}
}
