//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
)

// stubRepository makes the files of a clusterctl local repository that config/gcore.yaml names,
// empty but present, as hack/capi.sh and hack/providers.sh would.
func stubRepository(t *testing.T, capi, gcore string) string {
	t.Helper()
	repo := t.TempDir()
	for _, f := range []string{
		"cluster-api/" + capi + "/metadata.yaml",
		"infrastructure-gcore/" + gcore + "/metadata.yaml",
		"infrastructure-gcore/" + gcore + "/cluster-template.yaml",
	} {
		p := filepath.Join(repo, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("# stub\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

func TestE2EConfigLoads(t *testing.T) {
	g := NewWithT(t)
	RegisterTestingT(t) // LoadE2EConfig asserts with the global Gomega
	repo := stubRepository(t, "v1.14.2", "v0.1.0")
	vars := map[string]string{"CLUSTERCTL_REPOSITORY": repo, "CAPI_VERSION": "v1.14.2", "GCORE_VERSION": "v0.1.0", "KUBERNETES_VERSION": "v1.37.2"}
	rendered, err := renderE2EConfig(filepath.Join("config", "gcore.yaml"), t.TempDir(), vars)
	g.Expect(err).NotTo(HaveOccurred())

	cfg := clusterctl.LoadE2EConfig(context.Background(), clusterctl.LoadE2EConfigInput{ConfigPath: rendered})
	g.Expect(cfg.InfrastructureProviders()).To(Equal([]string{gcoreProvider}))
	g.Expect(cfg.GetProviderVersions(gcoreProvider)).To(Equal([]string{"v0.1.0"}))
	g.Expect(cfg.Variables).To(HaveKeyWithValue(capiKubernetesVersion, "v1.37.2"))
	g.Expect(cfg.Variables).To(HaveKeyWithValue("CONTROL_PLANE_MACHINE_COUNT", "1"))
	g.Expect(cfg.Variables).To(HaveKeyWithValue("GCORE_BAREMETAL_MACHINE_COUNT", "1"))
	for _, spec := range []string{"quickstart", "quick-start"} {
		for _, key := range []string{"wait-controllers", "wait-cluster", "wait-control-plane", "wait-worker-nodes", "wait-nodes-ready",
			"wait-kubectl-ready", "wait-deployment-available", "wait-delete-cluster", "wait-cloud-clean"} {
			g.Expect(cfg.GetIntervals(spec, key)).To(HaveLen(2), "interval %s/%s", spec, key)
		}
	}
	g.Expect(cfg.GetIntervals("quickstart", "wait-worker-nodes")).To(Equal([]interface{}{"6m", "10s"}))

	// A provider version without its files in the repository does not load.
	msg := InterceptGomegaFailure(func() {
		clusterctl.LoadE2EConfig(context.Background(), clusterctl.LoadE2EConfigInput{ConfigPath: mustRender(t, map[string]string{
			"CLUSTERCTL_REPOSITORY": repo, "CAPI_VERSION": "v1.14.2", "GCORE_VERSION": "v0.2.0", "KUBERNETES_VERSION": "v1.37.2"})})
	})
	g.Expect(msg).To(MatchError(ContainSubstring("infrastructure-gcore/v0.2.0/metadata.yaml")))
}

func TestRenderE2EConfigNamesMissingVariables(t *testing.T) {
	_, err := renderE2EConfig(filepath.Join("config", "gcore.yaml"), t.TempDir(), map[string]string{"CAPI_VERSION": "v1.14.2"})
	if err == nil || !strings.Contains(err.Error(), "${CLUSTERCTL_REPOSITORY}") || !strings.Contains(err.Error(), "${GCORE_VERSION}") {
		t.Errorf("got %v, want an error naming the missing placeholders", err)
	}
}

// mustRender renders config/gcore.yaml with vars into a temporary directory.
func mustRender(t *testing.T, vars map[string]string) string {
	t.Helper()
	p, err := renderE2EConfig(filepath.Join("config", "gcore.yaml"), t.TempDir(), vars)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
