package runner

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/scenarios"
	"github.com/kaas-sandbox/sandbox/versions"
)

// Defaults of Env's tunables.
const (
	DefaultProgressEvery  = 15 * time.Second
	DefaultCleanupTimeout = 20 * time.Minute
)

// run is one scenario run in progress.
type run struct {
	env      *Env
	sc       *scenarios.Scenario
	pinned   []string
	res      *Result
	progress *progress

	cluster, namespace string
	created            bool // createCluster made the namespace and applied the template
	marks              map[string]time.Time
	faults             map[string]*FaultWindow // by step name; unnamed faults by id
	eventCursor        uint64                  // the event log's last sequence number at the start
	canaries           map[string]canary
	customer           Customer
	// baseline holds the ids of the cloud's resources before the cluster was created; made,
	// the cluster's resources that appeared since, as seen before its deletion. nothingLeft
	// checks them by id as well as by name, since Octavia's VIP ports are named after their
	// load balancer's id, not after the cluster.
	baseline map[string]bool
	made     map[string]services.Resource
}

// Run runs a scenario against env and returns how it went. The error is for a run that could
// not start (a scenario that does not parse again with its runtime variables, no service
// client); a failed step, a missed SLO or a leak is in the Result.
func Run(ctx context.Context, sc *scenarios.Scenario, env *Env) (*Result, error) {
	if sc == nil || env == nil || env.Service == nil || env.Cloud == nil {
		return nil, errors.New("running a scenario needs the scenario, a service-cluster client and the cloud")
	}
	pinned, err := pinnedVersions(env.Versions)
	if err != nil {
		return nil, err
	}
	r := &run{
		env: env, pinned: pinned, marks: map[string]time.Time{}, faults: map[string]*FaultWindow{},
		canaries: map[string]canary{}, made: map[string]services.Resource{},
		progress: newProgress(orDiscard(env.Progress), time.Now()),
	}
	prefix := sc.Metadata.Name
	if sc.Spec.Cluster != nil && sc.Spec.Cluster.NamePrefix != "" {
		prefix = sc.Spec.Cluster.NamePrefix
	}
	r.cluster = clusterName(prefix, randomSuffix(5))
	r.namespace = r.cluster
	if r.sc, err = withRuntime(sc, env.Versions, r.cluster, r.namespace); err != nil {
		return nil, err
	}
	r.res = &Result{
		Scenario: sc.Metadata.Name, File: sc.File, Labels: sc.Metadata.Labels,
		ClusterName: r.cluster, Namespace: r.namespace, Started: time.Now(),
	}
	if c := r.sc.Spec.Cluster; c != nil {
		r.res.KubernetesVersion = c.KubernetesVersion
	}
	r.start(ctx)
	r.steps(ctx)
	r.cleanup(ctx)
	r.res.Duration = time.Since(r.res.Started)
	r.progress.linef("scenario %s: %s in %s", sc.Metadata.Name, r.res.Verdict(), r.res.Duration.Round(time.Second))
	return r.res, nil
}

// start notes where the cloud's event log is, so fault windows count only their own events.
func (r *run) start(ctx context.Context) {
	r.progress.linef("scenario %s: cluster %s in namespace %s", r.sc.Metadata.Name, r.cluster, r.namespace)
	events, err := r.env.Cloud.Events(ctx, 0)
	if err != nil {
		r.note("fakecloud's event log could not be read (%v): the cloud events during faults are not counted", err)
		return
	}
	if n := len(events); n > 0 {
		r.eventCursor = events[n-1].Seq
	}
}

// steps runs the scenario's steps until one fails or ctx ends; the rest are skipped.
func (r *run) steps(ctx context.Context) {
	steps := r.sc.Spec.Steps
	failed := false
	for i := range steps {
		st := &steps[i]
		if failed || ctx.Err() != nil {
			r.res.Steps = append(r.res.Steps, StepResult{Phase: PhaseSteps, Index: i, Title: st.Title(), Action: st.Action(), Status: StatusSkipped})
			continue
		}
		sr := r.step(ctx, PhaseSteps, i, len(steps), st)
		r.res.Steps = append(r.res.Steps, sr)
		failed = sr.Status == StatusFailed
	}
}

// cleanup runs every cleanup step on a fresh context bounded by CleanupTimeout, whatever
// happened before; then it switches off the faults the run left on, dumps the artifacts of a
// failed run, and removes the namespace once its cluster is gone.
func (r *run) cleanup(parent context.Context) {
	timeout := r.env.CleanupTimeout
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	defer cancel()
	steps := r.sc.Spec.Cleanup
	for i := range steps {
		r.res.Cleanup = append(r.res.Cleanup, r.step(ctx, PhaseCleanup, i, len(steps), &steps[i]))
	}
	r.clearOwnFaults(ctx)
	r.closeFaultWindows(ctx)
	if !r.res.Passed() {
		r.dump(ctx)
	}
	r.removeNamespace(ctx)
}

// step runs one step, reporting its start and end.
func (r *run) step(ctx context.Context, phase string, i, n int, st *scenarios.Step) StepResult {
	sr := StepResult{Phase: phase, Index: i, Title: st.Title(), Action: st.Action(), Started: time.Now()}
	label := fmt.Sprintf("%s %d/%d %s", phase, i+1, n, sr.Title)
	r.progress.linef("%s ...", label)
	err := r.do(ctx, st, &sr)
	sr.Duration = time.Since(sr.Started)
	if err != nil {
		sr.Status, sr.Error = StatusFailed, err.Error()
		r.progress.linef("%s FAILED after %s: %v", label, round(sr.Duration), err)
		if sr.CloudMessage != "" {
			r.progress.linef("  cloud's message: %s", sr.CloudMessage)
		}
		for _, c := range sr.Conditions {
			r.progress.linef("  last seen: %s", c)
		}
	} else {
		sr.Status = StatusPassed
		r.progress.linef("%s ok (%s)", label, round(sr.Duration))
	}
	return sr
}

// do dispatches a step to its action.
func (r *run) do(ctx context.Context, st *scenarios.Step, sr *StepResult) error {
	switch {
	case st.CreateCluster != nil:
		return r.createCluster(ctx)
	case st.DeleteCluster != nil:
		return r.deleteCluster(ctx, st.DeleteCluster)
	case st.Upgrade != nil:
		return r.upgrade(ctx, st.Upgrade)
	case st.Scale != nil:
		return r.scale(ctx, st.Scale)
	case st.Fault != nil:
		return r.fault(ctx, st.Fault)
	case st.ClearFault != nil:
		return r.clearFault(ctx, st.ClearFault)
	case st.DeletePod != nil:
		return r.deletePod(ctx, st.DeletePod)
	case st.DeleteObject != nil:
		return r.deleteObject(ctx, st.DeleteObject)
	case st.KillManager != nil:
		return r.killManager(ctx, st.KillManager)
	case st.KillFakecloud != nil:
		if r.env.Disruptions == nil {
			return errors.New("killFakecloud needs the sandbox's disruptions (docker and fakecloud's process)")
		}
		return r.env.Disruptions.KillFakecloud(ctx, st.KillFakecloud.RestartAfter.Duration)
	case st.RestartServiceNode != nil:
		return r.restartServiceNode(ctx, st.RestartServiceNode)
	case st.Wait != nil:
		return sleep(ctx, st.Wait.Duration)
	case st.Expect != nil:
		return r.expect(ctx, st.Expect, sr)
	case st.Probe != nil:
		return r.probe(ctx, st.Probe)
	case st.WriteCanary != nil:
		return r.writeCanary(ctx, st.WriteCanary)
	case st.Assert != nil:
		return r.assert(ctx, st.Assert)
	case st.Mark != "":
		r.marks[st.Mark] = time.Now()
		return nil
	case st.Measure != nil:
		return r.measure(st.Measure)
	}
	return fmt.Errorf("step %q has no action this runner knows", st.Title())
}

// measure records the time between two marks against the SLO. A missed SLO fails the
// scenario, not the step: the steps after it still run and report their figures.
func (r *run) measure(m *scenarios.Measure) error {
	from, ok1 := r.marks[m.From]
	to, ok2 := r.marks[m.To]
	if !ok1 || !ok2 {
		return fmt.Errorf("measure %s: mark %q or %q was not reached", m.Name, m.From, m.To)
	}
	ms := Measurement{Name: m.Name, From: m.From, To: m.To, Value: to.Sub(from), SLO: m.SLO.Duration}
	r.res.Measurements = append(r.res.Measurements, ms)
	r.progress.linef("  measure %s: %s", m.Name, ms)
	return nil
}

// interval resolves a step's within; fallback when it is empty.
func (r *run) interval(within, fallback string) (scenarios.Interval, error) {
	if within == "" {
		within = fallback
	}
	iv, ok := r.sc.Interval(within)
	if !ok {
		return iv, fmt.Errorf("unknown interval %q", within)
	}
	return iv, nil
}

func (r *run) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.res.Notes = append(r.res.Notes, msg)
	r.progress.linef("  note: %s", msg)
}

// dump writes the artifacts of a failed run.
func (r *run) dump(ctx context.Context) {
	if r.env.Dumper == nil {
		return
	}
	root := r.env.ArtifactsRoot
	if root == "" {
		root = DefaultArtifactsRoot
	}
	dir := filepath.Join(root, fmt.Sprintf("%s-%s", r.sc.Metadata.Name, r.res.Started.UTC().Format("20060102-150405")))
	if err := r.env.Dumper.Dump(ctx, dir, r.namespace); err != nil {
		r.note("dumping the artifacts into %s: %v", dir, err)
	}
	r.res.ArtifactsDir = dir
	r.progress.linef("artifacts: %s", dir)
}

// withRuntime parses the scenario again with its cluster's name and namespace.
func withRuntime(sc *scenarios.Scenario, vl *versions.List, cluster, namespace string) (*scenarios.Scenario, error) {
	if len(sc.Source) == 0 {
		return nil, fmt.Errorf("scenario %s: its source is not kept (load it with a scenarios.Loader)", sc.Metadata.Name)
	}
	l, err := scenarios.NewLoader(scenarios.Options{
		LookupEnv: func(string) (string, bool) { return "", false }, // sc.Resolved has the environment's values
		Overrides: sc.Resolved,
		Runtime:   map[string]string{scenarios.VarClusterName: cluster, scenarios.VarNamespace: namespace},
		Versions:  vl,
	})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Metadata.Name, err)
	}
	out, err := l.Parse(sc.File, sc.Source)
	if err != nil {
		return nil, fmt.Errorf("scenario %s with cluster %s: %w", sc.Metadata.Name, cluster, err)
	}
	return out, nil
}

func pinnedVersions(vl *versions.List) ([]string, error) {
	if vl != nil {
		return vl.Versions(), nil
	}
	l, err := versions.Load()
	if err != nil {
		return nil, fmt.Errorf("loading the pinned versions: %w", err)
	}
	return l.Versions(), nil
}

// clusterName is prefix-suffix, cut so that it stays a DNS label with room for the
// "-control-plane" and "-md-0-xxxxx-yyyyy" suffixes of the objects made from it.
func clusterName(prefix, suffix string) string {
	const max = 63 - len("-control-plane") - 12
	if n := max - len(suffix) - 1; len(prefix) > n {
		prefix = strings.TrimRight(prefix[:n], "-")
	}
	return prefix + "-" + suffix
}

// randomSuffix returns n lowercase letters and digits.
func randomSuffix(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
