package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/scenarios"
	"github.com/kaas-sandbox/sandbox/scenarios/runner"
)

// fakeRunner records the scenarios run and fails those named in fail.
type fakeRunner struct {
	ran  []string
	fail map[string]bool
	slow map[string]bool // misses its SLO
}

func (f *fakeRunner) deps() runDeps {
	return runDeps{
		newEnv: func(context.Context) (*runner.Env, error) { return &runner.Env{}, nil },
		run: func(_ context.Context, sc *scenarios.Scenario, _ *runner.Env) (*runner.Result, error) {
			f.ran = append(f.ran, sc.Metadata.Name)
			r := &runner.Result{Scenario: sc.Metadata.Name, KubernetesVersion: "v1.37.2", Started: time.Now(), Duration: time.Second,
				Steps: []runner.StepResult{{Title: "createCluster", Action: "createCluster", Status: runner.StatusPassed}}}
			if f.fail[sc.Metadata.Name] {
				r.Steps[0].Status, r.Steps[0].Error = runner.StatusFailed, "boom"
			}
			slo := time.Minute
			if f.slow[sc.Metadata.Name] {
				slo = time.Second
			}
			r.Measurements = []runner.Measurement{{Name: "recovery", Value: 30 * time.Second, SLO: slo}}
			return r, nil
		},
	}
}

func runWith(t *testing.T, f *fakeRunner, args ...string) (string, error) {
	t.Helper()
	for _, k := range []string{"KUBERNETES_VERSION", "KUBERNETES_VERSION_UPGRADE_FROM", "KUBERNETES_VERSION_UPGRADE_TO", "PROVIDER"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	cmd := newCommand(f.deps())
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestRunPassWritesReports(t *testing.T) {
	dir := t.TempDir()
	f := &fakeRunner{}
	out, err := runWith(t, f, "scenario", "run", "--label", "smoke", "--report-dir", dir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if strings.Join(f.ran, ",") != "octavia-outage" {
		t.Errorf("ran %v", f.ran)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| octavia-outage | v1.37.2 | passed |") || !strings.Contains(string(md), "recovery 30s (SLO 1m0s, met)") {
		t.Errorf("report.md:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "junit.xml")); err != nil {
		t.Error(err)
	}
}

func TestRunFailureExitStatusAndKeepGoing(t *testing.T) {
	f := &fakeRunner{fail: map[string]bool{"lifecycle": true}}
	out, err := runWith(t, f, "scenario", "run", "lifecycle", "octavia-outage", "--report-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "1 of 2 scenarios failed: lifecycle") {
		t.Fatalf("err %v\n%s", err, out)
	}
	if strings.Join(f.ran, ",") != "lifecycle" || !strings.Contains(out, "1 scenarios not run") {
		t.Errorf("without --keep-going ran %v\n%s", f.ran, out)
	}
	f = &fakeRunner{fail: map[string]bool{"lifecycle": true}}
	if _, err := runWith(t, f, "scenario", "run", "lifecycle", "octavia-outage", "--keep-going", "--report-dir", t.TempDir()); err == nil {
		t.Error("a failed scenario with --keep-going: exit status 0")
	}
	if strings.Join(f.ran, ",") != "lifecycle,octavia-outage" {
		t.Errorf("with --keep-going ran %v", f.ran)
	}
}

func TestRunMissedSLOFails(t *testing.T) {
	f := &fakeRunner{slow: map[string]bool{"octavia-outage": true}}
	if out, err := runWith(t, f, "scenario", "run", "octavia-outage", "--report-dir", t.TempDir()); err == nil {
		t.Fatalf("a missed SLO: exit status 0\n%s", out)
	}
}

func TestRunArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scenario", "run"}, "name the scenarios to run"},
		{[]string{"scenario", "run", "nope"}, `no scenario named "nope"`},
		{[]string{"scenario", "run", "-l", "nolabel"}, "no scenario has the labels"},
		{[]string{"scenario", "run", "lifecycle", "--set", "novalue"}, "want VAR=VALUE"},
	} {
		f := &fakeRunner{}
		_, err := runWith(t, f, append(c.args, "--report-dir", t.TempDir())...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
		if len(f.ran) > 0 {
			t.Errorf("%v ran %v", c.args, f.ran)
		}
	}
}

func TestRunFileAndSet(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mine.yaml", valid)
	f := &fakeRunner{}
	out, err := runWith(t, f, "scenario", "run", "--file", dir, "--all", "--set", "KUBERNETES_VERSION=v1.36.3", "--report-dir", t.TempDir())
	if err != nil || strings.Join(f.ran, ",") != "mine" {
		t.Fatalf("err %v ran %v\n%s", err, f.ran, out)
	}
}
