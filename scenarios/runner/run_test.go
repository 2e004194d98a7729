package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const outageScenario = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: outage}
spec:
  description: An outage.
  intervals: {t: 5s/20ms}
  cluster:
    workers: {vm: 1, bareMetal: 0}
  steps:
  - fault: {name: lb-down, type: outage, service: load-balancer, expiresAfter: 10m}
  - createCluster: {}
  - expect:
      object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}
      condition: EndpointReady
      status: "False"
      reason: CloudError
      messageContains: "503"
      within: t
      stableFor: 100ms
  - clearFault: {name: lb-down}
  - mark: fault-end
  - expect: {object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}, condition: Ready, within: t}
  - mark: ready
  - measure: {name: recovery, from: fault-end, to: ready, slo: 60s}
  - assert: {noDuplicates: [loadbalancers, servers, floatingips]}
  cleanup:
  - clearFault: {all: true}
  - deleteCluster: {within: t}
  - assert: {nothingLeft: true, within: 1s}
`

// TestRunOutage runs the Octavia outage's shape against a fake service cluster whose
// "controller" makes the control plane Ready once fakecloud has no fault left.
func TestRunOutage(t *testing.T) {
	te := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the control plane's controller: Ready once the outage is over
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			if len(te.harness.Cloud.Faults.List()) > 0 || te.template.vars == nil {
				continue
			}
			var list unstructured.UnstructuredList
			list.SetAPIVersion("controlplane.cluster.x-k8s.io/v1alpha1")
			list.SetKind("GcoreControlPlaneList")
			if err := te.Service.List(ctx, &list); err != nil || len(list.Items) == 0 {
				continue
			}
			cp := list.Items[0]
			setConditions(t, te.Service, cp.GetNamespace(), cp.GetName(),
				metav1.Condition{Type: "EndpointReady", Status: metav1.ConditionTrue, Reason: "Ready"},
				metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"})
			return
		}
	}()
	res, err := Run(ctx, parse(t, outageScenario), te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Fatalf("run failed: %s\n%s", res.Verdict(), te.out.String())
	}
	if len(res.Steps) != 9 || len(res.Cleanup) != 3 {
		t.Errorf("steps %d, cleanup %d", len(res.Steps), len(res.Cleanup))
	}
	if len(res.Measurements) != 1 || res.Measurements[0].Name != "recovery" || !res.Measurements[0].Met() {
		t.Errorf("measurements %+v", res.Measurements)
	}
	if len(res.Faults) != 1 || res.Faults[0].Name != "lb-down" || res.Faults[0].CloudEvents < 0 || res.Faults[0].End.IsZero() {
		t.Errorf("fault windows %+v", res.Faults)
	}
	if !strings.HasPrefix(res.ClusterName, "outage-") || res.Namespace != res.ClusterName {
		t.Errorf("cluster %s/%s", res.Namespace, res.ClusterName)
	}
	if te.template.vars[VarNodeCIDR] != "10.6.1.0/24" && !strings.HasPrefix(te.template.vars[VarNodeCIDR], "10.6.") {
		t.Errorf("node CIDR %q", te.template.vars[VarNodeCIDR])
	}
	if got := te.template.vars["CLUSTER_NAME"]; got != res.ClusterName {
		t.Errorf("template CLUSTER_NAME %q, want %q", got, res.ClusterName)
	}
	if len(te.harness.Cloud.Faults.List()) != 0 {
		t.Errorf("faults left on: %v", te.harness.Cloud.Faults.List())
	}
	if len(te.dumps) != 0 {
		t.Errorf("a passing run dumped: %v", te.dumps)
	}
	mustContain(t, "progress", te.out.String(), "steps 1/9 fault ...", "steps 1/9 fault ok (", "measure recovery:", "cleanup 3/3 assert ok",
		"namespace "+res.Namespace+" deleted", "scenario outage: passed")
}

const failingScenario = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: failing}
spec:
  description: Never Ready.
  intervals: {short: 300ms/20ms}
  cluster:
    workers: {vm: 1, bareMetal: 0}
  steps:
  - fault: {name: lb-down, type: outage, service: load-balancer, expiresAfter: 10m}
  - createCluster: {}
  - expect: {object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}, condition: Ready, within: short}
  - mark: never
  cleanup:
  - deleteObject: {kind: ConfigMap, name: not-there}
  - deleteCluster: {within: short}
  - assert: {nothingLeft: true}
`

// TestCleanupAfterFailure: a failed expect ends the steps, reports the last conditions and the
// cloud's message, and every cleanup step runs even though the first fails; the run's fault is
// switched off and the artifacts dumped.
func TestCleanupAfterFailure(t *testing.T) {
	te := newTestEnv(t)
	sc := parse(t, strings.Replace(failingScenario, "  - deleteObject: {kind: ConfigMap, name: not-there}\n", "", 1))
	res, err := Run(context.Background(), sc, te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed() {
		t.Fatal("a run whose expect cannot pass passed")
	}
	fs := res.FailedStep()
	if fs == nil || fs.Index != 2 || fs.Action != "expect" {
		t.Fatalf("failed step %+v", fs)
	}
	mustContain(t, "error", fs.Error, "Ready=True not seen within 300ms", "Ready=False EndpointNotReady")
	mustContain(t, "cloud message", fs.CloudMessage, "503 The load-balancer service is unavailable")
	if len(fs.Conditions) != 1 || !strings.Contains(fs.Conditions[0], "EndpointReady=False CloudError") {
		t.Errorf("conditions %q", fs.Conditions)
	}
	if res.Steps[3].Status != StatusSkipped {
		t.Errorf("the step after the failure: %s", res.Steps[3].Status)
	}
	for _, c := range res.Cleanup {
		if c.Status != StatusPassed {
			t.Errorf("cleanup %d %s: %s %s", c.Index, c.Title, c.Status, c.Error)
		}
	}
	if len(te.harness.Cloud.Faults.List()) != 0 {
		t.Errorf("the run left its fault on")
	}
	if len(te.dumps) != 1 || !strings.Contains(te.dumps[0], "failing-") || !strings.HasSuffix(te.dumps[0], res.Namespace) {
		t.Errorf("dumps %v", te.dumps)
	}
	if res.ArtifactsDir == "" {
		t.Error("no artifacts directory in the result")
	}
}

// TestCleanupRunsEveryStepAndOnCancel: with the context cancelled before the run, every step
// is skipped and every cleanup step still runs, a failing one included.
func TestCleanupRunsEveryStepAndOnCancel(t *testing.T) {
	te := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, parse(t, failingScenario), te.Env)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Steps {
		if s.Status != StatusSkipped {
			t.Errorf("step %d ran with a cancelled context: %s", s.Index, s.Status)
		}
	}
	if len(res.Cleanup) != 3 {
		t.Fatalf("cleanup ran %d steps, want 3", len(res.Cleanup))
	}
	if res.Cleanup[0].Status != StatusFailed || res.Cleanup[1].Status != StatusPassed || res.Cleanup[2].Status != StatusPassed {
		t.Errorf("cleanup statuses %s %s %s", res.Cleanup[0].Status, res.Cleanup[1].Status, res.Cleanup[2].Status)
	}
	if fs := res.FailedStep(); fs == nil || fs.Phase != PhaseCleanup {
		t.Errorf("failed step %+v", fs)
	}
}

const countScenario = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: counting}
spec:
  description: Counts.
  intervals: {t: 2s/20ms}
  cluster:
    workers: {vm: 1, bareMetal: 0}
  steps:
  - mark: start
  - createCluster: {}
  - expect:
      object: {kind: GcoreControlPlane, selector: {cluster.x-k8s.io/cluster-name: "${CLUSTER_NAME}"}}
      count: 1
      condition: EndpointReady
      status: "False"
      within: t
      stableFor: 200ms
  - expect: {object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}, fieldPath: .spec.version, equals: v1.37.2, within: t}
  - expect: {object: {kind: Cluster, name: "${CLUSTER_NAME}-gone"}, count: 0, within: t}
  - wait: 30ms
  - mark: end
  - measure: {name: too-slow, from: start, to: end, slo: 1ms}
  - measure: {name: no-slo, from: start, to: end}
`

// TestExpectCountFieldAndMissedSLO: count, fieldPath/equals and stableFor pass; a measure
// over its SLO fails the scenario but not the step.
func TestExpectCountFieldAndMissedSLO(t *testing.T) {
	te := newTestEnv(t)
	res, err := Run(context.Background(), parse(t, countScenario), te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if fs := res.FailedStep(); fs != nil {
		t.Fatalf("step failed: %+v\n%s", fs, te.out.String())
	}
	if res.Passed() {
		t.Fatal("a missed SLO passed")
	}
	missed := res.MissedSLOs()
	if len(missed) != 1 || missed[0].Name != "too-slow" || missed[0].Value < 30*time.Millisecond {
		t.Errorf("missed %+v", missed)
	}
	if !strings.Contains(res.Verdict(), "SLO missed") {
		t.Errorf("verdict %q", res.Verdict())
	}
	if s := res.Measurements[1].String(); strings.Contains(s, "SLO") {
		t.Errorf("a measure without SLO renders %q", s)
	}
	mustContain(t, "progress", te.out.String(), "holding for")
}

// TestStableForBroken: a state that breaks before stableFor ends fails the expect.
func TestStableForBroken(t *testing.T) {
	te := newTestEnv(t)
	sc := parse(t, strings.NewReplacer("stableFor: 200ms", "stableFor: 2s", "within: t\n      stableFor", "within: short\n      stableFor",
		"intervals: {t: 2s/20ms}", "intervals: {t: 2s/20ms, short: 300ms/20ms}").Replace(countScenario))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			if te.template.vars == nil {
				continue
			}
			name := te.template.vars["CLUSTER_NAME"]
			setConditions(t, te.Service, name, name+"-control-plane", metav1.Condition{Type: "EndpointReady", Status: metav1.ConditionTrue, Reason: "Ready"})
			return
		}
	}()
	res, err := Run(ctx, sc, te.Env)
	if err != nil {
		t.Fatal(err)
	}
	fs := res.FailedStep()
	if fs == nil || fs.Index != 2 {
		t.Fatalf("failed step %+v\n%s", fs, te.out.String())
	}
	mustContain(t, "error", fs.Error, "EndpointReady=False")
}

// TestDeletePodAndKillManager deletes pods by selector with their claims, and a provider's
// manager pods.
func TestDeletePodAndKillManager(t *testing.T) {
	te := newTestEnv(t)
	sc := parse(t, `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: pods}
spec:
  description: Pods.
  steps:
  - deletePod: {namespace: work, selector: {app: etcd}, force: true, volumes: true}
  - killManager: {provider: infrastructure}
  - deleteObject: {kind: ConfigMap, namespace: work, name: cm}
`)
	objs := []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"work","name":"etcd-0","labels":{"app":"etcd"}},"spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-etcd-0"}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"work","name":"other","labels":{"app":"api"}}}`,
		`{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"namespace":"work","name":"data-etcd-0"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"work","name":"cm"}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"capgc-system","name":"capgc-controller-manager"},"spec":{"selector":{"matchLabels":{"control-plane":"capgc"}}}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"capgc-system","name":"capgc-1","labels":{"control-plane":"capgc"}}}`,
	}
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(o)); err != nil {
			t.Fatal(err)
		}
		if err := te.Service.Create(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(context.Background(), sc, te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Fatalf("%s\n%s", res.Verdict(), te.out.String())
	}
	exists := func(kind, ns, name string) bool {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		return te.Service.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, u) == nil
	}
	for _, c := range []struct {
		kind, ns, name string
		want           bool
	}{{"Pod", "work", "etcd-0", false}, {"Pod", "work", "other", true}, {"PersistentVolumeClaim", "work", "data-etcd-0", false},
		{"ConfigMap", "work", "cm", false}, {"Pod", "capgc-system", "capgc-1", false}} {
		if got := exists(c.kind, c.ns, c.name); got != c.want {
			t.Errorf("%s %s/%s exists: %v, want %v", c.kind, c.ns, c.name, got, c.want)
		}
	}
}

// TestUnavailableParts: a step whose part of the environment is missing fails saying so.
func TestUnavailableParts(t *testing.T) {
	te := newTestEnv(t)
	sc := parse(t, `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: parts}
spec:
  description: Parts.
  steps:
  - killFakecloud: {}
  cleanup:
  - restartServiceNode: {}
`)
	res, err := Run(context.Background(), sc, te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps[0].Status != StatusFailed || !strings.Contains(res.Steps[0].Error, "needs the sandbox's disruptions") ||
		res.Cleanup[0].Status != StatusFailed {
		t.Errorf("steps %+v cleanup %+v", res.Steps, res.Cleanup)
	}
}
