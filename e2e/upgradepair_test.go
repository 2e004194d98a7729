//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

func TestUpgradePair(t *testing.T) {
	v := pinnedVersions{Kubernetes: []pinned{{Version: "v1.35.4"}, {Version: "v1.36.3"}, {Version: "v1.37.2"}}}
	for _, c := range []struct{ from, wantFrom, wantTo, err string }{
		{from: "", wantFrom: "v1.36.3", wantTo: "v1.37.2"},
		{from: "v1.35.4", wantFrom: "v1.35.4", wantTo: "v1.36.3"},
		{from: "v1.37.2", err: "not a pinned version with a newer one after it (one of v1.35.4, v1.36.3)"},
		{from: "v1.34.0", err: "E2E_UPGRADE_FROM=v1.34.0"},
	} {
		from, to, err := v.upgradePair(c.from)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("upgradePair(%q) error %v, want one containing %q", c.from, err, c.err)
			}
			continue
		}
		if err != nil || from != c.wantFrom || to != c.wantTo {
			t.Errorf("upgradePair(%q) = %s, %s, %v; want %s, %s", c.from, from, to, err, c.wantFrom, c.wantTo)
		}
	}
	if _, _, err := (pinnedVersions{Kubernetes: []pinned{{Version: "v1.37.2"}}}).upgradePair(""); err == nil {
		t.Error("upgradePair with one pinned version: no error")
	}
}
