package runner

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func sampleResults() []*Result {
	seed := int64(20261207)
	start := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	return []*Result{
		{
			Scenario: "octavia-outage", KubernetesVersion: "v1.37.2", ClusterName: "octavia-outage-abcde", Namespace: "octavia-outage-abcde",
			Started: start, Duration: 3 * time.Minute,
			Steps:        []StepResult{{Title: "fault", Status: StatusPassed}},
			Measurements: []Measurement{{Name: "recovery", Value: 42 * time.Second, SLO: time.Minute}},
			Faults:       []FaultWindow{{Name: "octavia-down", Start: start, End: start.Add(2 * time.Minute), CloudEvents: 17}},
		},
		{
			Scenario: "neutron-flaky", KubernetesVersion: "v1.37.2", Started: start, Duration: 5 * time.Minute,
			Steps: []StepResult{{Title: "createCluster", Status: StatusPassed}, {Phase: PhaseSteps, Index: 2, Title: "expect", Status: StatusFailed,
				Error: "Cluster x Available=True not seen within 15m0s", CloudMessage: "Neutron is overloaded | 503",
				Conditions: []string{"Cluster x: Available=False NotReady: waiting"}}},
			Measurements: []Measurement{{Name: "creation", Value: 6 * time.Minute, SLO: 5 * time.Minute}},
			Faults:       []FaultWindow{{Name: "neutron-flaky", Seed: &seed, Start: start, End: start.Add(time.Minute), CloudEvents: -1}},
			Leaks:        []string{"network k8s-ns-x (id1, ACTIVE)"},
			Notes:        []string{"namespace neutron-flaky-x1y2z kept: its Cluster is still there"},
			ArtifactsDir: "e2e/_artifacts/scenarios/neutron-flaky-20261207-200000",
		},
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	mustContain(t, "report", md,
		"| Scenario | Kubernetes | Result | Failed step | Measurements | Cloud events during faults | Leaks and duplicates |",
		"| octavia-outage | v1.37.2 | passed |  | recovery 42s (SLO 1m0s, met) | octavia-down: 17 in 2m0s | none |",
		"| neutron-flaky | v1.37.2 | **FAILED** | steps 3 expect: Cluster x Available=True not seen within 15m0s (cloud: Neutron is overloaded \\| 503)",
		"creation 6m0s (SLO 5m0s, missed)", "neutron-flaky: n/a in 1m0s", "left: network k8s-ns-x (id1, ACTIVE)",
		"fakecloud does not count API calls", "Last conditions seen:\n\n- Cluster x: Available=False NotReady: waiting",
		"Note: namespace neutron-flaky-x1y2z kept: its Cluster is still there", "Artifacts: `e2e/_artifacts/scenarios/neutron-flaky-20261207-200000`")
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| neutron-flaky") && strings.Count(line, " | ") != 6 {
			t.Errorf("a row with an unescaped |: %s", line)
		}
	}
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("counts: %+v", doc)
	}
	pass, fail := doc.Suites[0].Cases[0], doc.Suites[0].Cases[1]
	if pass.Failure != nil || pass.Time != "180.000" {
		t.Errorf("passing case %+v", pass)
	}
	props := map[string]string{}
	for _, p := range pass.Properties {
		props[p.Name] = p.Value
	}
	for k, v := range map[string]string{"measure.recovery": "42.000", "measure.recovery.slo": "60.000", "measure.recovery.met": "true",
		"fault.octavia-down.cloud-events": "17", "kubernetes-version": "v1.37.2", "leaks": "0"} {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
	if fail.Failure == nil {
		t.Fatal("the failed case has no failure")
	}
	mustContain(t, "failure message", fail.Failure.Message, "failed at steps step 3 (expect)", "Available=True not seen within 15m0s")
	mustContain(t, "failure text", fail.Failure.Text, "cloud's message: Neutron is overloaded", "SLO missed: creation", "left in the cloud: network k8s-ns-x",
		"artifacts: e2e/_artifacts/scenarios/neutron-flaky")
}
