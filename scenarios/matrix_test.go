package scenarios

import (
	"slices"
	"strings"
	"testing"
)

func TestMatrix(t *testing.T) {
	cells, err := Matrix([]string{"v1.35.4", "v1.36.3", "v1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	var pairs, chains []Cell
	for _, c := range cells {
		if c.Chain {
			chains = append(chains, c)
		} else {
			pairs = append(pairs, c)
		}
	}
	if len(pairs) != 2 || len(chains) != 1 {
		t.Fatalf("%d pairs and %d chains, want 2 and 1: %+v", len(pairs), len(chains), cells)
	}
	for i, want := range [][]string{{"v1.35.4", "v1.36.3"}, {"v1.36.3", "v1.37.2"}} {
		c := pairs[i]
		if !slices.Equal(c.Path, want) || c.Variables[VarUpgradeFrom] != want[0] || c.Variables[VarUpgradeTo] != want[1] {
			t.Errorf("pair %d: %+v, want %v", i, c, want)
		}
		if c.Name != want[0]+"-"+want[1] {
			t.Errorf("pair %d named %s", i, c.Name)
		}
	}
	chain := chains[0]
	if !slices.Equal(chain.Path, []string{"v1.35.4", "v1.36.3", "v1.37.2"}) ||
		chain.Variables[VarUpgradeFrom] != "v1.35.4" || chain.Variables[VarUpgradeTo] != "v1.37.2" || chain.Name != "chain-v1.35.4-v1.37.2" {
		t.Errorf("chain %+v", chain)
	}
}

func TestMatrixOfTwoVersions(t *testing.T) {
	cells, err := Matrix([]string{"v1.36.3", "v1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 1 || cells[0].Chain {
		t.Fatalf("cells %+v, want one pair and no chain (it would be the same run)", cells)
	}
}

func TestMatrixRejectsUnorderedVersions(t *testing.T) {
	for _, vs := range [][]string{{"v1.37.2", "v1.36.3"}, {"v1.36.3", "v1.36.4"}, {"1.36.3"}} {
		if _, err := Matrix(vs); err == nil {
			t.Errorf("Matrix(%v): no error", vs)
		}
	}
}

func TestMatrixCellsRunTheUpgradeScenario(t *testing.T) {
	pinned := []string{"v1.35.4", "v1.36.3", "v1.37.2"}
	cells, err := Matrix(pinned)
	if err != nil {
		t.Fatal(err)
	}
	files, err := BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(files, func(f File) bool { return f.Name == "scenarios/upgrade.yaml" })
	if i < 0 {
		t.Fatal("no scenarios/upgrade.yaml")
	}
	for _, c := range cells {
		s, err := testLoader(t, Options{Overrides: c.Variables}).Parse(files[i].Name, files[i].Data)
		if err != nil {
			t.Fatalf("cell %s: %v", c.Name, err)
		}
		var to string
		for _, st := range s.Spec.Steps {
			if st.Upgrade != nil {
				to = st.Upgrade.To
			}
		}
		path, err := UpgradePath(pinned, s.Spec.Cluster.KubernetesVersion, to)
		if err != nil || !slices.Equal(path, c.Path) {
			t.Errorf("cell %s: the scenario goes through %v (%v), want %v", c.Name, path, err, c.Path)
		}
	}
}

func TestUpgradePath(t *testing.T) {
	pinned := []string{"v1.35.4", "v1.36.3", "v1.37.2"}
	if p, err := UpgradePath(pinned, "v1.35.4", "v1.37.2"); err != nil || len(p) != 3 {
		t.Errorf("UpgradePath = %v, %v", p, err)
	}
	for _, c := range [][2]string{{"v1.37.2", "v1.36.3"}, {"v1.36.3", "v1.36.3"}, {"v1.34.0", "v1.36.3"}, {"v1.36.3", "v1.38.0"}} {
		if _, err := UpgradePath(pinned, c[0], c[1]); err == nil || !strings.Contains(err.Error(), "v1.3") {
			t.Errorf("UpgradePath(%s, %s): error %v", c[0], c[1], err)
		}
	}
}
