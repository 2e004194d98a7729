package clusterctlrepo

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/internal/testenv"
	bootstrapwebhooks "github.com/kaas-sandbox/sandbox/providers/bootstrap/webhooks"
	cpwebhooks "github.com/kaas-sandbox/sandbox/providers/controlplane/webhooks"
	infrawebhooks "github.com/kaas-sandbox/sandbox/providers/infrastructure/webhooks"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/versions"
)

// cluster is a rendered cluster template, decoded into the Go types.
type cluster struct {
	objs          []object
	cluster       *clusterv1.Cluster
	gcoreCluster  *infrav1.GcoreCluster
	controlPlane  *controlplanev1.GcoreControlPlane
	deployments   map[string]*clusterv1.MachineDeployment
	machines      map[string]*infrav1.GcoreMachineTemplate
	configs       map[string]*bootstrapv1.GcoreConfigTemplate
	cloud         *corev1.Secret
	unknownByKind map[string]int
}

// decodeCluster strictly decodes every object of a rendered template.
func decodeCluster(t *testing.T, s *runtime.Scheme, data []byte) *cluster {
	t.Helper()
	c := &cluster{
		objs:          parseObjects(t, data),
		deployments:   map[string]*clusterv1.MachineDeployment{},
		machines:      map[string]*infrav1.GcoreMachineTemplate{},
		configs:       map[string]*bootstrapv1.GcoreConfigTemplate{},
		unknownByKind: map[string]int{},
	}
	for _, o := range c.objs {
		switch obj := strictDecode(t, s, o).(type) {
		case *clusterv1.Cluster:
			if c.cluster != nil {
				t.Fatal("two Clusters")
			}
			c.cluster = obj
		case *infrav1.GcoreCluster:
			if c.gcoreCluster != nil {
				t.Fatal("two GcoreClusters")
			}
			c.gcoreCluster = obj
		case *controlplanev1.GcoreControlPlane:
			if c.controlPlane != nil {
				t.Fatal("two GcoreControlPlanes")
			}
			c.controlPlane = obj
		case *clusterv1.MachineDeployment:
			c.deployments[obj.Name] = obj
		case *infrav1.GcoreMachineTemplate:
			c.machines[obj.Name] = obj
		case *bootstrapv1.GcoreConfigTemplate:
			c.configs[obj.Name] = obj
		case *corev1.Secret:
			if c.cloud != nil {
				t.Fatal("two Secrets")
			}
			c.cloud = obj
		default:
			c.unknownByKind[o.u.GetKind()]++
		}
	}
	if c.cluster == nil || c.gcoreCluster == nil || c.controlPlane == nil || c.cloud == nil {
		t.Fatalf("want a Cluster, a GcoreCluster, a GcoreControlPlane and the cloud Secret, got %v %v %v %v", c.cluster != nil, c.gcoreCluster != nil, c.controlPlane != nil, c.cloud != nil)
	}
	if string(c.cloud.Data["clouds.yaml"]) != testCloudsYAML {
		t.Errorf("Secret %s holds clouds.yaml %q, want the GCORE_CLOUDS_YAML_B64 given", c.cloud.Name, c.cloud.Data["clouds.yaml"])
	}
	if c.cloud.Name != c.gcoreCluster.Spec.IdentityRef.Name || c.cloud.Name != c.controlPlane.Spec.IdentityRef.Name {
		t.Errorf("Secret %s is not the identityRef of the GcoreCluster (%s) and the GcoreControlPlane (%s)", c.cloud.Name, c.gcoreCluster.Spec.IdentityRef.Name, c.controlPlane.Spec.IdentityRef.Name)
	}
	if len(c.unknownByKind) > 0 {
		t.Errorf("objects of unexpected kinds: %v", c.unknownByKind)
	}
	return c
}

// testCloudsYAML is the credentials the rendered templates get.
const testCloudsYAML = "clouds:\n  fakecloud-demo: {}\n"

// generate runs clusterctl generate cluster for the template in the rendered repository.
func generate(t *testing.T, clusterctl, config string, env []string, args ...string) []byte {
	t.Helper()
	env = append(env, "GCORE_CLOUDS_YAML_B64="+base64.StdEncoding.EncodeToString([]byte(testCloudsYAML)))
	out, err := runClusterctl(t, clusterctl, env, append([]string{"generate", "cluster", "--config", config}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClusterTemplate renders templates/cluster-template.yaml the way a user would (from the
// repository, with only the flags clusterctl takes) and checks the objects: Go types with
// strict decoding, references between them, the documented defaults, the project's webhooks,
// and the CRDs' schemas in a real kube-apiserver.
func TestClusterTemplate(t *testing.T) {
	root := repoRoot(t)
	clusterctl := tools(t, root)
	cache := renderRepository(t, root)
	version := providersVersion(t, root)
	config := filepath.Join(cache, "clusterctl", "clusterctl.yaml")
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	k8s := l.Newest().Version
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}

	// The repository serves the template as it is in templates/.
	src, err := os.ReadFile(filepath.Join(root, "templates", "cluster-template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	served, err := os.ReadFile(filepath.Join(cache, "clusterctl", "repository", "infrastructure-gcore", version, "cluster-template.yaml"))
	if err != nil {
		t.Fatalf("the infrastructure provider's directory has no cluster-template.yaml: %v", err)
	}
	if !bytes.Equal(src, served) {
		t.Error("the repository's cluster-template.yaml differs from templates/cluster-template.yaml")
	}

	// Only the Kubernetes version and the credentials have no default.
	vars := string(generate(t, clusterctl, config, nil, "demo", "--infrastructure", "gcore:"+version, "--target-namespace", "demo-ns", "--list-variables"))
	required, optional, _ := strings.Cut(vars, "Optional Variables:")
	if got := listed(required); !slices.Equal(got, []string{"GCORE_CLOUDS_YAML_B64", "KUBERNETES_VERSION"}) {
		t.Errorf("required variables %v, want GCORE_CLOUDS_YAML_B64 and KUBERNETES_VERSION:\n%s", got, vars)
	}
	for _, v := range []string{"GCORE_CLOUD_NAME", "GCORE_NODE_CIDR", "GCORE_WORKER_FLAVOR", "GCORE_BAREMETAL_FLAVOR", "GCORE_BAREMETAL_MACHINE_COUNT", "WORKER_MACHINE_COUNT", "CONTROL_PLANE_MACHINE_COUNT"} {
		if !slices.Contains(listed(optional), v) {
			t.Errorf("%s is not an optional variable:\n%s", v, vars)
		}
	}

	t.Run("defaults", func(t *testing.T) {
		out := generate(t, clusterctl, config, nil, "demo", "--infrastructure", "gcore:"+version, "--target-namespace", "demo-ns",
			"--kubernetes-version", k8s, "--worker-machine-count", "2")
		c := decodeCluster(t, s, out)
		checkWiring(t, c, "demo", "demo-ns", k8s)

		net := c.cluster.Spec.ClusterNetwork
		if !slices.Equal(net.Pods.CIDRBlocks, []string{"10.244.0.0/16"}) || !slices.Equal(net.Services.CIDRBlocks, []string{"10.96.0.0/12"}) {
			t.Errorf("clusterNetwork pods %v services %v, want 10.244.0.0/16 and 10.96.0.0/12", net.Pods.CIDRBlocks, net.Services.CIDRBlocks)
		}
		wantID := infrav1.IdentityReference{Name: "demo-cloud", CloudName: "fakecloud-demo"}
		if c.gcoreCluster.Spec.IdentityRef != wantID || c.gcoreCluster.Spec.Network.CIDR != "10.6.0.0/24" {
			t.Errorf("GcoreCluster identityRef %+v cidr %q, want %+v and 10.6.0.0/24", c.gcoreCluster.Spec.IdentityRef, c.gcoreCluster.Spec.Network.CIDR, wantID)
		}
		cp := c.controlPlane.Spec
		if cp.IdentityRef != (controlplanev1.IdentityReference{Name: "demo-cloud", CloudName: "fakecloud-demo"}) {
			t.Errorf("GcoreControlPlane identityRef %+v", cp.IdentityRef)
		}
		// CONTROL_PLANE_MACHINE_COUNT (clusterctl's default 1) is the apiserver replicas.
		if !ptr.Equal(cp.Replicas, ptr.To[int32](1)) || cp.Etcd.Replicas != 3 {
			t.Errorf("GcoreControlPlane replicas %v etcd %d, want 1 and 3", ptr.Deref(cp.Replicas, -1), cp.Etcd.Replicas)
		}
		checkPool(t, c, "demo-md-0", 2, infrav1.MachineTypeVM, "g1.medium")
		checkPool(t, c, "demo-bm-0", 1, infrav1.MachineTypeBareMetal, "bm1.medium")
		checkWebhooks(t, c, l)
		checkAgainstCRDs(t, s, c, "demo-ns")
	})

	t.Run("variables", func(t *testing.T) {
		env := []string{"GCORE_CLOUD_NAME=other", "GCORE_NODE_CIDR=10.7.0.0/24",
			"GCORE_WORKER_FLAVOR=g1.large", "GCORE_BAREMETAL_FLAVOR=bm1.large", "GCORE_BAREMETAL_MACHINE_COUNT=0"}
		out := generate(t, clusterctl, config, env, "other", "--from", filepath.Join(root, "templates", "cluster-template.yaml"),
			"--target-namespace", "other-ns", "--kubernetes-version", l.Kubernetes[0].Version, "--worker-machine-count", "3",
			"--control-plane-machine-count", "3")
		c := decodeCluster(t, s, out)
		checkWiring(t, c, "other", "other-ns", l.Kubernetes[0].Version)
		if got := c.gcoreCluster.Spec; got.IdentityRef.Name != "other-cloud" || got.IdentityRef.CloudName != "other" || got.Network.CIDR != "10.7.0.0/24" {
			t.Errorf("GcoreCluster spec %+v does not follow the variables", got)
		}
		if got := c.controlPlane.Spec; got.IdentityRef.Name != "other-cloud" || got.IdentityRef.CloudName != "other" || !ptr.Equal(got.Replicas, ptr.To[int32](3)) {
			t.Errorf("GcoreControlPlane spec %+v does not follow the variables", got)
		}
		checkPool(t, c, "other-md-0", 3, infrav1.MachineTypeVM, "g1.large")
		checkPool(t, c, "other-bm-0", 0, infrav1.MachineTypeBareMetal, "bm1.large")
		checkWebhooks(t, c, l)
	})
}

// listed returns the variable names of a section of `clusterctl generate --list-variables`.
func listed(section string) []string {
	var names []string
	for _, line := range strings.Split(section, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	return names
}

// checkWiring checks names, namespaces, versions and the references between the objects.
func checkWiring(t *testing.T, c *cluster, name, namespace, k8s string) {
	t.Helper()
	for _, o := range c.objs {
		if o.u.GetNamespace() != namespace {
			t.Errorf("%s %s in namespace %q, want %q", o.u.GetKind(), o.u.GetName(), o.u.GetNamespace(), namespace)
		}
	}
	if c.cluster.Name != name {
		t.Errorf("Cluster %s, want %s", c.cluster.Name, name)
	}
	ref := func(what string, r clusterv1.ContractVersionedObjectReference, group, kind, target string) {
		t.Helper()
		if r.APIGroup != group || r.Kind != kind || r.Name != target {
			t.Errorf("%s = %s/%s %s, want %s/%s %s", what, r.APIGroup, r.Kind, r.Name, group, kind, target)
		}
	}
	ref("Cluster controlPlaneRef", c.cluster.Spec.ControlPlaneRef, controlplanev1.GroupVersion.Group, "GcoreControlPlane", c.controlPlane.Name)
	ref("Cluster infrastructureRef", c.cluster.Spec.InfrastructureRef, infrav1.GroupVersion.Group, "GcoreCluster", c.gcoreCluster.Name)
	if c.controlPlane.Spec.Version != k8s {
		t.Errorf("GcoreControlPlane version %s, want %s", c.controlPlane.Spec.Version, k8s)
	}
	if len(c.deployments) != 2 || len(c.machines) != 2 || len(c.configs) != 2 {
		t.Fatalf("want two MachineDeployments with a GcoreMachineTemplate and a GcoreConfigTemplate each, got %d, %d, %d", len(c.deployments), len(c.machines), len(c.configs))
	}
	for _, md := range c.deployments {
		spec := md.Spec.Template.Spec
		if md.Spec.ClusterName != name || spec.ClusterName != name {
			t.Errorf("MachineDeployment %s: clusterName %q / %q, want %s", md.Name, md.Spec.ClusterName, spec.ClusterName, name)
		}
		if spec.Version != k8s {
			t.Errorf("MachineDeployment %s: version %s, want %s", md.Name, spec.Version, k8s)
		}
		ref("MachineDeployment "+md.Name+" bootstrap.configRef", spec.Bootstrap.ConfigRef, bootstrapv1.GroupVersion.Group, "GcoreConfigTemplate", spec.Bootstrap.ConfigRef.Name)
		ref("MachineDeployment "+md.Name+" infrastructureRef", spec.InfrastructureRef, infrav1.GroupVersion.Group, "GcoreMachineTemplate", spec.InfrastructureRef.Name)
		if c.configs[spec.Bootstrap.ConfigRef.Name] == nil {
			t.Errorf("MachineDeployment %s names the GcoreConfigTemplate %s, which the template lacks", md.Name, spec.Bootstrap.ConfigRef.Name)
		}
		if c.machines[spec.InfrastructureRef.Name] == nil {
			t.Errorf("MachineDeployment %s names the GcoreMachineTemplate %s, which the template lacks", md.Name, spec.InfrastructureRef.Name)
		}
	}
}

// checkPool checks one MachineDeployment's size and machines.
func checkPool(t *testing.T, c *cluster, name string, replicas int32, typ infrav1.MachineType, flavor string) {
	t.Helper()
	md := c.deployments[name]
	if md == nil {
		t.Fatalf("no MachineDeployment %s", name)
	}
	if !ptr.Equal(md.Spec.Replicas, &replicas) {
		t.Errorf("MachineDeployment %s: replicas %v, want %d", name, ptr.Deref(md.Spec.Replicas, -1), replicas)
	}
	m := c.machines[md.Spec.Template.Spec.InfrastructureRef.Name]
	if m == nil {
		return
	}
	if got := m.Spec.Template.Spec; got.Type != typ || got.Flavor != flavor {
		t.Errorf("MachineDeployment %s: machines of type %q flavor %q, want %q %q", name, got.Type, got.Flavor, typ, flavor)
	}
}

// checkWebhooks runs the project's defaulting and validating webhooks on the objects, as the
// service cluster would on kubectl apply.
func checkWebhooks(t *testing.T, c *cluster, l versions.List) {
	t.Helper()
	ctx := context.Background()
	gc := c.gcoreCluster.DeepCopy()
	if err := (infrawebhooks.Cluster{}).Default(ctx, gc); err != nil {
		t.Fatal(err)
	}
	if _, err := (infrawebhooks.Cluster{}).ValidateCreate(ctx, gc); err != nil {
		t.Errorf("the GcoreCluster webhook refuses the GcoreCluster: %v", err)
	}
	cp := c.controlPlane.DeepCopy()
	cpw := cpwebhooks.ControlPlane{Versions: l}
	if err := cpw.Default(ctx, cp); err != nil {
		t.Fatal(err)
	}
	if _, err := cpw.ValidateCreate(ctx, cp); err != nil {
		t.Errorf("the GcoreControlPlane webhook refuses the GcoreControlPlane: %v", err)
	}
	for _, m := range c.machines {
		m = m.DeepCopy()
		if err := (infrawebhooks.MachineTemplate{}).Default(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := (infrawebhooks.MachineTemplate{}).ValidateCreate(ctx, m); err != nil {
			t.Errorf("the GcoreMachineTemplate webhook refuses %s: %v", m.Name, err)
		}
	}
	for _, bc := range c.configs {
		bc = bc.DeepCopy()
		if err := (bootstrapwebhooks.GcoreConfigTemplate{}).Default(ctx, bc); err != nil {
			t.Fatal(err)
		}
		if _, err := (bootstrapwebhooks.GcoreConfigTemplate{}).ValidateCreate(ctx, bc); err != nil {
			t.Errorf("the GcoreConfigTemplate webhook refuses %s: %v", bc.Name, err)
		}
	}
}

// checkAgainstCRDs creates every object, as rendered, in an envtest kube-apiserver that has
// Cluster API's and the project's CRDs: their OpenAPI schemas and CEL rules must accept them.
func checkAgainstCRDs(t *testing.T, s *runtime.Scheme, c *cluster, namespace string) {
	t.Helper()
	env := testenv.Start(t, testenv.Options{
		CRDDirs: append(testenv.ClusterAPICRDDirs(t), testenv.ProjectCRDDir(t)),
		Scheme:  s,
	})
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range c.objs {
		u := o.u.DeepCopy()
		if err := env.Client.Create(ctx, u); err != nil {
			t.Errorf("the kube-apiserver refuses %s %s: %v", o.u.GetKind(), o.u.GetName(), err)
		}
	}
	// What the apiserver stored decodes back into the Go types.
	md := &clusterv1.MachineDeployment{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(c.deployments["demo-bm-0"]), md); err != nil {
		t.Fatal(err)
	}
	if md.Spec.Template.Spec.InfrastructureRef.Name != "demo-bm-0" {
		t.Errorf("stored MachineDeployment %+v", md.Spec.Template.Spec)
	}
}
