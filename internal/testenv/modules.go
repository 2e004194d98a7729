package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/versions"
)

// ModuleDir returns the directory of Go module path@version in the module cache, downloading
// it through the Go module proxy when it is not there yet. Tests use it to reach files that a
// module ships beside its code, such as CRD YAML. Any failure fails the test.
func ModuleDir(t testing.TB, path, version string) string {
	t.Helper()
	dir, err := moduleDir(path, version)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleDir(path, version string) (string, error) {
	// Run outside any module, so the download neither reads nor touches the project's go.mod.
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil && runErr == nil {
		return "", fmt.Errorf("reading `go mod download -json %s@%s` output: %w", path, version, err)
	}
	if runErr != nil || info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s failed (%v): %s%s; check that the Go module proxy is reachable", path, version, runErr, info.Error, stderr.String())
	}
	return info.Dir, nil
}

// ClusterAPICRDDirs returns the CRD directories of the pinned Cluster API release
// (versions/versions.json) for the given providers: "core", "bootstrap/kubeadm" or
// "controlplane/kubeadm". With no provider named it returns core's alone.
func ClusterAPICRDDirs(t testing.TB, providers ...string) []string {
	t.Helper()
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	root := ModuleDir(t, "sigs.k8s.io/cluster-api", l.ClusterAPI)
	if len(providers) == 0 {
		providers = []string{"core"}
	}
	dirs := make([]string, 0, len(providers))
	for _, p := range providers {
		dirs = append(dirs, filepath.Join(root, filepath.FromSlash(p), "config", "crd", "bases"))
	}
	return dirs
}

// ProjectCRDDir returns config/crd/bases of this repository: the CRDs `make generate` makes
// for the project's own API groups.
func ProjectCRDDir(t testing.TB) string {
	t.Helper()
	return projectDir(t, "config", "crd", "bases")
}

// ProjectWebhookDir returns config/webhook of this repository: the webhook configurations
// `make generate` makes.
func ProjectWebhookDir(t testing.TB) string {
	t.Helper()
	return projectDir(t, "config", "webhook")
}

func projectDir(t testing.TB, elem ...string) string {
	t.Helper()
	root, err := projectRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%s is missing (%v): run make generate", filepath.Join(elem...), err)
	}
	return dir
}

// projectRoot returns the directory of the go.mod governing the working directory (go test
// runs each test in its package's directory). Source file paths cannot tell: with -trimpath,
// as make test builds, they name the module path, not a directory.
func projectRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("the working directory is in no Go module: run the tests from the repository with go test")
	}
	return filepath.Dir(gomod), nil
}
