package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// observation is what one look at an expect's objects found.
type observation struct {
	ok bool
	// summary says, in one line, where the objects are against what is expected.
	summary string
	// conditions are every object's conditions, one line per object.
	conditions []string
	// cloudMessage is a False condition's message naming the cloud's error, if any.
	cloudMessage string
}

// expect waits until the objects are in the expected state within the interval, then, with
// stableFor, until they have held it that long without a break.
func (r *run) expect(ctx context.Context, e *scenarios.Expect, sr *StepResult) error {
	iv, err := r.interval(e.Within, "default")
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(iv.Timeout.Duration + e.StableFor.Duration)
	every := r.env.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	lastReport := start
	var (
		last        observation
		stableSince time.Time
		everHeld    bool // the state was reached, then broke before stableFor
		lookErr     error
	)
	for {
		var objs []unstructured.Unstructured
		objs, lookErr = r.objects(ctx, e.Object)
		if lookErr == nil {
			last = evaluate(e, objs)
			sr.Conditions, sr.CloudMessage = last.conditions, last.cloudMessage
		}
		now := time.Now()
		switch {
		case lookErr == nil && last.ok && stableSince.IsZero():
			stableSince, everHeld = now, true
		case !last.ok || lookErr != nil:
			stableSince = time.Time{}
		}
		if !stableSince.IsZero() && now.Sub(stableSince) >= e.StableFor.Duration {
			return nil
		}
		if stableSince.IsZero() && now.Sub(start) > iv.Timeout.Duration {
			return r.expectFailure(e, iv, last, lookErr, everHeld)
		}
		if now.After(deadline) {
			return r.expectFailure(e, iv, last, lookErr, true)
		}
		if now.Sub(lastReport) >= every {
			lastReport = now
			state := last.summary
			if lookErr != nil {
				state = lookErr.Error()
			}
			if !stableSince.IsZero() {
				state = fmt.Sprintf("holding for %s of %s: %s", round(now.Sub(stableSince)), e.StableFor, state)
			}
			r.progress.linef("  waiting %s of %s: %s", now.Sub(start).Round(time.Second), iv.Timeout, state)
		}
		if err := sleep(ctx, iv.PollOrDefault()); err != nil {
			return fmt.Errorf("waiting for %s: %w (last seen: %s)", describeExpect(e), err, last.summary)
		}
	}
}

func (r *run) expectFailure(e *scenarios.Expect, iv scenarios.Interval, last observation, lookErr error, broke bool) error {
	what := describeExpect(e)
	if lookErr != nil {
		return fmt.Errorf("%s not seen within %s: %w", what, iv.Timeout, lookErr)
	}
	if broke {
		return fmt.Errorf("%s did not hold for %s within %s; last seen: %s", what, e.StableFor, iv.Timeout, last.summary)
	}
	return fmt.Errorf("%s not seen within %s; last seen: %s", what, iv.Timeout, last.summary)
}

// describeExpect says what an expect waits for, e.g. "GcoreControlPlane x-control-plane
// EndpointReady=False reason CloudError message ~ \"503\"".
func describeExpect(e *scenarios.Expect) string {
	var b strings.Builder
	b.WriteString(e.Object.Kind + " ")
	if e.Object.Name != "" {
		b.WriteString(e.Object.Name)
	} else {
		b.WriteString(fmt.Sprintf("%v", e.Object.Selector))
	}
	if e.Count != nil {
		fmt.Fprintf(&b, " count %d", *e.Count)
	}
	if e.Condition != "" {
		fmt.Fprintf(&b, " %s=%s", e.Condition, e.StatusOrDefault())
		if e.Reason != "" {
			fmt.Fprintf(&b, " reason %s", e.Reason)
		}
		if e.MessageContains != "" {
			fmt.Fprintf(&b, " message ~ %q", e.MessageContains)
		}
		if e.Match == scenarios.MatchAny {
			b.WriteString(" (any)")
		}
	}
	if e.FieldPath != "" {
		fmt.Fprintf(&b, " %s == %s", e.FieldPath, e.Equals)
	}
	return b.String()
}

// evaluate checks objects against an expect.
func evaluate(e *scenarios.Expect, objs []unstructured.Unstructured) observation {
	var o observation
	var parts []string
	matched := 0
	for i := range objs {
		u := &objs[i]
		var line []string
		for _, c := range conditions(u) {
			line = append(line, c.String())
			if c.Status == scenarios.StatusFalse && c.Message != "" && o.cloudMessage == "" && strings.Contains(c.Reason, "Cloud") {
				o.cloudMessage = oneLine(c.Message, 500)
			}
		}
		o.conditions = append(o.conditions, fmt.Sprintf("%s %s: %s", u.GetKind(), u.GetName(), strings.Join(line, "; ")))
		ok, state := objectMatches(e, u)
		if ok {
			matched++
		}
		parts = append(parts, u.GetName()+" "+state)
	}
	need := "all"
	switch {
	case e.Count != nil && len(objs) != *e.Count:
		o.ok = false
	case e.Condition == "" && e.FieldPath == "":
		o.ok = true // a count alone
	case len(objs) == 0:
		o.ok = false
	case e.Match == scenarios.MatchAny:
		need, o.ok = "any", matched > 0
	default:
		o.ok = matched == len(objs)
	}
	head := fmt.Sprintf("%d %s", len(objs), plural(e.Object.Kind, len(objs)))
	if e.Count != nil {
		head += fmt.Sprintf(" (want %d)", *e.Count)
	}
	if e.Condition != "" || e.FieldPath != "" {
		head += fmt.Sprintf(", %d of them as expected (want %s)", matched, need)
	}
	if len(parts) > 0 {
		head += ": " + strings.Join(parts, "; ")
	}
	o.summary = oneLine(head, 800)
	if o.cloudMessage == "" && e.Condition != "" {
		for i := range objs {
			if c, ok := findCondition(&objs[i], e.Condition); ok && c.Status != scenarios.StatusTrue && c.Message != "" {
				o.cloudMessage = oneLine(c.Message, 500)
				break
			}
		}
	}
	return o
}

// objectMatches checks one object's condition or field, and says where it is.
func objectMatches(e *scenarios.Expect, u *unstructured.Unstructured) (bool, string) {
	switch {
	case e.Condition != "":
		c, ok := findCondition(u, e.Condition)
		if !ok {
			return false, e.Condition + " not reported"
		}
		match := c.Status == e.StatusOrDefault() &&
			(e.Reason == "" || c.Reason == e.Reason) &&
			(e.MessageContains == "" || strings.Contains(c.Message, e.MessageContains))
		return match, c.String()
	case e.FieldPath != "":
		v, ok := fieldValue(u, e.FieldPath)
		if !ok {
			return false, e.FieldPath + " not set"
		}
		return v == e.Equals, e.FieldPath + "=" + v
	}
	return true, "exists"
}

func plural(kind string, n int) string {
	if n == 1 {
		return kind
	}
	return kind + "s"
}
