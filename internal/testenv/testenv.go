// Package testenv starts a throw-away Kubernetes control plane (controller-runtime's envtest:
// a real etcd and kube-apiserver, no nodes, no controllers) for tests, with CRDs installed
// from a list of directories.
//
// The binaries are built on this machine by hack/envtest.sh and found through the
// KUBEBUILDER_ASSETS environment variable, which `make test` sets. Nothing is skipped: when the
// binaries cannot be found, the test fails and says how to get them.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AssetsEnv names the environment variable that points at the envtest binaries.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// startTimeout bounds how long etcd and kube-apiserver may take to start each: generous,
// because tests run with the race detector on two cores.
const startTimeout = 90 * time.Second

// Options says what a test control plane starts with.
type Options struct {
	// CRDDirs are directories (or single files) of CustomResourceDefinition YAML to install
	// before Start returns. Each one must exist.
	CRDDirs []string
	// Scheme holds the Go types the returned client knows. Nil means client-go's scheme
	// (the built-in Kubernetes kinds).
	Scheme *runtime.Scheme
	// WebhookDir, when set, is a directory of webhook configurations (controller-gen's
	// manifests.yaml) to install, pointed at a local webhook server the test starts on
	// Env.Webhook's host, port and certificate directory.
	WebhookDir string
}

// WebhookServer is where the installed webhook configurations send admission reviews.
type WebhookServer struct {
	Host    string
	Port    int
	CertDir string
}

// Env is a running test control plane.
type Env struct {
	// Config reaches the kube-apiserver as a cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client for Config, using Options.Scheme.
	Client client.Client
	// CRDs are the CustomResourceDefinitions that were installed, all of them established.
	CRDs []*apiextensionsv1.CustomResourceDefinition
	// Webhook is set when Options.WebhookDir was.
	Webhook *WebhookServer
}

// AssetsDir returns the directory holding the envtest binaries, or an error that says how to
// build them.
func AssetsDir() (string, error) {
	dir := os.Getenv(AssetsEnv)
	if dir == "" {
		return "", fmt.Errorf("%s is not set: run the tests with `make test`, which builds kube-apiserver and etcd into .cache/envtest (hack/envtest.sh) and sets it", AssetsEnv)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		p := filepath.Join(dir, bin)
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s has no usable %s (%w): run hack/envtest.sh, or `make test`", AssetsEnv, dir, bin, err)
		}
		if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("%s=%s: %s is not an executable file: delete %s and run hack/envtest.sh", AssetsEnv, dir, p, dir)
		}
	}
	return dir, nil
}

// Start starts etcd and kube-apiserver, installs the CRDs of opts and waits until they are
// established. The control plane is stopped when the test ends. Any failure fails the test.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	env, stop, err := start(opts)
	if err != nil {
		t.Fatalf("starting the envtest control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping the envtest control plane: %v", err)
		}
	})
	return env
}

func start(opts Options) (*Env, func() error, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, nil, err
	}
	for _, d := range opts.CRDDirs {
		if _, err := os.Stat(d); err != nil {
			return nil, nil, fmt.Errorf("CRD directory %s: %w", d, err)
		}
	}
	scheme := opts.Scheme
	if scheme == nil {
		scheme = clientgoscheme.Scheme
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        opts.CRDDirs,
		ErrorIfCRDPathMissing:    true,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	te.CRDInstallOptions.MaxTime = time.Minute
	if opts.WebhookDir != "" {
		te.WebhookInstallOptions.Paths = []string{opts.WebhookDir}
		te.WebhookInstallOptions.IgnoreErrorIfPathMissing = false
	}
	cfg, err := te.Start()
	if err != nil {
		// Start may leave etcd running when the apiserver fails; stop what was started.
		_ = te.Stop()
		return nil, nil, fmt.Errorf("envtest with binaries from %s: %w", assets, err)
	}
	stop := func() error {
		if err := te.Stop(); err != nil {
			return fmt.Errorf("stopping etcd and kube-apiserver: %w", err)
		}
		return nil
	}
	if len(opts.CRDDirs) > 0 && len(te.CRDs) == 0 {
		return nil, nil, errors.Join(fmt.Errorf("no CustomResourceDefinition found in %v", opts.CRDDirs), stop())
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("creating a client for %s: %w", cfg.Host, err), stop())
	}
	env := &Env{Config: cfg, Client: c, CRDs: te.CRDs}
	if opts.WebhookDir != "" {
		w := te.WebhookInstallOptions
		env.Webhook = &WebhookServer{Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir}
	}
	return env, stop, nil
}

// Eventually polls cond every 100 ms until it reports true, and returns how long that took; it
// fails the test with what and cond's last description of the state when timeout passes first.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() (ok bool, state string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached after %s; last state: %s", what, timeout, last)
	return 0
}
