package scenarios

// Step is one step of a scenario. Exactly one of its action fields is set, as in a Chaos Mesh
// workflow's template or a Chaos Toolkit activity.
type Step struct {
	// Name says what the step does, in progress output; optional.
	Name string `yaml:"name,omitempty"`

	// CreateCluster applies the cluster template for spec.cluster.
	CreateCluster *CreateCluster `yaml:"createCluster,omitempty"`
	// DeleteCluster deletes the Cluster.
	DeleteCluster *DeleteCluster `yaml:"deleteCluster,omitempty"`
	// Upgrade moves the cluster to a newer pinned Kubernetes version.
	Upgrade *Upgrade `yaml:"upgrade,omitempty"`
	// Scale sets a MachineDeployment's replicas.
	Scale *Scale `yaml:"scale,omitempty"`

	// Fault switches a fakecloud fault on, always with an expiry.
	Fault *Fault `yaml:"fault,omitempty"`
	// ClearFault switches faults switched on by earlier steps off.
	ClearFault *ClearFault `yaml:"clearFault,omitempty"`
	// DeletePod deletes pods, optionally with their volumes.
	DeletePod *DeletePod `yaml:"deletePod,omitempty"`
	// DeleteObject deletes an object.
	DeleteObject *DeleteObject `yaml:"deleteObject,omitempty"`
	// KillManager kills a provider's controller manager.
	KillManager *KillManager `yaml:"killManager,omitempty"`
	// KillFakecloud kills fakecloud with SIGKILL and starts it again on the same state.
	KillFakecloud *KillFakecloud `yaml:"killFakecloud,omitempty"`
	// RestartServiceNode restarts a node container of the service cluster.
	RestartServiceNode *RestartServiceNode `yaml:"restartServiceNode,omitempty"`

	// Wait does nothing for this long.
	Wait *Duration `yaml:"wait,omitempty"`
	// Expect waits until objects are in a state: a condition, or a field's value.
	Expect *Expect `yaml:"expect,omitempty"`
	// Probe checks the customer cluster from outside, as its user would.
	Probe *Probe `yaml:"probe,omitempty"`
	// WriteCanary writes a canary object that a later assert looks for.
	WriteCanary *WriteCanary `yaml:"writeCanary,omitempty"`
	// Assert checks the cloud and the clusters: no duplicates, nothing left, canaries kept.
	Assert *Assert `yaml:"assert,omitempty"`
	// Mark records the time under this name, for measures.
	Mark string `yaml:"mark,omitempty"`
	// Measure reports the time from one mark to another, against an SLO.
	Measure *Measure `yaml:"measure,omitempty"`
}

// Action names, as the YAML keys of Step.
const (
	ActionCreateCluster      = "createCluster"
	ActionDeleteCluster      = "deleteCluster"
	ActionUpgrade            = "upgrade"
	ActionScale              = "scale"
	ActionFault              = "fault"
	ActionClearFault         = "clearFault"
	ActionDeletePod          = "deletePod"
	ActionDeleteObject       = "deleteObject"
	ActionKillManager        = "killManager"
	ActionKillFakecloud      = "killFakecloud"
	ActionRestartServiceNode = "restartServiceNode"
	ActionWait               = "wait"
	ActionExpect             = "expect"
	ActionProbe              = "probe"
	ActionWriteCanary        = "writeCanary"
	ActionAssert             = "assert"
	ActionMark               = "mark"
	ActionMeasure            = "measure"
)

// Actions lists the names of the action fields that are set; a valid step has exactly one.
func (s *Step) Actions() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(s.CreateCluster != nil, ActionCreateCluster)
	add(s.DeleteCluster != nil, ActionDeleteCluster)
	add(s.Upgrade != nil, ActionUpgrade)
	add(s.Scale != nil, ActionScale)
	add(s.Fault != nil, ActionFault)
	add(s.ClearFault != nil, ActionClearFault)
	add(s.DeletePod != nil, ActionDeletePod)
	add(s.DeleteObject != nil, ActionDeleteObject)
	add(s.KillManager != nil, ActionKillManager)
	add(s.KillFakecloud != nil, ActionKillFakecloud)
	add(s.RestartServiceNode != nil, ActionRestartServiceNode)
	add(s.Wait != nil, ActionWait)
	add(s.Expect != nil, ActionExpect)
	add(s.Probe != nil, ActionProbe)
	add(s.WriteCanary != nil, ActionWriteCanary)
	add(s.Assert != nil, ActionAssert)
	add(s.Mark != "", ActionMark)
	add(s.Measure != nil, ActionMeasure)
	return out
}

// Action is the name of the step's action ("fault", "expect"...), or "" unless exactly one is
// set.
func (s *Step) Action() string {
	if a := s.Actions(); len(a) == 1 {
		return a[0]
	}
	return ""
}

// Title is the step's name, or its action when it has none.
func (s *Step) Title() string {
	if s.Name != "" {
		return s.Name
	}
	if s.Mark != "" {
		return "mark " + s.Mark
	}
	return s.Action()
}
