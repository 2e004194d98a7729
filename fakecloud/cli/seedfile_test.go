package cli

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
)

func TestSeedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(path, []byte(seedExample), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, filepath.Join(dir, "data"), "--seed", path)
	st, err := p.admin(t).State(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range st.Resources {
		got[r.Kind] = append(got[r.Kind], r.Name)
	}
	for kind, want := range map[string]string{
		"flavor": "bm1.medium,g1.small",
		"image":  "kaas-node-v1.36.3,kaas-node-v1.37.2",
		"node":   "metal-0",
	} {
		sort.Strings(got[kind])
		if strings.Join(got[kind], ",") != want {
			t.Errorf("%s: %v, want %s", kind, got[kind], want)
		}
	}
}

func TestBadSeedFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown field": "flavours: []",
		"bad flavor":    "flavors: [{name: x}]",
		"bad node":      "bareMetalNodes: [{name: x}]",
		"not yaml":      "{{{",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var seed cloud.Seed
		if err := applySeedFile(path, &seed); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var seed cloud.Seed
	if err := applySeedFile(filepath.Join(dir, "missing.yaml"), &seed); err == nil {
		t.Error("a missing file was accepted")
	}
}
