package scenarios

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fieldPath names a field of a scenario by its YAML keys and list indices, so that a problem
// found in the decoded value can be traced back to its line.
type fieldPath []any // string keys and int indices

func root(keys ...string) fieldPath {
	p := make(fieldPath, 0, len(keys))
	for _, k := range keys {
		p = append(p, k)
	}
	return p
}

// Key returns the path of a field under p.
func (p fieldPath) Key(k string) fieldPath { return append(p[:len(p):len(p)], k) }

// Index returns the path of a list element under p.
func (p fieldPath) Index(i int) fieldPath { return append(p[:len(p):len(p)], i) }

// String renders the path as "spec.steps[2].fault".
func (p fieldPath) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// line finds the line of the field at p in the document: the line of its key for a mapping
// field, of the element for a list element, or of the nearest enclosing field that exists
// when p itself is missing (a required field left out).
func (p fieldPath) line(doc *yaml.Node) int {
	if doc == nil {
		return 0
	}
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, e := range p {
		switch e := e.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == e {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
			if next == nil {
				return line
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || e >= len(n.Content) {
				return line
			}
			n = n.Content[e]
			line = n.Line
		}
	}
	return line
}
