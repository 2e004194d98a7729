package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// embedded holds the scenario files of this directory, so the command line carries them.
//
//go:embed *.yaml
var embedded embed.FS

// File is a scenario file's name, as errors show it, and its content.
type File struct {
	Name string
	Data []byte
}

// BuiltinFiles returns the scenario files this package carries, named as in the repository
// ("scenarios/octavia-outage.yaml"), in name order.
func BuiltinFiles() ([]File, error) {
	names, err := fs.Glob(embedded, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing the built-in scenarios: %w", err)
	}
	sort.Strings(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		data, err := embedded.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading built-in scenario %s: %w", n, err)
		}
		out = append(out, File{Name: "scenarios/" + n, Data: data})
	}
	return out, nil
}

// ReadFiles reads scenario files; a directory stands for every *.yaml file in it, in name
// order.
func ReadFiles(paths []string) ([]File, error) {
	var out []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading scenarios: %w", err)
		}
		names := []string{p}
		if st.IsDir() {
			if names, err = filepath.Glob(filepath.Join(p, "*.yaml")); err != nil {
				return nil, fmt.Errorf("listing scenarios in %s: %w", p, err)
			}
			sort.Strings(names)
		}
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				return nil, fmt.Errorf("reading scenario: %w", err)
			}
			out = append(out, File{Name: n, Data: data})
		}
	}
	return out, nil
}
