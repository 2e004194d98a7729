package scenarios

import "strconv"

// APIVersion and Kind of a scenario file's envelope.
const (
	APIVersion = "scenarios.kaas.sandbox/v1alpha1"
	Kind       = "Scenario"
)

// Scenario is one scenario file: a Kubernetes-style envelope around a Spec.
type Scenario struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   ObjectMeta `yaml:"metadata"`
	Spec       Spec       `yaml:"spec"`

	// File is where the scenario was read from, as given to the Loader.
	File string `yaml:"-"`
	// Source is the file's content as read, so that a runner can parse it again with the
	// runtime variables' values (Options.Runtime).
	Source []byte `yaml:"-"`
	// Resolved holds the value of every variable the scenario may use, after the defaults,
	// the environment and the loader's overrides; runtime variables are not in it.
	Resolved map[string]string `yaml:"-"`

	nameLine int // line of metadata.name, for duplicate names across files
}

// ObjectMeta names a scenario and labels it, as a Kubernetes object's metadata does.
type ObjectMeta struct {
	// Name is a DNS-1123 label, unique among the scenarios loaded together.
	Name string `yaml:"name"`
	// Labels select scenarios, e.g. {chaos: "true", octavia: "true", smoke: "true"}.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Annotations are free notes, e.g. a link to the issue the scenario reproduces.
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Spec is what a scenario does.
type Spec struct {
	// Description says what happens, the pass criterion and which figure the scenario
	// reports. Its first sentence is the summary `sandbox scenario list` shows.
	Description string `yaml:"description"`
	// Variables declares the variables the scenario uses besides the built-in ones, with their
	// defaults. An environment variable of the same name overrides a default.
	Variables map[string]string `yaml:"variables,omitempty"`
	// Intervals names waits, e.g. {create: 15m/10s}; added to DefaultIntervals.
	Intervals map[string]Interval `yaml:"intervals,omitempty"`
	// Cluster is the customer cluster the createCluster step makes from the cluster template.
	Cluster *ClusterSpec `yaml:"cluster,omitempty"`
	// Steps run in order; the first that fails ends them.
	Steps []Step `yaml:"steps"`
	// Cleanup runs after the steps, whether they passed or not, every step of it even when one
	// fails (as Chaos Toolkit's rollbacks do).
	Cleanup []Step `yaml:"cleanup,omitempty"`
}

// ClusterSpec fills the variables of the cluster template (templates/cluster-template.yaml).
type ClusterSpec struct {
	// NamePrefix starts the Cluster's name; the runner adds "-" and five random characters.
	// Default: the scenario's name.
	NamePrefix string `yaml:"namePrefix,omitempty"`
	// KubernetesVersion is a pinned version (versions/versions.json). Default:
	// ${KUBERNETES_VERSION}.
	KubernetesVersion string `yaml:"kubernetesVersion,omitempty"`
	// ControlPlaneReplicas is the number of kube-apiserver pods, 1 to 5. Default 1.
	ControlPlaneReplicas *int `yaml:"controlPlaneReplicas,omitempty"`
	// Workers are the worker counts of the template's two MachineDeployments.
	Workers Workers `yaml:"workers"`
	// Variables are further template variables, e.g. {GCORE_WORKER_FLAVOR: g1.medium}.
	Variables map[string]string `yaml:"variables,omitempty"`
}

// Workers counts a cluster's workers.
type Workers struct {
	// VM is the replicas of the virtual-machine MachineDeployment (<cluster>-md-0).
	VM int `yaml:"vm"`
	// BareMetal is the replicas of the bare-metal MachineDeployment (<cluster>-bm-0).
	BareMetal int `yaml:"bareMetal"`
}

// Template variables the ClusterSpec sets; spec.cluster.variables may not set them.
const (
	TemplateClusterName       = "CLUSTER_NAME"
	TemplateNamespace         = "NAMESPACE"
	TemplateKubernetesVersion = "KUBERNETES_VERSION"
	TemplateControlPlaneCount = "CONTROL_PLANE_MACHINE_COUNT"
	TemplateWorkerCount       = "WORKER_MACHINE_COUNT"
	TemplateBareMetalCount    = "GCORE_BAREMETAL_MACHINE_COUNT"
)

// TemplateVariables returns the cluster template's variables for a cluster of this spec
// called name in namespace.
func (c *ClusterSpec) TemplateVariables(name, namespace string) map[string]string {
	vars := make(map[string]string, len(c.Variables)+6)
	for k, v := range c.Variables {
		vars[k] = v
	}
	replicas := 1
	if c.ControlPlaneReplicas != nil {
		replicas = *c.ControlPlaneReplicas
	}
	vars[TemplateClusterName] = name
	vars[TemplateNamespace] = namespace
	vars[TemplateKubernetesVersion] = c.KubernetesVersion
	vars[TemplateControlPlaneCount] = strconv.Itoa(replicas)
	vars[TemplateWorkerCount] = strconv.Itoa(c.Workers.VM)
	vars[TemplateBareMetalCount] = strconv.Itoa(c.Workers.BareMetal)
	return vars
}

// Interval resolves what a `within` field says: the name of an interval (the scenario's or a
// default one) or a duration such as "2m" (polled every DefaultPoll).
func (s *Scenario) Interval(ref string) (Interval, bool) {
	if iv, ok := s.Spec.Intervals[ref]; ok {
		return iv, true
	}
	if iv, ok := DefaultIntervals()[ref]; ok {
		return iv, true
	}
	if d, ok := parseDuration(ref); ok && d > 0 {
		return Interval{Timeout: Duration{d}}, true
	}
	return Interval{}, false
}
