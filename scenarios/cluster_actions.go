package scenarios

import "slices"

// CreateCluster applies the cluster template for spec.cluster in a namespace of its own and
// returns once the objects exist; expect steps wait for what follows. It takes no fields:
// write `createCluster: {}`.
type CreateCluster struct{}

// DeleteCluster deletes the Cluster; Cluster API deletes what it owns.
type DeleteCluster struct {
	// Within, when set, waits until the Cluster is gone: an interval's name or a duration.
	Within string `yaml:"within,omitempty"`
}

// Upgrade moves the cluster to a newer pinned Kubernetes version: the control plane first,
// then every MachineDeployment. Kubernetes upgrades one minor at a time, so the runner goes
// through every pinned version in between (UpgradePath); an adjacent pair is one hop, the chain
// from the oldest to the newest pinned version several.
type Upgrade struct {
	// To is the version to reach, e.g. ${KUBERNETES_VERSION_UPGRADE_TO}.
	To string `yaml:"to"`
}

// Scale sets the replicas of one of the cluster's MachineDeployments.
type Scale struct {
	// MachineDeployment is its name, e.g. ${CLUSTER_NAME}-md-0 (virtual machines) or
	// ${CLUSTER_NAME}-bm-0 (bare metal).
	MachineDeployment string `yaml:"machineDeployment"`
	// Replicas is the new count.
	Replicas *int `yaml:"replicas"`
}

func (c *CreateCluster) validate(v *validator, p fieldPath) {
	if v.inCleanup {
		v.errorf(p, "the cleanup may not create a cluster")
		return
	}
	if v.s.Spec.Cluster == nil {
		v.errorf(p, "needs spec.cluster, the cluster to create")
	}
	if v.created {
		v.errorf(p, "a scenario creates one cluster; this is the second createCluster")
	}
	v.created = true
	if c := v.s.Spec.Cluster; c != nil {
		v.version = c.KubernetesVersion
	}
}

func (d *DeleteCluster) validate(v *validator, p fieldPath) {
	v.within(p.Key("within"), d.Within, false)
}

func (u *Upgrade) validate(v *validator, p fieldPath) {
	v.needCluster(p)
	if u.To == "" {
		v.errorf(p.Key("to"), "required: the version to upgrade to")
		return
	}
	if v.unresolved(u.To) || !v.isPinned(p.Key("to"), u.To) {
		return
	}
	if slices.Contains(v.pinned, v.version) {
		if _, err := UpgradePath(v.pinned, v.version, u.To); err != nil {
			v.errorf(p.Key("to"), "%v", err)
		}
	}
	v.version = u.To
}

func (s *Scale) validate(v *validator, p fieldPath) {
	v.needCluster(p)
	if s.MachineDeployment == "" {
		v.errorf(p.Key("machineDeployment"), "required: the MachineDeployment to scale, e.g. ${CLUSTER_NAME}-md-0")
	} else {
		v.objectName(p.Key("machineDeployment"), s.MachineDeployment)
	}
	switch {
	case s.Replicas == nil:
		v.errorf(p.Key("replicas"), "required: the new number of replicas")
	case *s.Replicas < 0:
		v.errorf(p.Key("replicas"), "must be 0 or more, got %d", *s.Replicas)
	}
}
