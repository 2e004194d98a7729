package runner

import (
	"fmt"
	"time"
)

// Status is how a step ended.
type Status string

// Step statuses.
const (
	StatusPassed  Status = "passed"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // not run: an earlier step failed or the context ended
)

// Phases of a scenario.
const (
	PhaseSteps   = "steps"
	PhaseCleanup = "cleanup"
)

// StepResult is how one step went.
type StepResult struct {
	// Phase is PhaseSteps or PhaseCleanup; Index is the step's index in it.
	Phase string
	Index int
	// Title is the step's name or action; Action its action.
	Title  string
	Action string
	Status Status
	// Started is when it began; Duration how long it took.
	Started  time.Time
	Duration time.Duration
	// Error says why it failed.
	Error string
	// Conditions are the last conditions an expect saw on its objects, one line each.
	Conditions []string
	// CloudMessage is the cloud's error as the objects' conditions report it, if any.
	CloudMessage string
}

// Measurement is the time from one mark to another against its SLO.
type Measurement struct {
	Name, From, To string
	Value          time.Duration
	// SLO is 0 when the measure has none.
	SLO time.Duration
}

// Met reports whether the measurement is within its SLO (always, without one).
func (m Measurement) Met() bool { return m.SLO == 0 || m.Value <= m.SLO }

// String renders "74s (SLO 60s, missed)".
func (m Measurement) String() string {
	v := m.Value.Round(100 * time.Millisecond).String()
	if m.SLO == 0 {
		return v
	}
	verdict := "met"
	if !m.Met() {
		verdict = "missed"
	}
	return fmt.Sprintf("%s (SLO %s, %s)", v, m.SLO, verdict)
}

// FaultWindow is a fault as the run switched it on and off.
type FaultWindow struct {
	// Name is the step's fault name; ID fakecloud's rule id; Describe what it does.
	Name, ID, Describe string
	Start              time.Time
	// End is when a clearFault (or the run's end) switched it off.
	End time.Time
	// Seed is the scenario's seed for a probabilistic fault, which fakecloud draws from: the
	// same requests fail on every run with the same seed.
	Seed *int64
	// CloudEvents counts fakecloud's events (state changes: resources made, changed,
	// deleted, tasks done) between Start and End, faults' own events aside; -1 when the event
	// log could not be read. fakecloud does not count API calls.
	CloudEvents int
}

// Result is how a scenario run went.
type Result struct {
	Scenario string
	File     string
	Labels   map[string]string
	// KubernetesVersion is the cluster's version at creation.
	KubernetesVersion string
	// ClusterName and Namespace are the run's cluster in the service cluster.
	ClusterName, Namespace string
	Started                time.Time
	Duration               time.Duration
	Steps, Cleanup         []StepResult
	Measurements           []Measurement
	Faults                 []FaultWindow
	// Leaks are cloud resources of the cluster left after its deletion, and duplicates found.
	Leaks      []string
	Duplicates []string
	// Notes are remarks of the run, e.g. a namespace kept because its Cluster is still there.
	Notes []string
	// ArtifactsDir is where the failure dump went, if any.
	ArtifactsDir string
}

// FailedStep returns the first failed step, of the steps or else of the cleanup, or nil.
func (r *Result) FailedStep() *StepResult {
	for _, list := range [][]StepResult{r.Steps, r.Cleanup} {
		for i := range list {
			if list[i].Status == StatusFailed {
				return &list[i]
			}
		}
	}
	return nil
}

// MissedSLOs returns the measurements above their SLO.
func (r *Result) MissedSLOs() []Measurement {
	var out []Measurement
	for _, m := range r.Measurements {
		if !m.Met() {
			out = append(out, m)
		}
	}
	return out
}

// Passed reports whether no step failed, no SLO was missed and nothing leaked or was
// duplicated.
func (r *Result) Passed() bool {
	return r.FailedStep() == nil && len(r.MissedSLOs()) == 0 && len(r.Leaks) == 0 && len(r.Duplicates) == 0
}

// Verdict is "passed" or "failed: <why>" in a few words.
func (r *Result) Verdict() string {
	switch {
	case r.Passed():
		return "passed"
	case r.FailedStep() != nil:
		s := r.FailedStep()
		return fmt.Sprintf("failed at %s step %d (%s)", s.Phase, s.Index+1, s.Title)
	case len(r.MissedSLOs()) > 0:
		return "failed: SLO missed"
	default:
		return "failed: cloud resources leaked or duplicated"
	}
}
