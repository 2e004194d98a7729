//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterctlv1 "sigs.k8s.io/cluster-api/cmd/clusterctl/api/v1alpha3"
	"sigs.k8s.io/cluster-api/test/framework"
	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
)

// The files `make sandbox` leaves behind, relative to the repository root. The quickstart specs
// read them and change none of them.
const (
	sandboxKubeconfig       = ".cache/sandbox/kubeconfig"
	sandboxClusterctlConfig = ".cache/clusterctl/clusterctl.yaml"
	sandboxRepository       = ".cache/clusterctl/repository"
	sandboxCloudsInCluster  = ".cache/sandbox/clouds-incluster.yaml"
	sandboxCloudsHost       = ".cache/sandbox/fakecloud/clouds.yaml"
	sandboxFakecloudLog     = ".cache/sandbox/fakecloud/fakecloud.log"
	sandboxKubectl          = "bin/kubectl"
)

// gcoreProvider is the name the sandbox's clusterctl config gives our three providers.
const gcoreProvider = "gcore"

// e2eConfigTemplate is the E2EConfig the quickstart specs load, with ${NAME} placeholders
// filled in at run time (see renderE2EConfig).
const e2eConfigTemplate = "config/gcore.yaml"

// pinnedVersions is versions/versions.json: what the sandbox is built from.
type pinnedVersions struct {
	ClusterAPI string   `json:"clusterAPI"`
	Providers  string   `json:"providers"`
	Kubernetes []pinned `json:"kubernetes"`
}

// readPinnedVersions parses versions/versions.json under root.
func readPinnedVersions(root string) (pinnedVersions, error) {
	var v pinnedVersions
	raw, err := os.ReadFile(filepath.Join(root, "versions", "versions.json"))
	if err != nil {
		return v, fmt.Errorf("reading the pinned versions: %w", err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("parsing versions/versions.json: %w", err)
	}
	if v.ClusterAPI == "" || v.Providers == "" || len(v.Kubernetes) == 0 {
		return v, errors.New("versions/versions.json lacks .clusterAPI, .providers or .kubernetes")
	}
	return v, nil
}

// kubernetes returns the pinned entry of version.
func (v pinnedVersions) kubernetes(version string) (pinned, error) {
	for _, p := range v.Kubernetes {
		if p.Version == version {
			return p, nil
		}
	}
	return pinned{}, fmt.Errorf("Kubernetes %s is not pinned in versions/versions.json", version)
}

// upgradePair returns the versions an upgrade goes from and to: from (a pinned version; the
// second newest when empty) and the pinned version after it, one minor up.
func (v pinnedVersions) upgradePair(from string) (string, string, error) {
	n := len(v.Kubernetes)
	if n < 2 {
		return "", "", errors.New("two pinned versions are needed for an upgrade")
	}
	if from == "" {
		return v.Kubernetes[n-2].Version, v.Kubernetes[n-1].Version, nil
	}
	olds := make([]string, 0, n-1)
	for i, p := range v.Kubernetes[:n-1] {
		if p.Version == from {
			return from, v.Kubernetes[i+1].Version, nil
		}
		olds = append(olds, p.Version)
	}
	return "", "", fmt.Errorf("E2E_UPGRADE_FROM=%s: not a pinned version with a newer one after it (one of %s)", from, strings.Join(olds, ", "))
}

// quickstartEnv is what a quickstart spec works with: the sandbox as a ClusterProxy, the loaded
// E2EConfig, a clusterctl config carrying the E2EConfig's variables, the cloud's admin view and
// a directory for logs that is kept only when something fails.
type quickstartEnv struct {
	root     string
	versions pinnedVersions
	// dir receives the clusterctl config, clusterctl's logs, events and, on failure, the dumps.
	dir string
	// config is the loaded E2EConfig, with GCORE_CLOUDS_YAML_B64 added.
	config *clusterctl.E2EConfig
	// clusterctlConfig is the sandbox's clusterctl config plus config.Variables.
	clusterctlConfig string
	mgmt             framework.ClusterProxy
	cloud            *cloudAdmin
}

// path returns a sandbox file's absolute path.
func (e *quickstartEnv) path(rel string) string { return filepath.Join(e.root, rel) }

// kubernetesVersion is the workload clusters' version: KUBERNETES_VERSION of the E2EConfig
// (the newest pinned version unless the environment says otherwise).
func (e *quickstartEnv) kubernetesVersion() string {
	return e.config.MustGetVariable(capiKubernetesVersion)
}

// intervals returns the E2EConfig's intervals for spec and key; a missing key is a mistake in
// config/gcore.yaml, not a reason to wait forever.
func (e *quickstartEnv) intervals(spec, key string) []interface{} {
	iv := e.config.GetIntervals(spec, key)
	Expect(iv).NotTo(BeEmpty(), "config/gcore.yaml has no interval default/%s", key)
	return iv
}

// capiKubernetesVersion is the E2EConfig variable Cluster API's specs read the version from.
const capiKubernetesVersion = "KUBERNETES_VERSION"

// newQuickstartEnv checks that the sandbox is up with our providers, loads the E2EConfig and
// connects to the service cluster and the cloud. name prefixes the log directory.
func newQuickstartEnv(ctx context.Context, name string) *quickstartEnv {
	e := &quickstartEnv{root: repoRoot}
	for _, f := range []string{sandboxKubeconfig, sandboxClusterctlConfig, sandboxCloudsHost, sandboxKubectl} {
		Expect(e.path(f)).To(BeAnExistingFile(), "%s is missing: run `make sandbox` first", f)
	}
	var err error
	e.versions, err = readPinnedVersions(e.root)
	Expect(err).NotTo(HaveOccurred())

	Expect(os.MkdirAll(artifacts, 0o755)).To(Succeed())
	e.dir, err = os.MkdirTemp(artifacts, name+"-")
	Expect(err).NotTo(HaveOccurred(), "making a directory under %s", artifacts)

	By("loading the E2EConfig " + e2eConfigTemplate)
	rendered, err := renderE2EConfig(filepath.Join(e.root, "e2e", e2eConfigTemplate), e.dir, map[string]string{
		"CLUSTERCTL_REPOSITORY": e.path(sandboxRepository),
		"CAPI_VERSION":          e.versions.ClusterAPI,
		"GCORE_VERSION":         e.versions.Providers,
		"KUBERNETES_VERSION":    e.versions.Kubernetes[len(e.versions.Kubernetes)-1].Version,
	})
	Expect(err).NotTo(HaveOccurred())
	e.config = clusterctl.LoadE2EConfig(ctx, clusterctl.LoadE2EConfigInput{ConfigPath: rendered})
	_, err = e.versions.kubernetes(e.kubernetesVersion())
	Expect(err).NotTo(HaveOccurred(), "KUBERNETES_VERSION must be a pinned version: the nodes' images exist only for those")
	clouds, err := os.ReadFile(e.cloudsForPods())
	Expect(err).NotTo(HaveOccurred())
	e.config.Variables["GCORE_CLOUDS_YAML_B64"] = base64.StdEncoding.EncodeToString(clouds)

	// The E2EConfig's variables reach clusterctl the way Cluster API's own suites pass them: in
	// the clusterctl config (a copy of the sandbox's, which stays as it is).
	e.clusterctlConfig = filepath.Join(e.dir, "clusterctl.yaml")
	Expect(clusterctl.CopyAndAmendClusterctlConfig(ctx, clusterctl.CopyAndAmendClusterctlConfigInput{
		ClusterctlConfigPath: e.path(sandboxClusterctlConfig),
		OutputPath:           e.clusterctlConfig,
		Variables:            e.config.Variables,
	})).To(Succeed())

	e.mgmt = framework.NewClusterProxy("kaas-sandbox", e.path(sandboxKubeconfig), quickstartScheme(),
		framework.WithMachineLogCollector(fakecloudLogCollector{}))
	expectGcoreProviders(ctx, e.mgmt.GetClient())
	By("waiting for the providers' controllers to be available")
	for _, d := range framework.GetControllerDeployments(ctx, framework.GetControllerDeploymentsInput{Lister: e.mgmt.GetClient()}) {
		framework.WaitForDeploymentsAvailable(ctx, framework.WaitForDeploymentsAvailableInput{
			Getter: e.mgmt.GetClient(), Deployment: d}, e.intervals("quickstart", "wait-controllers")...)
	}

	e.cloud, err = newCloudAdmin(ctx, e.path(sandboxCloudsHost), "fakecloud-admin")
	Expect(err).NotTo(HaveOccurred())
	return e
}

// cloudsForPods is the clouds.yaml the providers' pods get through the template's Secret: the
// sandbox's in-cluster one, or the host's where the sandbox has none (fakecloud then listens
// where both the host and the pods reach it).
func (e *quickstartEnv) cloudsForPods() string {
	if _, err := os.Stat(e.path(sandboxCloudsInCluster)); err == nil {
		return e.path(sandboxCloudsInCluster)
	}
	fmt.Fprintf(GinkgoWriter, "no %s: the clusters get %s\n", sandboxCloudsInCluster, sandboxCloudsHost)
	return e.path(sandboxCloudsHost)
}

// finish removes the log directory unless failed or E2E_KEEP is set, and says where it is.
func (e *quickstartEnv) finish(failed bool) {
	if e.mgmt != nil {
		e.mgmt.Dispose(context.Background())
	}
	if failed || os.Getenv("E2E_KEEP") != "" {
		fmt.Fprintf(GinkgoWriter, "logs and dumps are in %s\n", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

// keepClusters reports whether E2E_KEEP_CLUSTERS=1 asks to leave the clusters for a look.
func keepClusters() bool { return os.Getenv("E2E_KEEP_CLUSTERS") == "1" }

// quickstartScheme is the service cluster's scheme for the framework: client-go's types, Cluster
// API's (core, clusterctl, kubeadm) and, through unstructured objects, anything else.
func quickstartScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	framework.TryAddDefaultSchemes(s)
	return s
}

// expectGcoreProviders fails unless clusterctl installed the three gcore providers.
func expectGcoreProviders(ctx context.Context, c client.Client) {
	var list clusterctlv1.ProviderList
	Expect(c.List(ctx, &list)).To(Succeed(), "listing clusterctl's providers in the sandbox")
	var got []string
	for _, p := range list.Items {
		got = append(got, p.Type+"/"+p.ProviderName+"@"+p.Version)
	}
	sort.Strings(got)
	for _, t := range []clusterctlv1.ProviderType{clusterctlv1.InfrastructureProviderType, clusterctlv1.ControlPlaneProviderType, clusterctlv1.BootstrapProviderType} {
		Expect(hasProvider(list.Items, t, gcoreProvider)).To(BeTrue(),
			"the sandbox has no %s %q (installed: %s): run `make sandbox`", t, gcoreProvider, strings.Join(got, ", "))
	}
}

// hasProvider reports whether providers holds one of type t named name.
func hasProvider(providers []clusterctlv1.Provider, t clusterctlv1.ProviderType, name string) bool {
	for _, p := range providers {
		if p.Type == string(t) && p.ProviderName == name {
			return true
		}
	}
	return false
}

// renderE2EConfig fills src's ${NAME} placeholders from vars and writes the result into dir; a
// placeholder vars lacks is an error, so a typo does not become an empty path.
func renderE2EConfig(src, dir string, vars map[string]string) (string, error) {
	raw, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("reading the E2EConfig template: %w", err)
	}
	var missing []string
	out := os.Expand(string(raw), func(name string) string {
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no value for ${%s}", src, strings.Join(missing, "}, ${"))
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, []byte(out), 0o644); err != nil {
		return "", fmt.Errorf("writing the rendered E2EConfig: %w", err)
	}
	return dst, nil
}
