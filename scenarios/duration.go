package scenarios

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a length of time written as Go and Kubernetes write one: "30s", "2m", "1h30m".
type Duration struct {
	time.Duration
}

// UnmarshalYAML reads a duration string. A value still holding a variable reference is left
// for the second decoding pass, after the variables are expanded.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "want a duration such as 30s or 2m, got a %s", kindName(n))
	}
	if strings.Contains(n.Value, "${") {
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return typeError(n, "%q is not a duration (such as 30s or 2m)", n.Value)
	}
	d.Duration = v
	return nil
}

// String renders the duration as "2m0s".
func (d Duration) String() string { return d.Duration.String() }

// kindName names a YAML node's kind in messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	default:
		return "value"
	}
}
