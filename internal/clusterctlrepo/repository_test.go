package clusterctlrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

const (
	image          = "docker.io/kaas/gcore-providers"
	contractLabel  = "cluster.x-k8s.io/v1beta2"
	providerLabel  = "cluster.x-k8s.io/provider"
	injectCAFrom   = "cert-manager.io/inject-ca-from"
	webhookCertDir = "/tmp/k8s-webhook-server/serving-certs"
)

// clusterScoped are the kinds of the components files that have no namespace.
var clusterScoped = []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

func providersVersion(t *testing.T, root string) string {
	t.Helper()
	var v struct {
		Providers string `json:"providers"`
	}
	data, err := os.ReadFile(filepath.Join(root, "versions", "versions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &v); err != nil || v.Providers == "" {
		t.Fatalf("versions/versions.json has no .providers (%v)", err)
	}
	return v.Providers
}

func typedScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// sourceCRDs maps each CRD name in config/crd/bases to its group.
func sourceCRDs(t *testing.T, root string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v): run make generate", err)
	}
	crds := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parseObjects(t, data) {
			crds[o.u.GetName()] = str(o.u, "spec", "group")
		}
	}
	return crds
}

// sourceWebhooks maps "<kind>/<webhook name>" of config/webhook/manifests.yaml to the one API
// group its rules name.
func sourceWebhooks(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatalf("%v: run make generate", err)
	}
	hooks := map[string]string{}
	for _, o := range parseObjects(t, data) {
		for kind, groups := range webhookGroups(t, o) {
			if len(groups) != 1 {
				t.Fatalf("config/webhook/manifests.yaml: %s names the API groups %v, want one", kind, groups)
			}
			hooks[kind] = groups[0]
		}
	}
	return hooks
}

// webhookGroups returns the API groups the rules of each webhook of a configuration name,
// keyed by "<kind>/<webhook name>".
func webhookGroups(t *testing.T, o object) map[string][]string {
	t.Helper()
	hooks, _, _ := unstructuredSlice(o, "webhooks")
	out := map[string][]string{}
	for _, h := range hooks {
		var groups []string
		rules, _ := h["rules"].([]any)
		for _, r := range rules {
			for _, g := range r.(map[string]any)["apiGroups"].([]any) {
				if !slices.Contains(groups, g.(string)) {
					groups = append(groups, g.(string))
				}
			}
		}
		out[o.u.GetKind()+"/"+h["name"].(string)] = groups
	}
	return out
}

func unstructuredSlice(o object, field string) ([]map[string]any, bool, error) {
	raw, ok := o.u.Object[field].([]any)
	if !ok {
		return nil, false, nil
	}
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, true, fmt.Errorf("%s holds a %T", field, r)
		}
		out = append(out, m)
	}
	return out, true, nil
}

// TestRepository renders the repository with hack/providers.sh and checks each provider's
// components file object by object, its metadata and the clusterctl.yaml that lists them.
func TestRepository(t *testing.T) {
	root := repoRoot(t)
	clusterctl := tools(t, root)
	cache := renderRepository(t, root)
	version := providersVersion(t, root)
	crds := sourceCRDs(t, root)
	hooks := sourceWebhooks(t, root)
	s := typedScheme(t)

	seenCRDs := map[string]string{}
	seenHooks := map[string]string{}
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			dir := filepath.Join(cache, "clusterctl", "repository", p.label, version)
			file := filepath.Join(dir, p.file)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			objs := parseObjects(t, data)
			for _, o := range objs {
				if o.u.GetKind() != "Issuer" && o.u.GetKind() != "Certificate" {
					strictDecode(t, s, o)
				}
				if got := o.u.GetLabels()[providerLabel]; got != p.label {
					t.Errorf("%s %s: label %s=%q, want %q", o.u.GetKind(), o.u.GetName(), providerLabel, got, p.label)
				}
				wantNS := p.namespace
				if slices.Contains(clusterScoped, o.u.GetKind()) {
					wantNS = ""
				}
				if o.u.GetNamespace() != wantNS {
					t.Errorf("%s %s: namespace %q, want %q", o.u.GetKind(), o.u.GetName(), o.u.GetNamespace(), wantNS)
				}
				if o.u.GetKind() != "CustomResourceDefinition" && !strings.HasPrefix(o.u.GetName(), p.prefix) {
					t.Errorf("%s %s is not prefixed %s", o.u.GetKind(), o.u.GetName(), p.prefix)
				}
			}
			if ns := one(t, objs, "Namespace"); ns.u.GetName() != p.namespace {
				t.Errorf("Namespace %s, want %s", ns.u.GetName(), p.namespace)
			}

			// Its own group's CRDs, all of them, with the contract label.
			for _, o := range byKind(objs, "CustomResourceDefinition") {
				crd := strictDecode(t, s, o).(*apiextensionsv1.CustomResourceDefinition)
				if crd.Spec.Group != p.group {
					t.Errorf("CRD %s of group %s in the %s provider", crd.Name, crd.Spec.Group, p.name)
				}
				if got := crd.Labels[contractLabel]; got != "v1alpha1" {
					t.Errorf("CRD %s: label %s=%q, want v1alpha1", crd.Name, contractLabel, got)
				}
				if prev, dup := seenCRDs[crd.Name]; dup {
					t.Errorf("CRD %s is in both %s and %s", crd.Name, prev, p.name)
				}
				seenCRDs[crd.Name] = p.name
			}
			for name, group := range crds {
				if group == p.group && seenCRDs[name] != p.name {
					t.Errorf("CRD %s (config/crd/bases) is missing: list it in config/crd/kustomization.yaml", name)
				}
			}

			svc := strictDecode(t, s, one(t, objs, "Service")).(*corev1.Service)
			cert := one(t, objs, "Certificate")
			issuer := one(t, objs, "Issuer")
			dep := strictDecode(t, s, one(t, objs, "Deployment")).(*appsv1.Deployment)
			sa := strictDecode(t, s, one(t, objs, "ServiceAccount")).(*corev1.ServiceAccount)

			// Its own group's webhooks, all of them, calling its Service with cert-manager's CA.
			for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
				for _, o := range byKind(objs, kind) {
					if got, want := o.u.GetAnnotations()[injectCAFrom], cert.u.GetNamespace()+"/"+cert.u.GetName(); got != want {
						t.Errorf("%s %s: %s=%q, want %q", kind, o.u.GetName(), injectCAFrom, got, want)
					}
					for key, groups := range webhookGroups(t, o) {
						if len(groups) != 1 || !p.servesHooksOf(groups[0]) {
							t.Errorf("%s: rules name %v, want only %s (or one of %v)", key, groups, p.group, p.hookGroups)
						}
						seenHooks[key] = p.name
					}
					var clientConfigs []admissionv1.WebhookClientConfig
					switch cfg := strictDecode(t, s, o).(type) {
					case *admissionv1.MutatingWebhookConfiguration:
						for _, w := range cfg.Webhooks {
							clientConfigs = append(clientConfigs, w.ClientConfig)
						}
					case *admissionv1.ValidatingWebhookConfiguration:
						for _, w := range cfg.Webhooks {
							clientConfigs = append(clientConfigs, w.ClientConfig)
						}
					}
					for _, cc := range clientConfigs {
						if cc.Service == nil || cc.Service.Name != svc.Name || cc.Service.Namespace != svc.Namespace || cc.Service.Path == nil {
							t.Errorf("%s %s: a webhook calls %+v, want the Service %s/%s", kind, o.u.GetName(), cc.Service, svc.Namespace, svc.Name)
						}
					}
				}
			}
			for key, group := range hooks {
				if p.servesHooksOf(group) && seenHooks[key] != p.name {
					t.Errorf("webhook %s (config/webhook/manifests.yaml) is missing", key)
				}
			}

			// The serving certificate: for the Service's DNS names, into the mounted Secret.
			wantDNS := []string{svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"}
			if got := strs(cert.u, "spec", "dnsNames"); !slices.Equal(got, wantDNS) {
				t.Errorf("Certificate dnsNames %v, want %v", got, wantDNS)
			}
			if got := str(cert.u, "spec", "issuerRef", "name"); got != issuer.u.GetName() {
				t.Errorf("Certificate issuerRef %q, want the Issuer %q", got, issuer.u.GetName())
			}
			certSecret := str(cert.u, "spec", "secretName")

			// The Deployment.
			pod := dep.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			if want := image + ":" + version; c.Image != want {
				t.Errorf("image %s, want %s", c.Image, want)
			}
			if c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("imagePullPolicy %s, want IfNotPresent", c.ImagePullPolicy)
			}
			for _, arg := range []string{"--providers=" + p.name, "--leader-elect", "--webhook-port=9443", "--webhook-cert-dir=" + webhookCertDir} {
				if !slices.Contains(c.Args, arg) {
					t.Errorf("args %v lack %s", c.Args, arg)
				}
			}
			ports := map[string]int32{}
			for _, port := range c.Ports {
				ports[port.Name] = port.ContainerPort
			}
			if ports["healthz"] != 9440 || ports["webhook-server"] != 9443 {
				t.Errorf("container ports %v, want healthz 9440 and webhook-server 9443", ports)
			}
			for probe, path := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
				if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port != intstr.FromString("healthz") {
					t.Errorf("probe %+v, want GET %s on the healthz port", probe, path)
				}
			}
			if got := c.Resources.Requests; got.Cpu().Cmp(resource.MustParse("10m")) != 0 || got.Memory().Cmp(resource.MustParse("64Mi")) != 0 {
				t.Errorf("requests %v, want cpu 10m, memory 64Mi", got)
			}
			if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
				t.Error("the pod does not require runAsNonRoot")
			}
			if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
				t.Error("the container allows privilege escalation")
			}
			mounted := ""
			for _, m := range c.VolumeMounts {
				if m.MountPath == webhookCertDir {
					for _, v := range pod.Volumes {
						if v.Name == m.Name && v.Secret != nil {
							mounted = v.Secret.SecretName
						}
					}
				}
			}
			if mounted == "" || mounted != certSecret {
				t.Errorf("%s mounts the Secret %q, want the Certificate's %q", webhookCertDir, mounted, certSecret)
			}
			if pod.ServiceAccountName != sa.Name {
				t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, sa.Name)
			}
			for k, v := range svc.Spec.Selector {
				if dep.Spec.Template.Labels[k] != v {
					t.Errorf("the Service selects %s=%s, the pods have %q", k, v, dep.Spec.Template.Labels[k])
				}
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != intstr.FromString("webhook-server") {
				t.Errorf("Service ports %+v, want one to webhook-server", svc.Spec.Ports)
			}

			// RBAC: the role bound to the Deployment's ServiceAccount, the lease in its namespace.
			role := strictDecode(t, s, one(t, objs, "ClusterRole")).(*rbacv1.ClusterRole)
			crb := strictDecode(t, s, one(t, objs, "ClusterRoleBinding")).(*rbacv1.ClusterRoleBinding)
			lrole := strictDecode(t, s, one(t, objs, "Role")).(*rbacv1.Role)
			rb := strictDecode(t, s, one(t, objs, "RoleBinding")).(*rbacv1.RoleBinding)
			wantSubject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: sa.Namespace}}
			if crb.RoleRef.Name != role.Name || !slices.Equal(crb.Subjects, wantSubject) {
				t.Errorf("ClusterRoleBinding binds %s to %+v, want %s to %+v", crb.RoleRef.Name, crb.Subjects, role.Name, wantSubject)
			}
			if rb.RoleRef.Name != lrole.Name || !slices.Equal(rb.Subjects, wantSubject) {
				t.Errorf("RoleBinding binds %s to %+v, want %s to %+v", rb.RoleRef.Name, rb.Subjects, lrole.Name, wantSubject)
			}
			if !grants(lrole.Rules, "coordination.k8s.io", "leases", "create", "update", "get") {
				t.Errorf("the leader-election Role cannot take a lease: %+v", lrole.Rules)
			}

			// Every variable has a default: clusterctl renders the file with none set.
			out, err := runClusterctl(t, clusterctl, nil, "generate", "yaml", "--from", file)
			if err != nil {
				t.Fatalf("a variable without a default: %v", err)
			}
			if strings.Contains(string(out), "${") || !strings.Contains(string(out), "--concurrency=4") {
				t.Errorf("clusterctl left variables unset or did not apply the defaults:\n%s", grepLines(out, "--"))
			}
			vars, err := runClusterctl(t, clusterctl, nil, "generate", "yaml", "--from", file, "--list-variables")
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"GCORE_CONCURRENCY", "GCORE_LOG_LEVEL"} {
				if !strings.Contains(string(vars), v) {
					t.Errorf("clusterctl does not list the variable %s:\n%s", v, vars)
				}
			}

			// metadata.yaml maps the release series to the v1beta2 contract.
			checkMetadata(t, filepath.Join(dir, "metadata.yaml"), version)
		})
	}

	// clusterctl.yaml lists the three providers, pointing at these files.
	checkConfig(t, cache, version)
}

// grants reports whether some rule allows all verbs on resource of group.
func grants(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) {
			ok := true
			for _, v := range verbs {
				ok = ok && (slices.Contains(r.Verbs, v) || slices.Contains(r.Verbs, "*"))
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func grepLines(out []byte, substr string) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, substr) || strings.Contains(l, "${") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func checkMetadata(t *testing.T, path, version string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		APIVersion    string `json:"apiVersion"`
		Kind          string `json:"kind"`
		ReleaseSeries []struct {
			Major    int32  `json:"major"`
			Minor    int32  `json:"minor"`
			Contract string `json:"contract"`
		} `json:"releaseSeries"`
	}
	if err := yaml.UnmarshalStrict(data, &md); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if md.APIVersion != "clusterctl.cluster.x-k8s.io/v1alpha3" || md.Kind != "Metadata" {
		t.Errorf("%s is a %s %s", path, md.APIVersion, md.Kind)
	}
	var major, minor, patch int32
	if _, err := fmt.Sscanf(version, "v%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatalf("version %s: %v", version, err)
	}
	for _, rs := range md.ReleaseSeries {
		if rs.Major == major && rs.Minor == minor {
			if rs.Contract != "v1beta2" {
				t.Errorf("%s: %d.%d implements %s, want v1beta2", path, major, minor, rs.Contract)
			}
			return
		}
	}
	t.Errorf("%s has no release series for %s: %+v", path, version, md.ReleaseSeries)
}

func checkConfig(t *testing.T, cache, version string) {
	t.Helper()
	path := filepath.Join(cache, "clusterctl", "clusterctl.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Providers []struct {
			Name string `json:"name"`
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, p := range providers {
		want := filepath.Join(cache, "clusterctl", "repository", p.label, version, p.file)
		found := 0
		for _, got := range cfg.Providers {
			if got.Name == "gcore" && got.Type == p.typ {
				found++
				if got.URL != want {
					t.Errorf("%s: %s gcore at %s, want %s", path, p.typ, got.URL, want)
				}
			}
		}
		if found != 1 {
			t.Errorf("%s lists %s gcore %d times, want once:\n%s", path, p.typ, found, data)
		}
	}
	// Cluster API's own providers stay listed.
	if !strings.Contains(string(data), "name: cluster-api") {
		t.Errorf("%s lost Cluster API's core provider:\n%s", path, data)
	}
}
