package infrastructure

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

func TestReplacementWait(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	failed := func(ago time.Duration, instance string) *infrav1.GcoreMachine {
		gm := &infrav1.GcoreMachine{}
		gm.Status.InstanceID = instance
		gm.Status.LastFailedServer = &infrav1.FailedServer{ID: "old", FailedAt: metav1.NewTime(now.Add(-ago))}
		return gm
	}
	for _, tc := range []struct {
		name string
		gm   *infrav1.GcoreMachine
		want time.Duration
	}{
		{"no failure", &infrav1.GcoreMachine{}, 0},
		{"failed just now", failed(0, ""), retryShort},
		{"failed 2s ago", failed(2*time.Second, ""), retryShort - 2*time.Second},
		{"failed long ago", failed(time.Minute, ""), 0},
		{"replacement already made", failed(0, "new"), 0},
	} {
		if got := replacementWait(tc.gm, now); got != tc.want {
			t.Errorf("%s: replacementWait = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not cut in half
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
