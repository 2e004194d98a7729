package haproxy

import (
	"os"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// FuzzParseStats throws arbitrary bytes at ParseStats: it may fail but not panic, and every
// status it returns is an Octavia operating status.
func FuzzParseStats(f *testing.F) {
	for _, s := range []string{
		"",
		statsHeader,
		statsHeader + statsRow("p", "m", "UP 1/3") + statsRow("p", "BACKEND", "UP"),
		"# pxname,svname,status\np,m,\"no check\"\n# pxname,svname,status\n",
		"# status,svname,pxname\nUP\n",
		"# a\n\"",
		"# pxname,svname,status,pxname\np,m,MAINT (via x/y),q\n",
	} {
		f.Add([]byte(s))
	}
	if real, err := os.ReadFile("testdata/show-stat-2.6.csv"); err == nil {
		f.Add(real)
	}
	valid := map[string]bool{loadbalancer.OpOnline: true, loadbalancer.OpOffline: true, loadbalancer.OpError: true, loadbalancer.OpNoMonitor: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseStats(data)
		if err != nil {
			return
		}
		for k, v := range got {
			if !valid[v] || k == "" || k == "FRONTEND" || k == "BACKEND" {
				t.Fatalf("ParseStats gave %q: %q", k, v)
			}
		}
	})
}
