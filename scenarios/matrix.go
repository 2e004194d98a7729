package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Cell is one run of the upgrade scenario in the upgrade matrix.
type Cell struct {
	// Name is "v1.35.4-v1.36.3" for a pair, "chain-v1.35.4-v1.37.2" for the chain.
	Name string
	// Chain is true for the run from the oldest pinned version to the newest through every one
	// in between.
	Chain bool
	// Path is the versions the cluster goes through, first to last.
	Path []string
	// Variables are the overrides that make the upgrade scenario run this cell
	// (Options.Overrides).
	Variables map[string]string
}

// Matrix returns the upgrade matrix of the pinned versions (oldest first, as versions.List
// keeps them): a cell for every adjacent pair, then, with three versions or more, the chain
// from the oldest to the newest.
func Matrix(pinned []string) ([]Cell, error) {
	if err := checkOrder(pinned); err != nil {
		return nil, err
	}
	var cells []Cell
	cell := func(name string, chain bool, path []string) Cell {
		return Cell{Name: name, Chain: chain, Path: path, Variables: map[string]string{
			VarUpgradeFrom: path[0], VarUpgradeTo: path[len(path)-1],
		}}
	}
	for i := 0; i+1 < len(pinned); i++ {
		cells = append(cells, cell(pinned[i]+"-"+pinned[i+1], false, []string{pinned[i], pinned[i+1]}))
	}
	if n := len(pinned); n >= 3 {
		cells = append(cells, cell("chain-"+pinned[0]+"-"+pinned[n-1], true, slices.Clone(pinned)))
	}
	return cells, nil
}

// UpgradePath returns the versions an upgrade from one pinned version to a newer one goes
// through, one minor at a time: from, every pinned version in between, to.
func UpgradePath(pinned []string, from, to string) ([]string, error) {
	i, j := slices.Index(pinned, from), slices.Index(pinned, to)
	switch {
	case i < 0:
		return nil, fmt.Errorf("%q is not a pinned version (%s)", from, strings.Join(pinned, ", "))
	case j < 0:
		return nil, fmt.Errorf("%q is not a pinned version (%s)", to, strings.Join(pinned, ", "))
	case j <= i:
		return nil, fmt.Errorf("cannot upgrade from %s to %s: not a newer version", from, to)
	}
	return slices.Clone(pinned[i : j+1]), nil
}

// checkOrder makes sure the versions are vX.Y.Z, oldest first, one per minor.
func checkOrder(pinned []string) error {
	prev := [3]int{-1, -1, -1}
	for _, v := range pinned {
		cur, err := semver(v)
		if err != nil {
			return err
		}
		if cur[0] < prev[0] || (cur[0] == prev[0] && cur[1] <= prev[1]) {
			return fmt.Errorf("pinned versions must be one per minor, oldest first: %s comes after v%d.%d.%d", v, prev[0], prev[1], prev[2])
		}
		prev = cur
	}
	return nil
}

func semver(v string) ([3]int, error) {
	var out [3]int
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if !strings.HasPrefix(v, "v") || len(parts) != 3 {
		return out, fmt.Errorf("version %q is not vX.Y.Z", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("version %q is not vX.Y.Z", v)
		}
		out[i] = n
	}
	return out, nil
}
