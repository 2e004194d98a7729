//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// repoRoot is the repository's top directory, where hack/ and versions/ live.
var repoRoot string

// artifacts is where logs of failed clusters go: $ARTIFACTS, else e2e/_artifacts.
var artifacts string

// pinned is one entry of versions/versions.json.
type pinned struct {
	Version string `json:"version"`
	Etcd    string `json:"etcd"`
	CoreDNS string `json:"coredns"`
	Pause   string `json:"pause"`
}

// versionsUnderTest reads the pinned Kubernetes versions, narrowed by E2E_VERSIONS
// (space- or comma-separated) when it is set.
func versionsUnderTest() ([]pinned, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, fmt.Errorf("finding the repository root: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "versions", "versions.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the pinned versions: %w", err)
	}
	var doc struct {
		Kubernetes []pinned `json:"kubernetes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parsing versions/versions.json: %w", err)
	}
	want := strings.FieldsFunc(os.Getenv("E2E_VERSIONS"), func(r rune) bool { return r == ',' || r == ' ' })
	if len(want) == 0 {
		return doc.Kubernetes, nil
	}
	var out []pinned
	for _, w := range want {
		found := false
		for _, p := range doc.Kubernetes {
			if p.Version == w {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("E2E_VERSIONS names %s, which versions/versions.json does not pin", w)
		}
	}
	return out, nil
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	repoRoot = root
	artifacts = os.Getenv("ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "e2e", "_artifacts")
	}
	RunSpecs(t, "KaaS Sandbox e2e")
}
