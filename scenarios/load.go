package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/kaas-sandbox/sandbox/versions"
)

// Options tune a Loader.
type Options struct {
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// Overrides set variables ahead of the environment, e.g. an upgrade matrix cell's. Only
	// variables the scenario has (built-in or declared) are set.
	Overrides map[string]string
	// Runtime gives the runtime variables' values (CLUSTER_NAME, NAMESPACE) once a run knows
	// them; without them, references to them stay in place.
	Runtime map[string]string
	// Versions is the pinned version list; nil means versions.Load().
	Versions *versions.List
}

// Loader decodes and validates scenario files.
type Loader struct {
	opts     Options
	pinned   []string
	builtins map[string]string
}

// NewLoader returns a loader; it reads the pinned versions unless opts gives them.
func NewLoader(opts Options) (*Loader, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Versions == nil {
		l, err := versions.Load()
		if err != nil {
			return nil, fmt.Errorf("loading the pinned versions: %w", err)
		}
		opts.Versions = &l
	}
	return &Loader{opts: opts, pinned: opts.Versions.Versions(), builtins: BuiltinDefaults(*opts.Versions)}, nil
}

// Parse decodes and validates one scenario. file names it in errors. A returned error is a
// *FileError listing every problem found, each with its line.
func (l *Loader) Parse(file string, data []byte) (*Scenario, error) {
	fe := &FileError{File: file}
	fail := func(ps ...Problem) (*Scenario, error) {
		fe.Problems = sortProblems(append(fe.Problems, ps...))
		return nil, fe
	}

	// The tree, for the variables' declarations, expansion and lines.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fail(yamlProblems(err)...)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fail(Problem{Message: "empty file: want one Scenario"})
	}
	if top := doc.Content[0]; top.Kind != yaml.MappingNode {
		return fail(Problem{Line: top.Line, Message: fmt.Sprintf("want a Scenario (a mapping with apiVersion, kind, metadata and spec), got a %s", kindName(top))})
	}

	// Pass 1: strict decoding of the file as written: unknown fields and malformed values.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var strict Scenario
	if err := dec.Decode(&strict); err != nil {
		fe.Problems = append(fe.Problems, yamlProblems(err)...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		fe.Problems = append(fe.Problems, Problem{Line: extra.Line, Message: "a second YAML document: a file holds one Scenario"})
	} else if !errors.Is(err, io.EOF) {
		fe.Problems = append(fe.Problems, yamlProblems(err)...)
	}

	// Variables, then pass 2: the expanded tree into the value the runner gets.
	vars := l.resolve(strict.Spec.Variables)
	fe.Problems = append(fe.Problems, expandNode(&doc, vars, l.opts.Runtime, variablesNode(&doc))...)
	s := &Scenario{File: file, Source: data, Resolved: vars}
	if err := doc.Decode(s); err != nil {
		fe.Problems = append(fe.Problems, yamlProblems(err)...)
	}
	s.nameLine = root("metadata", "name").line(&doc)
	l.defaults(s)

	for _, p := range validate(s, l.pinned) {
		fe.Problems = append(fe.Problems, Problem{Line: p.path.line(&doc), Path: p.path.String(), Message: p.msg})
	}
	if len(fe.Problems) > 0 {
		return fail()
	}
	return s, nil
}

// resolve gives every variable of a scenario its value: the built-in default, the declared
// default, the environment (an empty value counts as unset), then the loader's overrides.
func (l *Loader) resolve(declared map[string]string) map[string]string {
	vals := make(map[string]string, len(l.builtins)+len(declared))
	for k, v := range l.builtins {
		vals[k] = v
	}
	for k, v := range declared {
		vals[k] = v
	}
	for k := range vals {
		if v, ok := l.opts.LookupEnv(k); ok && v != "" {
			vals[k] = v
		}
		if v, ok := l.opts.Overrides[k]; ok {
			vals[k] = v
		}
	}
	return vals
}

// defaults fills what a scenario may leave out.
func (l *Loader) defaults(s *Scenario) {
	if c := s.Spec.Cluster; c != nil {
		if c.NamePrefix == "" {
			c.NamePrefix = s.Metadata.Name
		}
		if c.KubernetesVersion == "" {
			c.KubernetesVersion = s.Resolved[VarKubernetesVersion]
		}
	}
}

// LoadFile reads and parses one file.
func (l *Loader) LoadFile(name string) (*Scenario, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return l.Parse(name, data)
}

// ParseAll parses files, in order. It returns the valid scenarios and an error joining every
// file's *FileError, duplicate names included.
func (l *Loader) ParseAll(files []File) ([]*Scenario, error) {
	var (
		out  []*Scenario
		errs []error
	)
	for _, f := range files {
		s, err := l.Parse(f.Name, f.Data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	if err := Duplicates(out); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// LoadDir parses every *.yaml file of a directory.
func (l *Loader) LoadDir(dir string) ([]*Scenario, error) {
	files, err := ReadFiles([]string{dir})
	if err != nil {
		return nil, err
	}
	return l.ParseAll(files)
}

// Builtin parses the scenarios this package carries.
func (l *Loader) Builtin() ([]*Scenario, error) {
	files, err := BuiltinFiles()
	if err != nil {
		return nil, err
	}
	return l.ParseAll(files)
}

// Duplicates reports scenarios sharing a name, each problem on the later file's
// metadata.name and naming the earlier file.
func Duplicates(list []*Scenario) error {
	first := map[string]*Scenario{}
	var errs []error
	for _, s := range list {
		prev, ok := first[s.Metadata.Name]
		if !ok {
			first[s.Metadata.Name] = s
			continue
		}
		errs = append(errs, &FileError{File: s.File, Problems: []Problem{{
			Line: s.nameLine, Path: "metadata.name",
			Message: fmt.Sprintf("duplicate scenario name %q (also in %s:%d)", s.Metadata.Name, prev.File, prev.nameLine),
		}}})
	}
	return errors.Join(errs...)
}
