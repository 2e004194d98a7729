package scenarios

import (
	"slices"
	"strings"
)

// DeletePod deletes pods, as a node failure or an operator would.
type DeletePod struct {
	// Cluster is service (default) or customer.
	Cluster string `yaml:"cluster,omitempty"`
	// Namespace defaults as ObjectRef's does.
	Namespace string `yaml:"namespace,omitempty"`
	// Name picks one pod, e.g. ${CLUSTER_NAME}-etcd-1.
	Name string `yaml:"name,omitempty"`
	// Selector picks every pod with these labels, e.g. {app.kubernetes.io/component: apiserver}.
	Selector map[string]string `yaml:"selector,omitempty"`
	// Force deletes with a grace period of 0, as a crashed node would lose them.
	Force bool `yaml:"force,omitempty"`
	// Volumes also deletes the PersistentVolumeClaims the pods mount, so their data is gone.
	Volumes bool `yaml:"volumes,omitempty"`
}

// DeleteObject deletes the objects an ObjectRef picks.
type DeleteObject struct {
	ObjectRef `yaml:",inline"`
}

// Providers whose manager KillManager may kill.
const (
	ProviderCore           = "core"
	ProviderInfrastructure = "infrastructure"
	ProviderControlPlane   = "controlPlane"
	ProviderBootstrap      = "bootstrap"
)

// KillManager kills a provider's controller manager: its pods are deleted with a grace period
// of 0, and its Deployment starts new ones (which wait for the dead one's leader lease).
type KillManager struct {
	// Provider is infrastructure, controlPlane, bootstrap (the project's), or core (Cluster
	// API's).
	Provider string `yaml:"provider"`
}

// ManagerDeployment is the namespace and name of a provider's manager Deployment in the
// service cluster, as config/default and clusterctl install them.
type ManagerDeployment struct {
	Namespace string
	Name      string
}

// Deployment returns where the provider's manager runs.
func (k *KillManager) Deployment() (ManagerDeployment, bool) {
	d, ok := managerDeployments()[k.Provider]
	return d, ok
}

func managerDeployments() map[string]ManagerDeployment {
	return map[string]ManagerDeployment{
		ProviderCore:           {Namespace: "capi-system", Name: "capi-controller-manager"},
		ProviderInfrastructure: {Namespace: "capgc-system", Name: "capgc-controller-manager"},
		ProviderControlPlane:   {Namespace: "gcore-control-plane-system", Name: "gcore-control-plane-controller-manager"},
		ProviderBootstrap:      {Namespace: "gcore-bootstrap-system", Name: "gcore-bootstrap-controller-manager"},
	}
}

// KillFakecloud kills the sandbox's fakecloud with SIGKILL (kill -9) and starts it again on
// the same state, as a crashed cloud API would come back. The step ends once fakecloud answers
// again.
type KillFakecloud struct {
	// RestartAfter is how long the cloud stays down; default 0: started again at once.
	RestartAfter Duration `yaml:"restartAfter,omitempty"`
}

// DefaultServiceNode is the service cluster's control-plane node container (kind cluster
// kaas-sandbox).
const DefaultServiceNode = "kaas-sandbox-control-plane"

// RestartServiceNode restarts a node container of the service cluster (docker restart, or stop
// and start with DownFor), taking every pod on it down: the providers, Cluster API and the
// hosted control planes. The step ends once the service cluster's API answers again.
type RestartServiceNode struct {
	// Node is the node container; default DefaultServiceNode.
	Node string `yaml:"node,omitempty"`
	// DownFor, when set, is how long the node stays stopped before it is started again.
	DownFor Duration `yaml:"downFor,omitempty"`
}

func (d *DeletePod) validate(v *validator, p fieldPath) {
	v.target(p, d.Cluster, d.Namespace, d.Name, d.Selector, true)
}

func (d *DeleteObject) validate(v *validator, p fieldPath) {
	d.ObjectRef.validate(v, p)
}

func (k *KillManager) validate(v *validator, p fieldPath) {
	if _, ok := k.Deployment(); !ok {
		names := make([]string, 0, 4)
		for n := range managerDeployments() {
			names = append(names, n)
		}
		slices.Sort(names)
		v.errorf(p.Key("provider"), "unknown provider %q (want %s)", k.Provider, strings.Join(names, ", "))
	}
}

func (k *KillFakecloud) validate(v *validator, p fieldPath) {
	if k.RestartAfter.Duration < 0 {
		v.errorf(p.Key("restartAfter"), "must not be negative")
	}
}

func (r *RestartServiceNode) validate(v *validator, p fieldPath) {
	if r.Node != "" {
		v.label(p.Key("node"), r.Node)
	}
	if r.DownFor.Duration < 0 {
		v.errorf(p.Key("downFor"), "must not be negative")
	}
}
