package clusterctlrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// requireEnv makes missing tools fail the tests instead of skipping them.
const requireEnv = "KAAS_REQUIRE_CLUSTERCTL"

// provider is one row of hack/providers.sh's provider table, with what kustomize makes of it.
type provider struct {
	name      string // config/default/<name>, and the --providers value
	typ       string // clusterctl's provider type
	label     string // the repository directory and the cluster.x-k8s.io/provider label
	file      string // the components file
	group     string // the API group of its CRDs and webhooks
	namespace string
	prefix    string // kustomize's namePrefix
	// hookGroups are the other API groups whose webhooks it serves.
	hookGroups []string
}

// servesHooksOf reports whether the provider serves webhooks of group.
func (p provider) servesHooksOf(group string) bool {
	return group == p.group || slices.Contains(p.hookGroups, group)
}

var providers = []provider{
	{"infrastructure", "InfrastructureProvider", "infrastructure-gcore", "infrastructure-components.yaml", "infrastructure.cluster.x-k8s.io", "capgc-system", "capgc-", nil},
	{"controlplane", "ControlPlaneProvider", "control-plane-gcore", "control-plane-components.yaml", "controlplane.cluster.x-k8s.io", "gcore-control-plane-system", "gcore-control-plane-", []string{"cluster.x-k8s.io"}},
	{"bootstrap", "BootstrapProvider", "bootstrap-gcore", "bootstrap-components.yaml", "bootstrap.cluster.x-k8s.io", "gcore-bootstrap-system", "gcore-bootstrap-", nil},
}

// repoRoot is the repository's top directory (the tests run in internal/clusterctlrepo).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack", "providers.sh")); err != nil {
		t.Fatalf("cannot find hack/providers.sh from %s: %v", root, err)
	}
	return root
}

// tools finds clusterctl and makes sure kubectl and jq can be found the way the script looks
// for them; it skips the test (or fails it under KAAS_REQUIRE_CLUSTERCTL) when one is missing.
func tools(t *testing.T, root string) (clusterctl string) {
	t.Helper()
	bin := filepath.Join(root, "bin")
	missing := func(what, how string) {
		msg := fmt.Sprintf("%s is missing: %s", what, how)
		if os.Getenv(requireEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (set " + requireEnv + " to fail instead of skipping)")
	}
	// The script builds a missing clusterctl (minutes) and finds kubectl in ./bin or on PATH.
	if _, err := os.Stat(filepath.Join(bin, "clusterctl")); err != nil {
		missing(filepath.Join(bin, "clusterctl"), "run hack/tools.sh clusterctl")
	}
	if _, err := os.Stat(filepath.Join(bin, "kubectl")); err != nil {
		if _, err := exec.LookPath("kubectl"); err != nil {
			missing("kubectl", "run hack/tools.sh kubectl")
		}
	}
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool, "run make setup")
		}
	}
	return filepath.Join(bin, "clusterctl")
}

// rendered is the repository hack/providers.sh renders once for all tests of the package,
// into a cache directory of its own (KAAS_CACHE), so the real .cache is left alone.
var rendered struct {
	once  sync.Once
	cache string
	log   string
	err   error
}

// renderRepository runs `hack/providers.sh repository` (once) and returns its cache directory.
func renderRepository(t *testing.T, root string) string {
	t.Helper()
	rendered.once.Do(func() {
		dir, err := os.MkdirTemp("", "clusterctlrepo-")
		if err != nil {
			rendered.err = err
			return
		}
		rendered.cache = dir
		cmd := exec.Command("bash", filepath.Join(root, "hack", "providers.sh"), "repository")
		cmd.Dir = root
		cmd.Env = append(cleanEnv(dir), "KAAS_CACHE="+dir)
		out, err := cmd.CombinedOutput()
		rendered.log = string(out)
		if err != nil {
			rendered.err = fmt.Errorf("hack/providers.sh repository: %w", err)
		}
	})
	if rendered.err != nil {
		t.Fatalf("%v\n%s", rendered.err, rendered.log)
	}
	return rendered.cache
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rendered.cache != "" {
		_ = os.RemoveAll(rendered.cache)
	}
	os.Exit(code)
}

// cleanEnv is an environment no template variable can be read from: only PATH, a HOME of its
// own (clusterctl keeps state there) and a kubeconfig that does not exist.
func cleanEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + os.TempDir(),
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
		"CLUSTERCTL_DISABLE_VERSIONCHECK=true",
	}
}

// runClusterctl runs clusterctl with a clean environment plus env and returns its stdout.
func runClusterctl(t *testing.T, clusterctl string, env []string, args ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(clusterctl, args...)
	cmd.Env = append(cleanEnv(home), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("clusterctl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// splitDocs splits multi-document YAML into its non-empty documents.
func splitDocs(t *testing.T, data []byte) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("splitting YAML documents: %v", err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		docs = append(docs, doc)
	}
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// object is one document, parsed both ways.
type object struct {
	raw []byte
	u   *unstructured.Unstructured
}

// parseObjects parses every document of data into an unstructured object.
func parseObjects(t *testing.T, data []byte) []object {
	t.Helper()
	var objs []object
	for _, doc := range splitDocs(t, data) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("parsing %q: %v", firstLine(doc), err)
		}
		if u.GetKind() == "" || u.GetName() == "" {
			t.Fatalf("a document without kind or name: %q", firstLine(doc))
		}
		objs = append(objs, object{raw: doc, u: u})
	}
	return objs
}

// strictDecode decodes a document into its Go type, failing on unknown or duplicate fields.
func strictDecode(t *testing.T, s *runtime.Scheme, o object) runtime.Object {
	t.Helper()
	dec := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	obj, _, err := dec.Decode(o.raw, nil, nil)
	if err != nil {
		t.Fatalf("%s %s: strict decoding: %v", o.u.GetKind(), o.u.GetName(), err)
	}
	return obj
}

// byKind returns the objects of a kind.
func byKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.u.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the only object of a kind, failing unless there is exactly one.
func one(t *testing.T, objs []object, kind string) object {
	t.Helper()
	got := byKind(objs, kind)
	if len(got) != 1 {
		t.Fatalf("want one %s, got %d", kind, len(got))
	}
	return got[0]
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(stripComments(b)))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// str reads a string field of an unstructured object ("" when absent).
func str(u *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, fields...)
	return s
}

// strs reads a string list field of an unstructured object.
func strs(u *unstructured.Unstructured, fields ...string) []string {
	s, _, _ := unstructured.NestedStringSlice(u.Object, fields...)
	return s
}
