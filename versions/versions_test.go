package versions

import (
	"regexp"
	"testing"
)

func TestLoad(t *testing.T) {
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Kubernetes) != 3 {
		t.Fatalf("want three pinned minors, got %d", len(l.Kubernetes))
	}
	semver := regexp.MustCompile(`^v1\.\d+\.\d+$`)
	seen := map[string]bool{}
	for i, k := range l.Kubernetes {
		if !semver.MatchString(k.Version) {
			t.Errorf("version %q is not vX.Y.Z", k.Version)
		}
		if k.Etcd == "" || k.CoreDNS == "" || k.Pause == "" {
			t.Errorf("%s: etcd, coredns and pause must all be set: %+v", k.Version, k)
		}
		if seen[k.Minor()] {
			t.Errorf("minor %s listed twice", k.Minor())
		}
		seen[k.Minor()] = true
		if i > 0 && l.Kubernetes[i-1].Minor() >= k.Minor() {
			t.Errorf("list must be oldest first: %s before %s", l.Kubernetes[i-1].Version, k.Version)
		}
	}
	if l.Newest().Version != l.Kubernetes[2].Version {
		t.Errorf("Newest() = %s", l.Newest().Version)
	}
}
