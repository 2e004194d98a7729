package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/scenarios"
)

// faultSpec turns a scenario's fault into the admin API's request; the expiry goes with it,
// so fakecloud switches the fault off by itself if the run dies.
func faultSpec(f *scenarios.Fault) adminclient.FaultSpec {
	s := adminclient.FaultSpec{
		Type: f.Type, Service: f.Service, Operation: f.Operation, Project: f.Project,
		Status: f.Status, Message: f.Message, Mode: f.Mode, Resource: f.Resource,
		For: f.ExpiresAfter.Duration.String(), Seed: f.Seed,
	}
	if f.Rate != nil {
		s.Rate = *f.Rate
	}
	if f.Latency.Duration > 0 {
		s.Latency = f.Latency.Duration.String()
	}
	if f.StuckFor.Duration > 0 {
		s.StuckFor = f.StuckFor.Duration.String()
	}
	if f.Limit != nil {
		s.Limit = *f.Limit
	}
	return s
}

// fault switches a fault on and opens its window.
func (r *run) fault(ctx context.Context, f *scenarios.Fault) error {
	rule, err := r.env.Cloud.AddFault(ctx, faultSpec(f))
	if err != nil {
		return fmt.Errorf("switching fault %s on: %w", f.Name, err)
	}
	w := &FaultWindow{Name: f.Name, ID: rule.ID, Describe: rule.Describe(), Start: time.Now(), Seed: f.Seed, CloudEvents: -1}
	key := f.Name
	if key == "" {
		key = rule.ID
	}
	r.faults[key] = w
	r.progress.linef("  fault %s on: %s, expires after %s", rule.ID, w.Describe, f.ExpiresAfter)
	return nil
}

// clearFault switches faults off and closes their windows.
func (r *run) clearFault(ctx context.Context, c *scenarios.ClearFault) error {
	if c.All {
		n, err := r.env.Cloud.RemoveFault(ctx, "all")
		if err != nil {
			return fmt.Errorf("switching every fault off: %w", err)
		}
		r.progress.linef("  %d faults off", n)
		for _, w := range r.faults {
			r.endWindow(ctx, w)
		}
		return nil
	}
	w, ok := r.faults[c.Name]
	if !ok {
		return fmt.Errorf("no fault %q was switched on", c.Name)
	}
	if !w.End.IsZero() {
		return nil
	}
	if _, err := r.env.Cloud.RemoveFault(ctx, w.ID); err != nil {
		return fmt.Errorf("switching fault %s (%s) off: %w", c.Name, w.ID, err)
	}
	r.endWindow(ctx, w)
	return nil
}

// endWindow closes a fault's window and counts the cloud's events inside it.
func (r *run) endWindow(ctx context.Context, w *FaultWindow) {
	if !w.End.IsZero() {
		return
	}
	w.End = time.Now()
	w.CloudEvents = r.countEvents(ctx, w.Start, w.End)
	r.res.Faults = append(r.res.Faults, *w)
	r.progress.linef("  fault %s off after %s; %d cloud events during it", w.Name, round(w.End.Sub(w.Start)), w.CloudEvents)
}

// countEvents counts the event log's entries between from and to, faults' own aside.
func (r *run) countEvents(ctx context.Context, from, to time.Time) int {
	events, err := r.env.Cloud.Events(ctx, r.eventCursor)
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range events {
		if e.Service != "fault" && !e.Time.Before(from) && !e.Time.After(to) {
			n++
		}
	}
	return n
}

// clearOwnFaults switches off the faults of this run still on (the cleanup ran without a
// clearFault, or it failed): a run leaves the cloud as it found it.
func (r *run) clearOwnFaults(ctx context.Context) {
	for _, w := range r.faults {
		if !w.End.IsZero() {
			continue
		}
		if _, err := r.env.Cloud.RemoveFault(ctx, w.ID); err != nil {
			r.progress.linef("  fault %s (%s): %v (it expires by itself)", w.Name, w.ID, err)
		}
	}
}

// closeFaultWindows closes the windows still open at the run's end.
func (r *run) closeFaultWindows(ctx context.Context) {
	for _, w := range r.faults {
		r.endWindow(ctx, w)
	}
}
