package scenarios

import (
	"strings"
	"testing"
)

// upgradeDoc uses the built-in variables, a declared one and the runtime ones.
const upgradeDoc = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata:
  name: test
spec:
  description: Upgrade from ${KUBERNETES_VERSION_UPGRADE_FROM} to ${KUBERNETES_VERSION_UPGRADE_TO}.
  variables:
    FLAVOR: g1.medium
    SETTLE: 30s
  cluster:
    kubernetesVersion: ${KUBERNETES_VERSION_UPGRADE_FROM}
    workers: {vm: 1, bareMetal: 0}
    variables: {GCORE_WORKER_FLAVOR: "${FLAVOR}"}
  steps:
  - createCluster: {}
  - wait: ${SETTLE}
  - upgrade: {to: "${KUBERNETES_VERSION_UPGRADE_TO}"}
  - expect:
      object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane", namespace: "${NAMESPACE}"}
      fieldPath: .status.version
      equals: ${KUBERNETES_VERSION_UPGRADE_TO}
      within: upgrade
`

func TestVariableDefaults(t *testing.T) {
	s, err := testLoader(t, Options{}).Parse("test.yaml", []byte(upgradeDoc))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Spec.Cluster.KubernetesVersion; got != "v1.36.3" {
		t.Errorf("cluster version %s, want the second newest pinned, v1.36.3", got)
	}
	if got := s.Spec.Steps[2].Upgrade.To; got != "v1.37.2" {
		t.Errorf("upgrade to %s, want the newest pinned, v1.37.2", got)
	}
	if got := s.Spec.Description; got != "Upgrade from v1.36.3 to v1.37.2." {
		t.Errorf("description %q", got)
	}
	if got := s.Spec.Steps[1].Wait.Seconds(); got != 30 {
		t.Errorf("wait %gs, want 30s from a declared variable", got)
	}
	if got := s.Spec.Cluster.Variables["GCORE_WORKER_FLAVOR"]; got != "g1.medium" {
		t.Errorf("flavor %q", got)
	}
	if got := s.Spec.Steps[3].Expect.Object.Name; got != "${CLUSTER_NAME}-control-plane" {
		t.Errorf("a runtime variable was expanded at load time: %q", got)
	}
	if s.Resolved[VarKubernetesVersion] != "v1.37.2" || s.Resolved["FLAVOR"] != "g1.medium" {
		t.Errorf("resolved variables %v", s.Resolved)
	}
}

func TestVariablesFromEnvironment(t *testing.T) {
	t.Setenv(VarUpgradeFrom, "v1.35.4")
	t.Setenv(VarUpgradeTo, "v1.36.3")
	t.Setenv("FLAVOR", "g1.large")
	t.Setenv("SETTLE", "1m")
	l, err := NewLoader(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Parse("test.yaml", []byte(upgradeDoc))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Spec.Cluster.KubernetesVersion; got != "v1.35.4" {
		t.Errorf("cluster version %s, want v1.35.4 from the environment", got)
	}
	if got := s.Spec.Steps[2].Upgrade.To; got != "v1.36.3" {
		t.Errorf("upgrade to %s, want v1.36.3 from the environment", got)
	}
	if got := s.Spec.Cluster.Variables["GCORE_WORKER_FLAVOR"]; got != "g1.large" {
		t.Errorf("flavor %q, want the environment's", got)
	}
	if got := s.Spec.Steps[1].Wait.Seconds(); got != 60 {
		t.Errorf("wait %gs, want 1m from the environment", got)
	}

	// The loader's overrides come before the environment.
	l, err = NewLoader(Options{Overrides: map[string]string{VarUpgradeTo: "v1.37.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if s, err = l.Parse("test.yaml", []byte(upgradeDoc)); err != nil {
		t.Fatal(err)
	}
	if got := s.Spec.Steps[2].Upgrade.To; got != "v1.37.2" {
		t.Errorf("upgrade to %s, want v1.37.2 from the overrides", got)
	}
}

func TestVariableFromEnvironmentIsChecked(t *testing.T) {
	t.Setenv(VarUpgradeTo, "v1.35.4") // older than the start
	l, err := NewLoader(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Parse("test.yaml", []byte(upgradeDoc))
	want := "test.yaml:17: spec.steps[2].upgrade.to: cannot upgrade from v1.36.3 to v1.35.4"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func TestUndeclaredVariableIgnoresEnvironment(t *testing.T) {
	t.Setenv("WHICH", "controlPlane")
	l, err := NewLoader(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Parse("test.yaml", []byte(header+"  - killManager: {provider: \"${WHICH}\"}\n"))
	want := "test.yaml:11: undefined variable ${WHICH}: declare it in spec.variables"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func TestRuntimeVariables(t *testing.T) {
	l := testLoader(t, Options{Runtime: map[string]string{VarClusterName: "test-x7k2p", VarNamespace: "scenario-test"}})
	s, err := l.Parse("test.yaml", []byte(upgradeDoc))
	if err != nil {
		t.Fatal(err)
	}
	obj := s.Spec.Steps[3].Expect.Object
	if obj.Name != "test-x7k2p-control-plane" || obj.Namespace != "scenario-test" {
		t.Errorf("object %+v, want the runtime values", obj)
	}
	vars := s.Spec.Cluster.TemplateVariables("test-x7k2p", "scenario-test")
	for k, want := range map[string]string{
		TemplateClusterName: "test-x7k2p", TemplateNamespace: "scenario-test", TemplateKubernetesVersion: "v1.36.3",
		TemplateControlPlaneCount: "1", TemplateWorkerCount: "1", TemplateBareMetalCount: "0", "GCORE_WORKER_FLAVOR": "g1.medium",
	} {
		if vars[k] != want {
			t.Errorf("template variable %s = %q, want %q", k, vars[k], want)
		}
	}
}

func TestUnterminatedReference(t *testing.T) {
	_, err := testLoader(t, Options{}).Parse("test.yaml", []byte(header+"  - killManager: {provider: \"${WHICH\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "test.yaml:11: \"${WHICH\" holds a ${ without its closing }") {
		t.Fatalf("error %v", err)
	}
}
