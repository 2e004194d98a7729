package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/versions"
)

// noEnv is an environment with nothing set, so tests do not depend on the caller's.
func noEnv(string) (string, bool) { return "", false }

func testLoader(t *testing.T, opts Options) *Loader {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	if opts.Versions == nil {
		opts.Versions = &versions.List{Kubernetes: []versions.Kubernetes{{Version: "v1.35.4"}, {Version: "v1.36.3"}, {Version: "v1.37.2"}}}
	}
	l, err := NewLoader(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// header is a valid scenario up to its first step; the steps a test adds start on line 11.
const header = `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata:
  name: test
spec:
  description: A test.
  cluster:
    workers: {vm: 1, bareMetal: 0}
  steps:
  - createCluster: {}
`

func TestBuiltinScenarios(t *testing.T) {
	l, err := NewLoader(Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	files, err := BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	list, err := l.ParseAll(files)
	if err != nil {
		t.Fatalf("built-in scenarios:\n%v", err)
	}
	if len(list) != len(files) || len(list) < 12 {
		t.Fatalf("%d files, %d scenarios: want every file valid and at least the 12 first scenarios", len(files), len(list))
	}
	var smoke []string
	for _, s := range list {
		name := s.Metadata.Name
		if want := "scenarios/" + name + ".yaml"; s.File != want {
			t.Errorf("scenario %s is in %s, want %s", name, s.File, want)
		}
		if _, ok := s.Metadata.Labels["smoke"]; ok {
			smoke = append(smoke, name)
		}
		if len(s.Metadata.Labels) == 0 {
			t.Errorf("%s: no labels", name)
		}
		for _, part := range []string{"Pass:", "Reports:"} {
			if !strings.Contains(s.Spec.Description, part) {
				t.Errorf("%s: the description says no %q", name, part)
			}
		}
		all := slices.Concat(s.Spec.Steps, s.Spec.Cleanup)
		has := func(f func(Step) bool) bool { return slices.ContainsFunc(all, f) }
		if !has(func(st Step) bool { return st.Assert != nil && len(st.Assert.NoDuplicates) > 0 }) {
			t.Errorf("%s: no noDuplicates assertion", name)
		}
		if !has(func(st Step) bool { return st.Assert != nil && st.Assert.NothingLeft }) {
			t.Errorf("%s: no nothingLeft assertion", name)
		}
		if !slices.ContainsFunc(s.Spec.Cleanup, func(st Step) bool { return st.DeleteCluster != nil }) {
			t.Errorf("%s: the cleanup does not delete the cluster", name)
		}
		if !has(func(st Step) bool { return st.Measure != nil && st.Measure.SLO.Duration > 0 }) {
			t.Errorf("%s: no measure with an SLO", name)
		}
		if _, chaos := s.Metadata.Labels["chaos"]; chaos && name != "neutron-flaky" &&
			!has(func(st Step) bool {
				return st.Measure != nil && st.Measure.Name == "recovery" && st.Measure.SLO.Seconds() == 60
			}) {
			t.Errorf("%s: a chaos scenario reports its recovery with an SLO of 60s", name)
		}
		for _, st := range all {
			if st.Fault != nil && st.Fault.ExpiresAfter.Duration <= 0 {
				t.Errorf("%s: a fault without expiry", name)
			}
		}
	}
	if !slices.Equal(smoke, []string{"octavia-outage"}) {
		t.Errorf("smoke scenarios %v, want [octavia-outage]", smoke)
	}
}

func TestFirstScenariosExist(t *testing.T) {
	l := testLoader(t, Options{})
	list, err := l.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(list))
	for _, s := range list {
		names = append(names, s.Metadata.Name)
	}
	for _, want := range []string{"octavia-outage", "octavia-stuck-create", "nova-server-error", "quota-exhausted",
		"neutron-flaky", "manager-killed", "fakecloud-killed", "etcd-member-lost", "apiservers-deleted",
		"service-node-restart", "lifecycle", "upgrade"} {
		if !slices.Contains(names, want) {
			t.Errorf("no scenario %s (have %v)", want, names)
		}
	}
}

func TestUnknownFieldNamesFileAndLine(t *testing.T) {
	_, err := testLoader(t, Options{}).Parse("scenarios/octavia-outage.yaml", []byte(header+"  - fualt: {type: outage}\n"))
	want := "scenarios/octavia-outage.yaml:11: field fualt not found in type scenarios.Step"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != "scenarios/octavia-outage.yaml" {
		t.Fatalf("error %T, want a *FileError of the file", err)
	}
}

func TestRejectedSteps(t *testing.T) {
	for _, c := range []struct{ name, steps, want string }{
		{"unknown field", "  - fault: {type: outage, service: load-balancer, expiresAfter: 5m, sevice: x}\n",
			"test.yaml:11: field sevice not found in type scenarios.Fault"},
		{"a valid step", "  - wait: 1s\n", ""},
		{"no action", "  - name: nothing\n", "test.yaml:11: spec.steps[1]: no action"},
		{"two actions", "  - wait: 1s\n    mark: m\n", "test.yaml:11: spec.steps[1]: 2 actions (wait, mark)"},
		{"fault without expiry", "  - fault: {type: outage, service: load-balancer}\n",
			"test.yaml:11: spec.steps[1].fault.expiresAfter: required"},
		{"fault expiring too late", "  - fault: {type: outage, service: load-balancer, expiresAfter: 2h}\n",
			"test.yaml:11: spec.steps[1].fault.expiresAfter: at most 1h0m0s"},
		{"probabilistic fault without seed", "  - fault: {type: error, service: network, rate: 0.3, expiresAfter: 5m}\n",
			"test.yaml:11: spec.steps[1].fault.seed: required"},
		{"seed of a certain fault", "  - fault: {type: error, service: network, seed: 1, expiresAfter: 5m}\n",
			"spec.steps[1].fault.seed: only a fault with a rate below 1"},
		{"rate above 1", "  - fault: {type: error, service: network, rate: 1.5, expiresAfter: 5m}\n",
			"spec.steps[1].fault.rate: must be above 0 and at most 1"},
		{"unknown fault type", "  - fault: {type: flood, expiresAfter: 5m}\n", `spec.steps[1].fault.type: unknown fault type "flood"`},
		{"field of another fault type", "  - fault: {type: outage, service: compute, stuckFor: 1m, expiresAfter: 5m}\n",
			"spec.steps[1].fault.stuckFor: does not apply to a outage fault"},
		{"unknown service", "  - fault: {type: outage, service: octavia, expiresAfter: 5m}\n", `fault.service: unknown service "octavia"`},
		{"error status", "  - fault: {type: error, service: compute, status: 200, expiresAfter: 5m}\n", "fault.status: 200 is not an HTTP error status"},
		{"latency missing", "  - fault: {type: latency, service: compute, expiresAfter: 5m}\n", "fault.latency: required"},
		{"outage mode", "  - fault: {type: outage, service: compute, mode: slow, expiresAfter: 5m}\n", `fault.mode: want 503 or drop, got "slow"`},
		{"stuck without operation", "  - fault: {type: stuck, stuckFor: 30s, expiresAfter: 5m}\n", "fault.operation: required"},
		{"stuck on no task", "  - fault: {type: stuck, operation: lb.create, stuckFor: 30s, expiresAfter: 5m}\n",
			`fault.operation: "lb.create" matches no task kind`},
		{"stuck expiring first", "  - fault: {type: stuck, operation: loadbalancer.create, stuckFor: 5m, expiresAfter: 1m}\n",
			"fault.expiresAfter: must be longer than stuckFor"},
		{"quota without limit", "  - fault: {type: quota, resource: instances, expiresAfter: 5m}\n", "fault.limit: required"},
		{"quota on nothing", "  - fault: {type: quota, resource: gpus, limit: 1, expiresAfter: 5m}\n", `fakecloud enforces no quota "gpus"`},
		{"bad duration", "  - fault: {type: outage, service: compute, expiresAfter: 5 minutes}\n",
			`test.yaml:11: "5 minutes" is not a duration`},
		{"measure of an unknown mark", "  - mark: a\n  - measure: {name: m, from: a, to: b}\n",
			`test.yaml:12: spec.steps[2].measure.to: unknown mark "b"`},
		{"measure before its mark", "  - measure: {name: m, from: a, to: b}\n  - mark: a\n  - mark: b\n",
			`test.yaml:11: spec.steps[1].measure.from: unknown mark "a"`},
		{"mark set twice", "  - mark: a\n  - mark: a\n", `test.yaml:12: spec.steps[2].mark: mark "a" is already set`},
		{"unknown interval", "  - expect: {object: {kind: Cluster, name: x}, condition: Available, within: forever}\n",
			`test.yaml:11: spec.steps[1].expect.within: unknown interval "forever"`},
		{"expect without within", "  - expect: {object: {kind: Cluster, name: x}, condition: Available}\n",
			"spec.steps[1].expect.within: required"},
		{"unknown condition", "  - expect: {object: {kind: GcoreControlPlane, name: x}, condition: Redy, within: create}\n",
			`spec.steps[1].expect.condition: GcoreControlPlane has no condition "Redy"`},
		{"condition and field", "  - expect: {object: {kind: Cluster, name: x}, condition: Available, fieldPath: .spec.paused, equals: \"true\", within: 1m}\n",
			"spec.steps[1].expect: set condition or fieldPath, not both"},
		{"unknown kind without apiVersion", "  - expect: {object: {kind: Widget, name: x}, count: 1, within: 1m}\n",
			"spec.steps[1].expect.object.apiVersion: required for kind Widget"},
		{"unknown field of an inline object", "  - deleteObject: {kind: Secret, name: x, nmae: y}\n",
			"test.yaml:11: field nmae not found in type scenarios.DeleteObject"},
		{"stable longer than within", "  - expect: {object: {kind: Cluster, name: x}, condition: Available, within: 1m, stableFor: 2m}\n",
			"spec.steps[1].expect.stableFor: 2m0s does not fit in within (1m0s)"},
		{"probe of nothing", "  - probe: {within: 1m}\n", "spec.steps[1].probe: set apiServer: {} or logs"},
		{"name and selector", "  - deletePod: {name: x, selector: {a: b}}\n", "spec.steps[1].deletePod: set name or selector, not both"},
		{"clear an unknown fault", "  - clearFault: {name: nope}\n", `spec.steps[1].clearFault.name: no earlier step switches on a fault named "nope"`},
		{"unknown provider", "  - killManager: {provider: capo}\n", `spec.steps[1].killManager.provider: unknown provider "capo"`},
		{"unknown canary", "  - assert: {canary: nope}\n", `spec.steps[1].assert.canary: no earlier writeCanary step writes a canary named "nope"`},
		{"unknown duplicate kind", "  - assert: {noDuplicates: [servers, volumes]}\n", `spec.steps[1].assert.noDuplicates[1]: unknown resource kind "volumes"`},
		{"upgrade to an older version", "  - upgrade: {to: v1.36.3}\n", "spec.steps[1].upgrade.to: cannot upgrade from v1.37.2 to v1.36.3"},
		{"upgrade to an unpinned version", "  - upgrade: {to: v1.38.0}\n", `spec.steps[1].upgrade.to: "v1.38.0" is not a pinned Kubernetes version`},
		{"scale without replicas", "  - scale: {machineDeployment: \"${CLUSTER_NAME}-md-0\"}\n", "spec.steps[1].scale.replicas: required"},
		{"second cluster", "  - createCluster: {}\n", "spec.steps[1].createCluster: a scenario creates one cluster"},
		{"undefined variable", "  - killManager: {provider: \"${WHICH}\"}\n", "test.yaml:11: undefined variable ${WHICH}"},
		{"variable in a count", "  - scale: {machineDeployment: x, replicas: \"${N}\"}\n", "test.yaml:11: cannot unmarshal !!str `${N}` into int"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := testLoader(t, Options{}).Parse("test.yaml", []byte(header+c.steps))
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant one containing %q", err, c.want)
			}
		})
	}
}

func TestRejectedFiles(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"empty", "", "test.yaml: empty file"},
		{"syntax", "apiVersion: x\n  kind: y\n", "test.yaml:2: mapping values are not allowed in this context"},
		{"duplicate key", header + "  - wait: 1s\n    wait: 2s\n", `test.yaml:12: mapping key "wait" already defined at line 11`},
		{"a list", "- a\n- b\n", "test.yaml:1: want a Scenario"},
		{"wrong apiVersion", strings.Replace(header, "v1alpha1", "v1", 1),
			`test.yaml:1: apiVersion: want scenarios.kaas.sandbox/v1alpha1, got "scenarios.kaas.sandbox/v1"`},
		{"wrong kind", strings.Replace(header, "kind: Scenario", "kind: Scenery", 1), `test.yaml:2: kind: want Scenario, got "Scenery"`},
		{"name not a DNS label", strings.Replace(header, "name: test", "name: Test_1", 1),
			`test.yaml:4: metadata.name: "Test_1" is not a DNS-1123 label`},
		{"no name", strings.Replace(header, "  name: test\n", "  labels: {a: b}\n", 1), "test.yaml:3: metadata.name: required"},
		{"bad label", strings.Replace(header, "  name: test\n", "  name: test\n  labels: {\"a b\": x}\n", 1),
			"metadata.labels.a b: not a valid label key"},
		{"no description", strings.Replace(header, "  description: A test.\n", "", 1), "test.yaml:5: spec.description: required"},
		{"no steps", strings.Replace(header, "  - createCluster: {}\n", "", 1), "spec.steps: required"},
		{"createCluster without cluster", strings.Replace(header, "  cluster:\n    workers: {vm: 1, bareMetal: 0}\n", "", 1),
			"spec.steps[0].createCluster: needs spec.cluster"},
		{"version not pinned", strings.Replace(header, "  cluster:\n", "  cluster:\n    kubernetesVersion: v1.30.0\n", 1),
			`test.yaml:8: spec.cluster.kubernetesVersion: "v1.30.0" is not a pinned Kubernetes version`},
		{"reserved template variable", strings.Replace(header, "  cluster:\n", "  cluster:\n    variables: {WORKER_MACHINE_COUNT: \"3\"}\n", 1),
			"spec.cluster.variables.WORKER_MACHINE_COUNT: WORKER_MACHINE_COUNT: set workers.vm"},
		{"runtime variable declared", strings.Replace(header, "  cluster:\n", "  variables: {CLUSTER_NAME: x}\n  cluster:\n", 1),
			"spec.variables.CLUSTER_NAME: CLUSTER_NAME is set by the runner"},
		{"interval named like a duration", strings.Replace(header, "  cluster:\n", "  intervals: {5m: 5m/5s}\n  cluster:\n", 1),
			"spec.intervals.5m: an interval's name must not read as a duration"},
		{"unknown interval field", strings.Replace(header, "  cluster:\n", "  intervals:\n    slow: {timeout: 5m, pol: 5s}\n  cluster:\n", 1),
			"test.yaml:8: field pol not found in type scenarios.Interval"},
		{"second document", header + "---\napiVersion: x\n", "test.yaml:11: a second YAML document"},
		{"a fault in the cleanup", header + "  cleanup:\n  - fault: {type: outage, service: compute, expiresAfter: 1m}\n",
			"test.yaml:12: spec.cleanup[0].fault: the cleanup may not switch a fault on"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := testLoader(t, Options{}).Parse("test.yaml", []byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant one containing %q", err, c.want)
			}
		})
	}
}

func TestEveryProblemOfAFile(t *testing.T) {
	doc := strings.Replace(header, "v1alpha1", "v2", 1) +
		"  - fault: {type: outage, service: load-balancer}\n" +
		"  - fualt: {}\n" +
		"  - measure: {name: m, from: a, to: b}\n"
	_, err := testLoader(t, Options{}).Parse("test.yaml", []byte(doc))
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *FileError", err)
	}
	lines := map[int]bool{}
	for _, p := range fe.Problems {
		lines[p.Line] = true
	}
	for _, l := range []int{1, 11, 12, 13} {
		if !lines[l] {
			t.Errorf("no problem on line %d:\n%v", l, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(fe.Problems) {
		t.Errorf("%d lines for %d problems", n, len(fe.Problems))
	}
}

func TestDuplicateNames(t *testing.T) {
	l := testLoader(t, Options{})
	list, err := l.ParseAll([]File{{Name: "a.yaml", Data: []byte(header)}, {Name: "b.yaml", Data: []byte(header)}})
	want := `b.yaml:4: metadata.name: duplicate scenario name "test" (also in a.yaml:4)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	if len(list) != 2 {
		t.Errorf("%d scenarios parsed, want both", len(list))
	}
}
