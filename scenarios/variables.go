package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kaas-sandbox/sandbox/versions"
)

// Built-in variables: every scenario may use them without declaring them, and the environment
// overrides them as it does declared ones (as in Cluster API's e2e configuration).
const (
	// VarKubernetesVersion is the version clusters are created at; default the newest pinned.
	VarKubernetesVersion = "KUBERNETES_VERSION"
	// VarUpgradeFrom is the version the upgrade scenario starts at; default the second newest.
	VarUpgradeFrom = "KUBERNETES_VERSION_UPGRADE_FROM"
	// VarUpgradeTo is the version the upgrade scenario ends at; default the newest.
	VarUpgradeTo = "KUBERNETES_VERSION_UPGRADE_TO"
)

// Runtime variables name what exists only once a run has begun. Loading leaves references to
// them in place unless Options.Runtime gives their values.
const (
	// VarClusterName is the name of the Cluster the scenario created.
	VarClusterName = "CLUSTER_NAME"
	// VarNamespace is its namespace in the service cluster, where its control plane runs.
	VarNamespace = "NAMESPACE"
)

// RuntimeVariables lists the runtime variables.
func RuntimeVariables() []string { return []string{VarClusterName, VarNamespace} }

// BuiltinDefaults returns the built-in variables' defaults for a pinned version list.
func BuiltinDefaults(l versions.List) map[string]string {
	vs := l.Versions()
	out := map[string]string{VarKubernetesVersion: "", VarUpgradeFrom: "", VarUpgradeTo: ""}
	if n := len(vs); n > 0 {
		out[VarKubernetesVersion] = vs[n-1]
		out[VarUpgradeTo] = vs[n-1]
		if n > 1 {
			out[VarUpgradeFrom] = vs[n-2]
		}
	}
	return out
}

// reference matches ${NAME}.
var reference = regexp.MustCompile(`\$\{([^}]*)\}`)

// hasRuntimeRef reports whether s still holds a reference, which only a runtime variable can
// after loading.
func hasRuntimeRef(s string) bool { return strings.Contains(s, "${") }

// expandString replaces every ${NAME} in s: with vals[NAME], or, for a runtime variable
// without a value, with itself. It returns the names it could not resolve.
func expandString(s string, vals, runtime map[string]string) (string, []string) {
	var missing []string
	out := reference.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if v, ok := vals[name]; ok {
			return v
		}
		if slices.Contains(RuntimeVariables(), name) {
			if v, ok := runtime[name]; ok {
				return v
			}
			return ref
		}
		missing = append(missing, name)
		return ref
	})
	if i := strings.Index(reference.ReplaceAllString(s, ""), "${"); i >= 0 {
		missing = append(missing, "") // an unterminated reference
	}
	return out, missing
}

// expandNode expands the references in every scalar value under n but the variables'
// declarations, and reports each unresolved one with its line.
func expandNode(n *yaml.Node, vals, runtime map[string]string, skip *yaml.Node) []Problem {
	if n == nil || n == skip {
		return nil
	}
	var out []Problem
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, expandNode(c, vals, runtime, skip)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, expandNode(n.Content[i+1], vals, runtime, skip)...)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		v, missing := expandString(n.Value, vals, runtime)
		for _, name := range missing {
			msg := fmt.Sprintf("undefined variable ${%s}: declare it in spec.variables (defined: %s; set at run time: %s)",
				name, strings.Join(sortedKeys(vals), ", "), strings.Join(RuntimeVariables(), ", "))
			if name == "" {
				msg = fmt.Sprintf("%q holds a ${ without its closing }", n.Value)
			}
			out = append(out, Problem{Line: n.Line, Message: msg})
		}
		n.Value = v
	}
	return out
}

// variablesNode returns the value node of spec.variables, or nil.
func variablesNode(doc *yaml.Node) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range []string{"spec", "variables"} {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// parseDuration parses a duration, telling whether it is one.
func parseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	return d, err == nil
}
