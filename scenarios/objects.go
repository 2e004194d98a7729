package scenarios

import (
	"sort"
	"strings"
)

// Clusters an object may live in.
const (
	// ClusterService is the service cluster (kind kaas-sandbox): Cluster API's objects, the
	// providers and the hosted control planes' pods.
	ClusterService = "service"
	// ClusterCustomer is the customer cluster the scenario created: its Nodes and workloads.
	ClusterCustomer = "customer"
)

// ObjectRef picks Kubernetes objects: one by name or every one a label selector matches.
type ObjectRef struct {
	// Cluster is service (default) or customer.
	Cluster string `yaml:"cluster,omitempty"`
	// APIVersion is the object's group/version; it may be left out for the kinds KnownKind
	// lists.
	APIVersion string `yaml:"apiVersion,omitempty"`
	// Kind is the object's kind, e.g. GcoreControlPlane.
	Kind string `yaml:"kind"`
	// Namespace defaults to the scenario cluster's namespace in the service cluster and to
	// "default" in the customer cluster; cluster-scoped kinds have none.
	Namespace string `yaml:"namespace,omitempty"`
	// Name picks one object, e.g. ${CLUSTER_NAME}-control-plane.
	Name string `yaml:"name,omitempty"`
	// Selector picks every object with these labels.
	Selector map[string]string `yaml:"selector,omitempty"`
}

// KindInfo describes a kind scenarios often look at.
type KindInfo struct {
	// APIVersion is the version the runner reads it at.
	APIVersion string
	// Namespaced is false for cluster-scoped kinds.
	Namespaced bool
	// Conditions are the condition types its status has; expect steps may name only these.
	Conditions []string
}

// KnownKind returns what the scenarios package knows of a kind: Cluster API's and the
// providers' kinds and the core kinds scenarios act on.
func KnownKind(kind string) (KindInfo, bool) {
	info, ok := knownKinds()[kind]
	return info, ok
}

func knownKinds() map[string]KindInfo {
	// Condition types of Cluster API v1beta2 (sigs.k8s.io/cluster-api/api/core/v1beta2) and of the
	// project's providers (api/*/v1alpha1).
	clusterConditions := []string{"Available", "InfrastructureReady", "ControlPlaneInitialized", "ControlPlaneAvailable",
		"WorkersAvailable", "ControlPlaneMachinesReady", "WorkerMachinesReady", "ControlPlaneMachinesUpToDate",
		"WorkerMachinesUpToDate", "RemoteConnectionProbe", "RollingOut", "ScalingUp", "ScalingDown", "Remediating",
		"Deleting", "TopologyReconciled", "Paused"}
	machineDeploymentConditions := []string{"Available", "MachinesReady", "MachinesUpToDate", "RollingOut", "ScalingUp",
		"ScalingDown", "Remediating", "Deleting", "Paused"}
	machineConditions := []string{"Available", "Ready", "UpToDate", "BootstrapConfigReady", "InfrastructureReady",
		"NodeHealthy", "NodeReady", "Updating", "HealthCheckSucceeded", "OwnerRemediated", "ExternallyRemediated",
		"Deleting", "Paused"}
	controlPlaneConditions := []string{"Ready", "Available", "CertificatesReady", "EtcdReady", "APIServerReady",
		"ControllerManagerReady", "SchedulerReady", "EndpointReady", "AddonsReady", "VPNReady"}
	gcoreClusterConditions := []string{"Ready", "NetworkReady", "RouterReady", "SecurityGroupsReady"}
	gcoreMachineConditions := []string{"Ready", "InstanceReady"}
	gcoreConfigConditions := []string{"Ready", "DataSecretAvailable", "Paused"}
	ns := func(apiVersion string, conds ...string) KindInfo {
		return KindInfo{APIVersion: apiVersion, Namespaced: true, Conditions: conds}
	}
	return map[string]KindInfo{
		"Cluster":               ns("cluster.x-k8s.io/v1beta2", clusterConditions...),
		"MachineDeployment":     ns("cluster.x-k8s.io/v1beta2", machineDeploymentConditions...),
		"MachineSet":            ns("cluster.x-k8s.io/v1beta2", "MachinesReady", "MachinesUpToDate", "ScalingUp", "ScalingDown", "Remediating", "Deleting", "Paused"),
		"Machine":               ns("cluster.x-k8s.io/v1beta2", machineConditions...),
		"GcoreControlPlane":     ns("controlplane.cluster.x-k8s.io/v1alpha1", controlPlaneConditions...),
		"GcoreCluster":          ns("infrastructure.cluster.x-k8s.io/v1alpha1", gcoreClusterConditions...),
		"GcoreMachine":          ns("infrastructure.cluster.x-k8s.io/v1alpha1", gcoreMachineConditions...),
		"GcoreConfig":           ns("bootstrap.cluster.x-k8s.io/v1alpha1", gcoreConfigConditions...),
		"Pod":                   ns("v1", "PodScheduled", "Initialized", "ContainersReady", "Ready", "PodReadyToStartContainers"),
		"Node":                  {APIVersion: "v1", Conditions: []string{"Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"}},
		"Deployment":            ns("apps/v1", "Available", "Progressing", "ReplicaFailure"),
		"StatefulSet":           ns("apps/v1"),
		"DaemonSet":             ns("apps/v1"),
		"ConfigMap":             ns("v1"),
		"Secret":                ns("v1"),
		"Service":               ns("v1"),
		"PersistentVolumeClaim": ns("v1"),
	}
}

func (o *ObjectRef) validate(v *validator, p fieldPath) KindInfo {
	info, known := KnownKind(o.Kind)
	switch {
	case o.Kind == "":
		v.errorf(p.Key("kind"), "required: the object's kind, e.g. GcoreControlPlane")
	case !known && o.APIVersion == "":
		v.errorf(p.Key("apiVersion"), "required for kind %s (the known kinds are %s)", o.Kind, strings.Join(knownKindNames(), ", "))
	case known && o.APIVersion != "" && o.APIVersion != info.APIVersion:
		v.errorf(p.Key("apiVersion"), "kind %s is read at %s, not %s", o.Kind, info.APIVersion, o.APIVersion)
	}
	if !known {
		info = KindInfo{APIVersion: o.APIVersion, Namespaced: true}
	}
	v.target(p, o.Cluster, o.Namespace, o.Name, o.Selector, info.Namespaced)
	return info
}

// target checks the fields that pick objects: the cluster, a namespace and a name or selector.
func (v *validator) target(p fieldPath, cluster, namespace, name string, selector map[string]string, namespaced bool) {
	if cluster != "" && cluster != ClusterService && cluster != ClusterCustomer {
		v.errorf(p.Key("cluster"), "want %s or %s, got %q", ClusterService, ClusterCustomer, cluster)
	}
	if cluster == ClusterCustomer {
		v.needCluster(p)
	}
	if namespace != "" {
		if !namespaced {
			v.errorf(p.Key("namespace"), "the kind is cluster-scoped: it has no namespace")
		} else {
			v.label(p.Key("namespace"), namespace)
		}
	}
	switch {
	case name == "" && len(selector) == 0:
		v.errorf(p, "set name or selector")
	case name != "" && len(selector) > 0:
		v.errorf(p, "set name or selector, not both")
	case name != "":
		v.objectName(p.Key("name"), name)
	default:
		v.labels(p.Key("selector"), selector)
	}
}

func knownKindNames() []string {
	var out []string
	for k := range knownKinds() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
