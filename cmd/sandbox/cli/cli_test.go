package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the sandbox command in-process and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	for _, k := range []string{"KUBERNETES_VERSION", "KUBERNETES_VERSION_UPGRADE_FROM", "KUBERNETES_VERSION_UPGRADE_TO", "PROVIDER"} {
		t.Setenv(k, "") // the caller's environment must not change the built-in scenarios
	}
	var out bytes.Buffer
	cmd := NewCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

const valid = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata:
  name: mine
  labels: {chaos: "true", team: storage}
spec:
  description: Mine. It waits.
  steps:
  - wait: 1s
`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateBuiltin(t *testing.T) {
	out, err := run(t, "scenario", "validate")
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	for _, want := range []string{"scenarios/octavia-outage.yaml: OK (octavia-outage)", "scenarios/upgrade.yaml: OK (upgrade)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateBadFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", valid)
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(valid, "  - wait: 1s\n", "  - wait: 1s\n  - fualt: {type: outage}\n", 1))
	out, err := run(t, "scenario", "validate", good, bad)
	if err == nil {
		t.Fatalf("validate of a bad file: no error\n%s", out)
	}
	for _, want := range []string{good + ": OK (mine)", bad + ":10: field fualt not found in type scenarios.Step",
		bad + ":10: spec.steps[1]: no action", "1 of 2 scenario files are not valid"} {
		if !strings.Contains(out+err.Error(), want) {
			t.Errorf("output lacks %q:\n%s%v", want, out, err)
		}
	}
}

func TestValidateDirectoryWithDuplicates(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", valid)
	writeFile(t, dir, "b.yaml", valid)
	out, err := run(t, "scenario", "validate", dir)
	if err == nil || !strings.Contains(out, `b.yaml:4: metadata.name: duplicate scenario name "mine"`) {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}

func TestListSmoke(t *testing.T) {
	out, err := run(t, "scenario", "list", "--label", "smoke", "-o", "names")
	if err != nil {
		t.Fatal(err)
	}
	if out != "octavia-outage\n" {
		t.Errorf("smoke scenarios %q, want octavia-outage", out)
	}
}

func TestListTable(t *testing.T) {
	out, err := run(t, "scenario", "list", "-l", "chaos,octavia")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list:\n%s", out)
	}
	if !strings.Contains(out, "octavia-outage") || !strings.Contains(out, "chaos,octavia,smoke") ||
		!strings.Contains(out, "Octavia is down (every load-balancer call answers 503) while a cluster is created.") {
		t.Errorf("list:\n%s", out)
	}
}

func TestListDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mine.yaml", valid)
	out, err := run(t, "scenario", "list", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "mine") || !strings.Contains(out, "chaos,team=storage") || !strings.Contains(out, "Mine.") {
		t.Errorf("list:\n%s", out)
	}
}

func TestListRejectsBadFlags(t *testing.T) {
	if _, err := run(t, "scenario", "list", "-o", "json"); err == nil {
		t.Error("-o json: no error")
	}
	if _, err := run(t, "scenario", "list", "-l", "a in ("); err == nil {
		t.Error("a bad selector: no error")
	}
}
