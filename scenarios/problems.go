package scenarios

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a scenario file.
type Problem struct {
	// Line is the 1-based line the problem is on; 0 when it has none (an empty file).
	Line int
	// Path is the field, as "spec.steps[2].fault.expiresAfter"; empty for problems of the
	// YAML itself (syntax, unknown fields), whose message names the field.
	Path string
	// Message says what is wrong.
	Message string
}

// FileError lists every problem of one scenario file.
type FileError struct {
	// File is the file's name as the user knows it, e.g. "scenarios/octavia-outage.yaml".
	File string
	// Problems are sorted by line.
	Problems []Problem
}

// Error renders one problem a line, each as "FILE:LINE: PATH: MESSAGE".
func (e *FileError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, e.format(p))
	}
	return strings.Join(lines, "\n")
}

func (e *FileError) format(p Problem) string {
	var b strings.Builder
	b.WriteString(e.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// sortProblems orders problems by line, then path, and drops exact repeats (both decoding
// passes report a malformed value the same way).
func sortProblems(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Path < ps[j].Path
	})
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// yamlLine matches the "line N: message" of yaml.v3's errors.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlProblems turns an error of yaml.v3 into problems with their lines.
func yamlProblems(err error) []Problem {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			out = append(out, Problem{Line: n, Message: g[2]})
			continue
		}
		out = append(out, Problem{Message: strings.TrimPrefix(m, "yaml: ")})
	}
	return out
}

// typeError reports a malformed value the way yaml.v3 reports its own, so that decoding goes on
// and the problem keeps its line.
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}
