package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxNamePrefix bounds spec.cluster.namePrefix: with the runner's 6-character suffix and the
// longest Service name the control plane derives from the cluster's name ("-etcd-client"),
// names stay within a DNS label's 63 characters.
const MaxNamePrefix = 40

// validator checks a decoded scenario, step after step, remembering what earlier steps set.
type validator struct {
	s        *Scenario
	pinned   []string
	problems []pathProblem

	faults   map[string]bool
	marks    map[string]bool
	measures map[string]bool
	canaries map[string]bool
	created  bool
	// version is the cluster's Kubernetes version at this point of the steps.
	version   string
	inCleanup bool
}

type pathProblem struct {
	path fieldPath
	msg  string
}

func (v *validator) errorf(p fieldPath, format string, args ...any) {
	v.problems = append(v.problems, pathProblem{path: p, msg: fmt.Sprintf(format, args...)})
}

// problemsAt returns the problems found so far at p or under it.
func (v *validator) problemsAt(p fieldPath) []pathProblem {
	var out []pathProblem
	prefix := p.String()
	for _, pr := range v.problems {
		if s := pr.path.String(); s == prefix || strings.HasPrefix(s, prefix+".") || strings.HasPrefix(s, prefix+"[") {
			out = append(out, pr)
		}
	}
	return out
}

// validate checks everything that strict decoding does not.
func validate(s *Scenario, pinned []string) []pathProblem {
	v := &validator{
		s: s, pinned: pinned,
		faults: map[string]bool{}, marks: map[string]bool{}, measures: map[string]bool{}, canaries: map[string]bool{},
	}
	if s.APIVersion != APIVersion {
		v.errorf(root("apiVersion"), "want %s, got %q", APIVersion, s.APIVersion)
	}
	if s.Kind != Kind {
		v.errorf(root("kind"), "want %s, got %q", Kind, s.Kind)
	}
	v.metadata(root("metadata"))
	spec := root("spec")
	if strings.TrimSpace(s.Spec.Description) == "" {
		v.errorf(spec.Key("description"), "required: what happens, the pass criterion and the figure reported")
	}
	v.variables(spec.Key("variables"))
	v.intervals(spec.Key("intervals"))
	if s.Spec.Cluster != nil {
		v.cluster(spec.Key("cluster"))
	}
	if len(s.Spec.Steps) == 0 {
		v.errorf(spec.Key("steps"), "required: at least one step")
	}
	for i := range s.Spec.Steps {
		v.step(spec.Key("steps").Index(i), &s.Spec.Steps[i])
	}
	v.inCleanup = true
	for i := range s.Spec.Cleanup {
		v.step(spec.Key("cleanup").Index(i), &s.Spec.Cleanup[i])
	}
	return v.problems
}

func (v *validator) metadata(p fieldPath) {
	m := &v.s.Metadata
	if m.Name == "" {
		v.errorf(p.Key("name"), "required")
	} else {
		v.label(p.Key("name"), m.Name)
	}
	v.labels(p.Key("labels"), m.Labels)
	for _, k := range sortedKeys(m.Annotations) {
		for _, msg := range validation.IsQualifiedName(k) {
			v.errorf(p.Key("annotations").Key(k), "not a valid annotation key: %s", msg)
		}
	}
}

// variableName is the form of a variable's name.
var variableName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func (v *validator) variables(p fieldPath) {
	for _, name := range sortedKeys(v.s.Spec.Variables) {
		switch {
		case !variableName.MatchString(name):
			v.errorf(p.Key(name), "a variable's name is upper case letters, digits and _, e.g. WORKER_FLAVOR")
		case slices.Contains(RuntimeVariables(), name):
			v.errorf(p.Key(name), "%s is set by the runner for the cluster it creates; it cannot be declared", name)
		}
	}
}

func (v *validator) intervals(p fieldPath) {
	for _, name := range sortedKeys(v.s.Spec.Intervals) {
		iv := v.s.Spec.Intervals[name]
		v.label(p.Key(name), name)
		if _, isDuration := parseDuration(name); isDuration {
			v.errorf(p.Key(name), "an interval's name must not read as a duration")
		}
		if iv.Timeout.Duration <= 0 {
			v.errorf(p.Key(name), "needs a timeout above 0, e.g. 5m/5s")
		}
		if iv.Poll.Duration < 0 || (iv.Poll.Duration > 0 && iv.Poll.Duration > iv.Timeout.Duration) {
			v.errorf(p.Key(name), "poll must be above 0 and at most the timeout, got %s", iv)
		}
	}
}

func (v *validator) cluster(p fieldPath) {
	c := v.s.Spec.Cluster
	switch {
	case hasRuntimeRef(c.NamePrefix):
		v.errorf(p.Key("namePrefix"), "the runner names the cluster after the prefix: it cannot use runtime variables")
	case c.NamePrefix == v.s.Metadata.Name: // the default: the name is checked as metadata.name
		if len(c.NamePrefix) > MaxNamePrefix {
			v.errorf(p.Key("namePrefix"), "defaults to metadata.name, which is longer than %d characters: set a shorter one", MaxNamePrefix)
		}
	default:
		v.label(p.Key("namePrefix"), c.NamePrefix)
		if len(c.NamePrefix) > MaxNamePrefix {
			v.errorf(p.Key("namePrefix"), "at most %d characters, got %d", MaxNamePrefix, len(c.NamePrefix))
		}
	}
	if !v.unresolved(c.KubernetesVersion) {
		v.isPinned(p.Key("kubernetesVersion"), c.KubernetesVersion)
	}
	if r := c.ControlPlaneReplicas; r != nil && (*r < 1 || *r > 5) {
		v.errorf(p.Key("controlPlaneReplicas"), "kube-apiserver replicas are 1 to 5, got %d", *r)
	}
	if c.Workers.VM < 0 {
		v.errorf(p.Key("workers").Key("vm"), "must be 0 or more, got %d", c.Workers.VM)
	}
	if c.Workers.BareMetal < 0 {
		v.errorf(p.Key("workers").Key("bareMetal"), "must be 0 or more, got %d", c.Workers.BareMetal)
	}
	reserved := map[string]string{
		TemplateClusterName: "the runner names the cluster", TemplateNamespace: "the runner picks the namespace",
		TemplateKubernetesVersion: "set kubernetesVersion", TemplateControlPlaneCount: "set controlPlaneReplicas",
		TemplateWorkerCount: "set workers.vm", TemplateBareMetalCount: "set workers.bareMetal",
	}
	for _, name := range sortedKeys(c.Variables) {
		switch {
		case reserved[name] != "":
			v.errorf(p.Key("variables").Key(name), "%s: %s", name, reserved[name])
		case !variableName.MatchString(name):
			v.errorf(p.Key("variables").Key(name), "a template variable's name is upper case letters, digits and _")
		}
	}
}

func (v *validator) step(p fieldPath, s *Step) {
	switch actions := s.Actions(); len(actions) {
	case 0:
		v.errorf(p, "no action: set one of %s", strings.Join(allActions(), ", "))
		return
	case 1:
	default:
		v.errorf(p, "%d actions (%s): a step has exactly one; make one step of each", len(actions), strings.Join(actions, ", "))
		return
	}
	switch {
	case s.CreateCluster != nil:
		s.CreateCluster.validate(v, p.Key(ActionCreateCluster))
	case s.DeleteCluster != nil:
		s.DeleteCluster.validate(v, p.Key(ActionDeleteCluster))
	case s.Upgrade != nil:
		s.Upgrade.validate(v, p.Key(ActionUpgrade))
	case s.Scale != nil:
		s.Scale.validate(v, p.Key(ActionScale))
	case s.Fault != nil:
		s.Fault.validate(v, p.Key(ActionFault))
	case s.ClearFault != nil:
		s.ClearFault.validate(v, p.Key(ActionClearFault))
	case s.DeletePod != nil:
		s.DeletePod.validate(v, p.Key(ActionDeletePod))
	case s.DeleteObject != nil:
		s.DeleteObject.validate(v, p.Key(ActionDeleteObject))
	case s.KillManager != nil:
		s.KillManager.validate(v, p.Key(ActionKillManager))
	case s.KillFakecloud != nil:
		s.KillFakecloud.validate(v, p.Key(ActionKillFakecloud))
	case s.RestartServiceNode != nil:
		s.RestartServiceNode.validate(v, p.Key(ActionRestartServiceNode))
	case s.Wait != nil:
		if s.Wait.Duration <= 0 {
			v.errorf(p.Key(ActionWait), "want a duration above 0, e.g. 30s")
		}
	case s.Expect != nil:
		s.Expect.validate(v, p.Key(ActionExpect))
	case s.Probe != nil:
		s.Probe.validate(v, p.Key(ActionProbe))
	case s.WriteCanary != nil:
		s.WriteCanary.validate(v, p.Key(ActionWriteCanary))
	case s.Assert != nil:
		s.Assert.validate(v, p.Key(ActionAssert))
	case s.Mark != "":
		v.mark(p.Key(ActionMark), s.Mark)
	case s.Measure != nil:
		s.Measure.validate(v, p.Key(ActionMeasure))
	}
}

func allActions() []string {
	return []string{ActionCreateCluster, ActionDeleteCluster, ActionUpgrade, ActionScale, ActionFault, ActionClearFault,
		ActionDeletePod, ActionDeleteObject, ActionKillManager, ActionKillFakecloud, ActionRestartServiceNode, ActionWait,
		ActionExpect, ActionProbe, ActionWriteCanary, ActionAssert, ActionMark, ActionMeasure}
}

// needCluster reports a step that acts on the customer cluster before any step creates it.
func (v *validator) needCluster(p fieldPath) {
	if !v.created && !v.inCleanup {
		v.errorf(p, "acts on the customer cluster, but no earlier step creates it (createCluster: {})")
	}
}

// within checks a reference to an interval: a name in spec.intervals or DefaultIntervals, or a
// duration.
func (v *validator) within(p fieldPath, ref string, required bool) {
	if ref == "" {
		if required {
			v.errorf(p, "required: how long to wait, an interval's name (%s) or a duration such as 2m", strings.Join(v.intervalNames(), ", "))
		}
		return
	}
	if v.unresolved(ref) {
		return
	}
	if _, ok := v.s.Interval(ref); !ok {
		v.errorf(p, "unknown interval %q: name one of %s, or give a duration such as 2m", ref, strings.Join(v.intervalNames(), ", "))
	}
}

func (v *validator) intervalNames() []string {
	names := sortedKeys(DefaultIntervals())
	for _, n := range sortedKeys(v.s.Spec.Intervals) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// unresolved reports whether s still refers to a variable that is not a runtime one: loading
// has reported it already, so the value is not checked further.
func (v *validator) unresolved(s string) bool {
	for _, m := range reference.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(RuntimeVariables(), m[1]) {
			return true
		}
	}
	return false
}

// isPinned reports whether version is one of the pinned Kubernetes versions.
func (v *validator) isPinned(p fieldPath, version string) bool {
	if slices.Contains(v.pinned, version) {
		return true
	}
	v.errorf(p, "%q is not a pinned Kubernetes version (versions/versions.json: %s)", version, strings.Join(v.pinned, ", "))
	return false
}

// label checks a DNS-1123 label: a scenario's, mark's or interval's name, a namespace.
func (v *validator) label(p fieldPath, s string) {
	if hasRuntimeRef(s) {
		return
	}
	if len(validation.IsDNS1123Label(s)) > 0 {
		v.errorf(p, "%q is not a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", s)
	}
}

// objectName checks a Kubernetes object's name (a DNS-1123 subdomain), unless it holds a
// runtime variable.
func (v *validator) objectName(p fieldPath, s string) {
	if hasRuntimeRef(s) {
		return
	}
	if len(validation.IsDNS1123Subdomain(s)) > 0 {
		v.errorf(p, "%q is not a valid object name: lower case letters, digits, '-' and '.', starting and ending with a letter or digit", s)
	}
}

// labels checks label keys and values.
func (v *validator) labels(p fieldPath, m map[string]string) {
	for _, k := range sortedKeys(m) {
		for _, msg := range validation.IsQualifiedName(k) {
			v.errorf(p.Key(k), "not a valid label key: %s", msg)
		}
		if hasRuntimeRef(m[k]) {
			continue
		}
		for _, msg := range validation.IsValidLabelValue(m[k]) {
			v.errorf(p.Key(k), "%q is not a valid label value: %s", m[k], msg)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
