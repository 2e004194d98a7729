package haproxy

import (
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// statsHeader is HAProxy 2.6's `show stat` header, shortened after check_status.
const statsHeader = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,\n"

// statsRow is a server row with the given names and status.
func statsRow(px, sv, status string) string {
	return px + "," + sv + ",0,0,0,0,,0,0,0,,0,,0,0,0,0," + status + ",1,1,0,0,0,5,0,,1,3,1,,0,,2,0,,0,L4OK,\n"
}

func TestParseStats(t *testing.T) {
	in := statsHeader +
		"l-http,FRONTEND,,,0,0,50000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,\n" +
		statsRow("p-http", "m-up", "UP") +
		statsRow("p-http", "m-going-down", "UP 1/3") +
		statsRow("p-http", "m-down", "DOWN") +
		statsRow("p-http", "m-going-up", "DOWN 1/2") +
		statsRow("p-http", "m-maint", "MAINT") +
		statsRow("p-http", "m-via", "MAINT (via p/x)") +
		statsRow("p-http", "m-drain", "DRAIN") +
		statsRow("p-http", "m-drain-maint", "DRAIN (maint)") +
		statsRow("p-http", "m-nolb", "NOLB 2/3") +
		statsRow("p-tcp", "m-nocheck", "no check") +
		statsRow("p-tcp", "m-agent", "DOWN (agent)") +
		statsRow("p-tcp", "m-odd", "SOMETHING") +
		"p-http,BACKEND,0,0,0,0,5000,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,5,0,,1,3,0,,0,,1,0,,0,,\n" +
		"\n"
	got, err := ParseStats([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"m-up": loadbalancer.OpOnline, "m-going-down": loadbalancer.OpOnline, "m-down": loadbalancer.OpError,
		"m-going-up": loadbalancer.OpError, "m-maint": loadbalancer.OpOffline, "m-via": loadbalancer.OpOffline,
		"m-drain": loadbalancer.OpOnline, "m-drain-maint": loadbalancer.OpOffline, "m-nolb": loadbalancer.OpOnline,
		"m-nocheck": loadbalancer.OpNoMonitor, "m-agent": loadbalancer.OpError, "m-odd": loadbalancer.OpError,
	}
	if !maps.Equal(got, want) {
		t.Errorf("ParseStats:\n got %v\nwant %v", got, want)
	}
}

func TestParseStatsWorstWins(t *testing.T) {
	got, err := ParseStats([]byte(statsHeader + statsRow("a", "m", "UP") + statsRow("b", "m", "DOWN") + statsRow("c", "m", "no check")))
	if err != nil {
		t.Fatal(err)
	}
	if got["m"] != loadbalancer.OpError {
		t.Errorf("m = %s, want ERROR", got["m"])
	}
}

func TestParseStatsEmpty(t *testing.T) {
	got, err := ParseStats([]byte(statsHeader))
	if err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func TestParseStatsErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no header"},
		{"no hash", "pxname,svname,status\n", `does not start with "# "`},
		{"no status", "# pxname,svname,qcur\n", "lacks pxname, svname or status"},
		{"short row", statsHeader + "p,m,0\n", "line 2 has 3 fields"},
		{"bad csv", statsHeader + "p,\"m\"x\"\n", "parsing show stat"},
		{"socket error", "Unknown command.\n", `does not start with "# "`},
	}
	for _, tt := range tests {
		_, err := ParseStats([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestParseStatsRealOutput reads `show stat` as HAProxy 2.6 in kaas/haproxy printed it for a
// config from Render: one member up, one unreachable, one disabled, one without monitor.
func TestParseStatsRealOutput(t *testing.T) {
	data, err := os.ReadFile("testdata/show-stat-2.6.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseStats(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"m-up": loadbalancer.OpOnline, "m-down": loadbalancer.OpError, "m-off": loadbalancer.OpOffline, "m-nocheck": loadbalancer.OpNoMonitor}
	if !maps.Equal(got, want) {
		t.Errorf("ParseStats:\n got %v\nwant %v", got, want)
	}
}
