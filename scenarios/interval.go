package scenarios

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Interval is how long to wait for something and how often to look, as in Cluster API's e2e
// configuration. It is written "15m/10s" (timeout/poll), "15m" (poll every 5s), or as a
// mapping {timeout: 15m, poll: 10s}.
type Interval struct {
	// Timeout is how long to wait at most.
	Timeout Duration `yaml:"timeout"`
	// Poll is how often to look; DefaultPoll when not set.
	Poll Duration `yaml:"poll,omitempty"`
}

// DefaultPoll is the poll of an interval written without one.
const DefaultPoll = 5 * time.Second

// DefaultIntervals are the named intervals every scenario has, tuned for a 2-core machine (see
// the README's figures: a hosted control plane is Ready 25 s after apply, three workers 57 s).
// A scenario's spec.intervals adds to them or overrides them.
func DefaultIntervals() map[string]Interval {
	iv := func(timeout, poll time.Duration) Interval {
		return Interval{Timeout: Duration{timeout}, Poll: Duration{poll}}
	}
	return map[string]Interval{
		"default": iv(5*time.Minute, 5*time.Second),
		"create":  iv(15*time.Minute, 10*time.Second),
		"recover": iv(5*time.Minute, 5*time.Second),
		"upgrade": iv(20*time.Minute, 15*time.Second),
		"delete":  iv(10*time.Minute, 10*time.Second),
	}
}

// UnmarshalYAML reads either form. It checks the mapping's keys itself, as strict decoding
// does not reach into a custom decoder.
func (iv *Interval) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		timeout, poll, hasPoll := strings.Cut(n.Value, "/")
		if err := iv.Timeout.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(timeout), Line: n.Line}); err != nil {
			return err
		}
		if hasPoll {
			return iv.Poll.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(poll), Line: n.Line})
		}
		return nil
	case yaml.MappingNode:
		var errs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var err error
			switch k.Value {
			case "timeout":
				err = iv.Timeout.UnmarshalYAML(v)
			case "poll":
				err = iv.Poll.UnmarshalYAML(v)
			default:
				err = typeError(k, "field %s not found in type scenarios.Interval", k.Value)
			}
			if te, ok := err.(*yaml.TypeError); ok {
				errs = append(errs, te.Errors...)
			}
		}
		if len(errs) > 0 {
			return &yaml.TypeError{Errors: errs}
		}
		return nil
	default:
		return typeError(n, "want an interval such as 15m/10s or {timeout: 15m, poll: 10s}, got a %s", kindName(n))
	}
}

// PollOrDefault is Poll, or DefaultPoll when it is not set.
func (iv Interval) PollOrDefault() time.Duration {
	if iv.Poll.Duration > 0 {
		return iv.Poll.Duration
	}
	return DefaultPoll
}

// String renders the interval as "15m0s/10s".
func (iv Interval) String() string {
	return fmt.Sprintf("%s/%s", iv.Timeout.Duration, iv.PollOrDefault())
}
