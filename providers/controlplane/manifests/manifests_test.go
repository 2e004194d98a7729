package manifests

import (
	"context"
	"crypto/x509"
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/pki"
	"github.com/kaas-sandbox/sandbox/versions"
)

const (
	testCluster = "c1"
	testNS      = "ns1"
	testVIP     = "203.0.113.10"
)

// fakeResult stands for a pki.Result without making certificates: every Secret hashes to
// its own name.
func fakeResult() *pki.Result {
	r := &pki.Result{Secrets: pki.Names(testCluster), Hashes: map[string]string{}}
	n := r.Secrets
	for _, s := range []string{n.CA, n.EtcdCA, n.ServiceAccount, n.FrontProxyCA, n.APIServer, n.APIServerKubeletClient,
		n.APIServerEtcdClient, n.FrontProxyClient, n.EtcdServer, n.EtcdPeer, n.ControllerManagerKubeconfig,
		n.SchedulerKubeconfig, n.AdminKubeconfig} {
		r.Hashes[s] = "hash-of-" + s
	}
	return r
}

func newestVersion(t *testing.T) versions.Kubernetes {
	t.Helper()
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	return l.Newest()
}

func testParams(t *testing.T) Params {
	return Params{
		ClusterName:      testCluster,
		Namespace:        testNS,
		Version:          newestVersion(t).Version,
		Replicas:         3,
		Etcd:             controlplanev1.EtcdSpec{Replicas: 3, StorageSize: resource.MustParse("2Gi"), StorageClassName: "fast"},
		PodCIDRs:         []string{"10.244.0.0/16"},
		ServiceCIDRs:     []string{"10.96.0.0/12"},
		DNSDomain:        "cluster.local",
		AdvertiseAddress: testVIP,
		PKI:              fakeResult(),
		Owner:            &metav1.OwnerReference{APIVersion: controlplanev1.GroupVersion.String(), Kind: "GcoreControlPlane", Name: testCluster, UID: "uid-1"},
	}
}

func build(t *testing.T, p Params) *Objects {
	t.Helper()
	o, err := Build(p)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return o
}

// flags parses a command line's --name=value flags.
func flags(t *testing.T, cmd []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, arg := range cmd[1:] {
		name, value, ok := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !ok || !strings.HasPrefix(arg, "--") {
			t.Fatalf("%s: argument %q is not --name=value", cmd[0], arg)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%s: flag --%s given twice", cmd[0], name)
		}
		out[name] = value
	}
	return out
}

func containerOf(t *testing.T, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Containers))
	}
	return spec.Containers[0]
}

// mountedFiles maps each file the container sees from a projected Secret volume to the
// Secret and key it comes from.
func mountedFiles(spec corev1.PodSpec, c corev1.Container) map[string][2]string {
	out := map[string][2]string{}
	for _, m := range c.VolumeMounts {
		for _, vol := range spec.Volumes {
			if vol.Name != m.Name || vol.Projected == nil {
				continue
			}
			for _, src := range vol.Projected.Sources {
				for _, item := range src.Secret.Items {
					out[path.Join(m.MountPath, item.Path)] = [2]string{src.Secret.Name, item.Key}
				}
			}
		}
	}
	return out
}

type workload struct {
	component Component
	meta      metav1.ObjectMeta
	selector  *metav1.LabelSelector
	template  corev1.PodTemplateSpec
	replicas  *int32
}

func workloads(o *Objects) []workload {
	out := []workload{{Etcd, o.Etcd.ObjectMeta, o.Etcd.Spec.Selector, o.Etcd.Spec.Template, o.Etcd.Spec.Replicas}}
	for c, d := range map[Component]*appsv1.Deployment{APIServer: o.APIServer, ControllerManager: o.ControllerManager, Scheduler: o.Scheduler} {
		out = append(out, workload{c, d.ObjectMeta, d.Spec.Selector, d.Spec.Template, d.Spec.Replicas})
	}
	return out
}

func TestBuildObjectsAreApplyReady(t *testing.T) {
	p := testParams(t)
	o := build(t, p)
	all := o.All()
	if len(all) != 7 || all[0] != o.EtcdService || all[2] != o.Etcd || all[4] != o.APIServer {
		t.Fatalf("All() = %d objects in an unexpected order", len(all))
	}
	wantKinds := []string{"Service", "Service", "StatefulSet", "Service", "Deployment", "Deployment", "Deployment"}
	for i, obj := range all {
		gvk := obj.GetObjectKind().GroupVersionKind()
		if gvk.Kind != wantKinds[i] || gvk.Version != "v1" {
			t.Errorf("object %s: TypeMeta %v, want kind %s", obj.GetName(), gvk, wantKinds[i])
		}
		if obj.GetNamespace() != testNS {
			t.Errorf("object %s in namespace %q", obj.GetName(), obj.GetNamespace())
		}
		l := obj.GetLabels()
		if l[clusterv1.ClusterNameLabel] != testCluster || l[ManagedByLabel] != ManagedBy || l[ComponentLabel] == "" {
			t.Errorf("object %s: labels %v", obj.GetName(), l)
		}
		if refs := obj.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != p.Owner.UID {
			t.Errorf("object %s: owner references %v", obj.GetName(), refs)
		}
	}
	wantNames := []string{"c1-etcd", "c1-etcd-client", "c1-etcd", "c1-apiserver", "c1-apiserver", "c1-controller-manager", "c1-scheduler"}
	for i, obj := range all {
		if obj.GetName() != wantNames[i] {
			t.Errorf("object %d is named %q, want %q", i, obj.GetName(), wantNames[i])
		}
	}
	// The typed objects convert to unstructured (what an apply patch is made from) with
	// apiVersion and kind.
	for _, obj := range all {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		if u["apiVersion"] == nil || u["kind"] == nil {
			t.Errorf("object %s has no apiVersion/kind once serialized", obj.GetName())
		}
	}
}

func TestSelectorsMatchTheirOwnPodsOnly(t *testing.T) {
	o := build(t, testParams(t))
	other := testParams(t)
	other.ClusterName = "c2"
	other.PKI = &pki.Result{Secrets: pki.Names("c2"), Hashes: map[string]string{}}
	for k, v := range fakeResult().Hashes {
		other.PKI.Hashes[strings.Replace(k, "c1-", "c2-", 1)] = v
	}
	o2 := build(t, other)

	pods := map[string]labels.Set{}
	for _, w := range append(workloads(o), workloads(o2)...) {
		pods[w.meta.Name] = labels.Set(w.template.Labels)
	}
	for _, w := range workloads(o) {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil {
			t.Fatal(err)
		}
		if !sameLabels(w.selector.MatchLabels, SelectorLabels(testCluster, w.component)) {
			t.Errorf("%s: selector %v, want SelectorLabels", w.meta.Name, w.selector.MatchLabels)
		}
		for name, l := range pods {
			if got := sel.Matches(l); got != (name == w.meta.Name) {
				t.Errorf("%s's selector matches pods of %s: %v", w.meta.Name, name, got)
			}
		}
		if w.template.Labels[ManagedByLabel] != ManagedBy {
			t.Errorf("%s: pod labels %v lack managed-by", w.meta.Name, w.template.Labels)
		}
	}
	for svc, c := range map[*corev1.Service]Component{o.EtcdService: Etcd, o.EtcdClientService: Etcd, o.APIServerService: APIServer} {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(SelectorLabels(testCluster, c))) ||
			labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(SelectorLabels("c2", c))) {
			t.Errorf("Service %s selects %v", svc.Name, svc.Spec.Selector)
		}
	}
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestServices(t *testing.T) {
	o := build(t, testParams(t))
	if s := o.EtcdService.Spec; s.ClusterIP != corev1.ClusterIPNone || !s.PublishNotReadyAddresses || len(s.Ports) != 2 {
		t.Errorf("etcd headless Service: %+v", s)
	}
	if o.Etcd.Spec.ServiceName != o.EtcdService.Name {
		t.Errorf("StatefulSet serviceName %q, want the headless Service", o.Etcd.Spec.ServiceName)
	}
	if s := o.EtcdClientService.Spec; s.ClusterIP == corev1.ClusterIPNone || s.PublishNotReadyAddresses || len(s.Ports) != 1 || s.Ports[0].Port != 2379 {
		t.Errorf("etcd client Service: %+v", s)
	}
	s := o.APIServerService.Spec
	if s.Type != corev1.ServiceTypeNodePort || len(s.Ports) != 1 || s.Ports[0].Port != 6443 || s.Ports[0].Name != APIServerPortName || s.Ports[0].NodePort != 0 {
		t.Errorf("apiserver Service: %+v", s)
	}
	// Named target ports exist on the containers.
	ports := map[string]bool{}
	for _, c := range []corev1.Container{containerOf(t, o.Etcd.Spec.Template.Spec), containerOf(t, o.APIServer.Spec.Template.Spec)} {
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
	}
	for _, svc := range []*corev1.Service{o.EtcdService, o.EtcdClientService, o.APIServerService} {
		for _, p := range svc.Spec.Ports {
			if !ports[p.TargetPort.String()] {
				t.Errorf("Service %s targets port %q that no container names", svc.Name, p.TargetPort.String())
			}
		}
	}
}

func TestFlagsAgreeAcrossComponents(t *testing.T) {
	p := testParams(t)
	o := build(t, p)
	etcd := flags(t, containerOf(t, o.Etcd.Spec.Template.Spec).Command)
	api := flags(t, containerOf(t, o.APIServer.Spec.Template.Spec).Command)
	kcm := flags(t, containerOf(t, o.ControllerManager.Spec.Template.Spec).Command)
	sched := flags(t, containerOf(t, o.Scheduler.Spec.Template.Spec).Command)

	for flagName, want := range map[string]string{
		"advertise-address":               testVIP,
		"secure-port":                     "6443",
		"etcd-servers":                    "https://c1-etcd-client.ns1.svc:2379",
		"authorization-mode":              "Node,RBAC",
		"enable-bootstrap-token-auth":     "true",
		"enable-admission-plugins":        "NodeRestriction",
		"kubelet-preferred-address-types": "InternalIP",
		"service-cluster-ip-range":        "10.96.0.0/12",
		"endpoint-reconciler-type":        "lease",
		"service-account-issuer":          "https://kubernetes.default.svc.cluster.local",
		"requestheader-allowed-names":     "front-proxy-client",
		"allow-privileged":                "true",
	} {
		if api[flagName] != want {
			t.Errorf("kube-apiserver --%s=%q, want %q", flagName, api[flagName], want)
		}
	}
	for flagName, want := range map[string]string{
		"service-cluster-ip-range":        api["service-cluster-ip-range"],
		"cluster-cidr":                    "10.244.0.0/16",
		"allocate-node-cidrs":             "true",
		"node-cidr-mask-size":             "24",
		"controllers":                     "*,bootstrapsigner,tokencleaner",
		"leader-elect":                    "true",
		"use-service-account-credentials": "true",
		"cluster-signing-cert-file":       api["client-ca-file"],
		"root-ca-file":                    api["client-ca-file"],
		"cluster-name":                    testCluster,
	} {
		if kcm[flagName] != want {
			t.Errorf("kube-controller-manager --%s=%q, want %q", flagName, kcm[flagName], want)
		}
	}
	for _, cmd := range []map[string]string{kcm, sched} {
		if cmd["leader-elect"] != "true" || cmd["leader-elect-lease-duration"] != "30s" || cmd["leader-elect-renew-deadline"] != "25s" || cmd["leader-elect-retry-period"] != "4s" {
			t.Errorf("leader election flags %v: want a 30s lease renewed within 25s, retried every 4s", cmd)
		}
	}
	if sched["kubeconfig"] == "" || sched["kubeconfig"] != sched["authentication-kubeconfig"] {
		t.Errorf("kube-scheduler flags: %v", sched)
	}

	// etcd: three members named after the StatefulSet's pods, at their stable DNS names.
	wantCluster := "c1-etcd-0=https://c1-etcd-0.c1-etcd.ns1.svc:2380,c1-etcd-1=https://c1-etcd-1.c1-etcd.ns1.svc:2380,c1-etcd-2=https://c1-etcd-2.c1-etcd.ns1.svc:2380"
	if etcd["initial-cluster"] != wantCluster {
		t.Errorf("etcd --initial-cluster=%s, want %s", etcd["initial-cluster"], wantCluster)
	}
	self := strings.ReplaceAll(etcd["initial-advertise-peer-urls"], "$(POD_NAME)", "c1-etcd-1")
	if !strings.Contains(etcd["initial-cluster"], "c1-etcd-1="+self) {
		t.Errorf("member 1 would advertise %s, which --initial-cluster does not list for it", self)
	}
	if etcd["name"] != "$(POD_NAME)" || etcd["client-cert-auth"] != "true" || etcd["peer-client-cert-auth"] != "true" || etcd["initial-cluster-state"] != "new" {
		t.Errorf("etcd flags: %v", etcd)
	}
	if etcd["quota-backend-bytes"] != "1073741824" {
		t.Errorf("etcd --quota-backend-bytes=%s, want half of 2Gi", etcd["quota-backend-bytes"])
	}
	env := containerOf(t, o.Etcd.Spec.Template.Spec).Env
	if len(env) != 1 || env[0].Name != "POD_NAME" || env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("etcd env %v: want POD_NAME from metadata.name", env)
	}
}

// Every file a flag names is mounted, from the Secret holding it.
func TestFlagFilesAreMounted(t *testing.T) {
	o := build(t, testParams(t))
	n := pki.Names(testCluster)
	wantSource := map[string][2]string{
		"/etc/kubernetes/pki/apiserver.crt":             {n.APIServer, secret.TLSCrtDataName},
		"/etc/kubernetes/pki/apiserver-etcd-client.key": {n.APIServerEtcdClient, secret.TLSKeyDataName},
		"/etc/kubernetes/pki/etcd/ca.crt":               {n.EtcdCA, secret.TLSCrtDataName},
		"/etc/kubernetes/pki/etcd/peer.key":             {n.EtcdPeer, secret.TLSKeyDataName},
		"/etc/kubernetes/pki/ca.key":                    {n.CA, secret.TLSKeyDataName},
		"/etc/kubernetes/controller-manager.conf":       {n.ControllerManagerKubeconfig, secret.KubeconfigDataName},
		"/etc/kubernetes/scheduler.conf":                {n.SchedulerKubeconfig, secret.KubeconfigDataName},
	}
	seen := map[string]bool{}
	for _, w := range workloads(o) {
		spec := w.template.Spec
		c := containerOf(t, spec)
		files := mountedFiles(spec, c)
		for name, value := range flags(t, c.Command) {
			if !strings.HasPrefix(value, "/etc/kubernetes/") {
				continue
			}
			src, ok := files[value]
			if !ok {
				t.Errorf("%s --%s=%s: no such file is mounted (mounted: %v)", w.meta.Name, name, value, files)
				continue
			}
			if want, ok := wantSource[value]; ok {
				seen[value] = true
				if src != want {
					t.Errorf("%s: %s comes from %v, want %v", w.meta.Name, value, src, want)
				}
			}
		}
		if w.component == APIServer {
			if _, ok := files["/etc/kubernetes/pki/ca.key"]; ok {
				t.Errorf("kube-apiserver must not see the CA's private key")
			}
		}
	}
	for f := range wantSource {
		if !seen[f] {
			t.Errorf("no flag names %s", f)
		}
	}
}

func TestReplicasStorageAndSpread(t *testing.T) {
	p := testParams(t)
	o := build(t, p)
	for _, w := range workloads(o) {
		want := map[Component]int32{Etcd: 3, APIServer: 3, ControllerManager: 1, Scheduler: 1}[w.component]
		if w.replicas == nil || *w.replicas != want {
			t.Errorf("%s replicas %v, want %d", w.meta.Name, w.replicas, want)
		}
	}
	if o.Etcd.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("etcd pod management %q, want Parallel", o.Etcd.Spec.PodManagementPolicy)
	}
	vct := o.Etcd.Spec.VolumeClaimTemplates
	if len(vct) != 1 {
		t.Fatalf("want one volume claim template, got %d", len(vct))
	}
	if got := vct[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("etcd volume size %s, want 2Gi", got.String())
	}
	if sc := vct[0].Spec.StorageClassName; sc == nil || *sc != "fast" {
		t.Errorf("etcd storage class %v, want fast", sc)
	}
	etcdMounts := containerOf(t, o.Etcd.Spec.Template.Spec).VolumeMounts
	if !slices.ContainsFunc(etcdMounts, func(m corev1.VolumeMount) bool { return m.Name == vct[0].Name && m.MountPath == etcdVolumeDir }) {
		t.Errorf("etcd does not mount its claim at %s: %v", etcdVolumeDir, etcdMounts)
	}
	if !strings.HasPrefix(flags(t, containerOf(t, o.Etcd.Spec.Template.Spec).Command)["data-dir"], etcdVolumeDir+"/") {
		t.Errorf("etcd's data dir is not on its volume")
	}

	for _, w := range []workload{workloads(o)[0], {component: APIServer, meta: o.APIServer.ObjectMeta, template: o.APIServer.Spec.Template}} {
		spec := w.template.Spec
		if len(spec.TopologySpreadConstraints) != 1 {
			t.Fatalf("%s: want one topology spread constraint", w.meta.Name)
		}
		tsc := spec.TopologySpreadConstraints[0]
		if tsc.TopologyKey != corev1.LabelHostname || tsc.MaxSkew != 1 || !sameLabels(tsc.LabelSelector.MatchLabels, SelectorLabels(testCluster, w.component)) {
			t.Errorf("%s: spread %+v", w.meta.Name, tsc)
		}
		aa := spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		if len(aa) != 1 || aa[0].PodAffinityTerm.TopologyKey != corev1.LabelHostname || !sameLabels(aa[0].PodAffinityTerm.LabelSelector.MatchLabels, SelectorLabels(testCluster, w.component)) {
			t.Errorf("%s: anti-affinity %+v", w.meta.Name, aa)
		}
	}
	if ru := o.APIServer.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("apiserver rollout may take pods down before new ones are ready")
	}

	// Zero values take the API's defaults; no storage class means the cluster's default.
	p.Replicas, p.Etcd = 0, controlplanev1.EtcdSpec{}
	o = build(t, p)
	if *o.APIServer.Spec.Replicas != 2 || *o.Etcd.Spec.Replicas != 3 || o.Etcd.Spec.VolumeClaimTemplates[0].Spec.StorageClassName != nil {
		t.Errorf("defaults: apiserver %d, etcd %d, storage class %v", *o.APIServer.Spec.Replicas, *o.Etcd.Spec.Replicas, o.Etcd.Spec.VolumeClaimTemplates[0].Spec.StorageClassName)
	}
	if got := o.Etcd.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("default etcd volume %s, want 1Gi", got.String())
	}
	p.Etcd.Replicas = 1
	if got := flags(t, containerOf(t, build(t, p).Etcd.Spec.Template.Spec).Command)["initial-cluster"]; got != "c1-etcd-0=https://c1-etcd-0.c1-etcd.ns1.svc:2380" {
		t.Errorf("single-member --initial-cluster=%s", got)
	}
}

func TestImagesAndResourcesPerVersion(t *testing.T) {
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	res := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}
	for _, k := range l.Kubernetes {
		p := testParams(t)
		p.Version = k.Version
		p.Resources = controlplanev1.ComponentResources{APIServer: res}
		o := build(t, p)
		want := map[Component]string{
			Etcd:              "registry.k8s.io/etcd:" + k.Etcd,
			APIServer:         "registry.k8s.io/kube-apiserver:" + k.Version,
			ControllerManager: "registry.k8s.io/kube-controller-manager:" + k.Version,
			Scheduler:         "registry.k8s.io/kube-scheduler:" + k.Version,
		}
		for _, w := range workloads(o) {
			c := containerOf(t, w.template.Spec)
			if c.Image != want[w.component] || c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("%s %s: image %s (%s), want %s IfNotPresent", k.Version, w.meta.Name, c.Image, c.ImagePullPolicy, want[w.component])
			}
			binary := map[Component]string{Etcd: "etcd", APIServer: "kube-apiserver", ControllerManager: "kube-controller-manager", Scheduler: "kube-scheduler"}[w.component]
			if c.Command[0] != binary {
				t.Errorf("%s: command starts with %q, want %q", w.meta.Name, c.Command[0], binary)
			}
			if w.component == APIServer && !c.Resources.Requests.Cpu().Equal(resource.MustParse("250m")) {
				t.Errorf("apiserver resources %v, want the given ones", c.Resources)
			}
			if w.component != APIServer && len(c.Resources.Requests) != 0 {
				t.Errorf("%s got resources it was not given: %v", w.meta.Name, c.Resources)
			}
			if c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s lacks a probe", w.meta.Name)
			}
		}
	}
	api := containerOf(t, build(t, testParams(t)).APIServer.Spec.Template.Spec)
	for _, pr := range []*corev1.Probe{api.LivenessProbe, api.ReadinessProbe} {
		if g := pr.HTTPGet; g.Scheme != corev1.URISchemeHTTPS || g.Port.IntValue() != 6443 {
			t.Errorf("apiserver probe %+v, want HTTPS on 6443", g)
		}
	}
	if api.LivenessProbe.HTTPGet.Path != "/livez" || api.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("apiserver probes %s/%s, want /livez and /readyz", api.LivenessProbe.HTTPGet.Path, api.ReadinessProbe.HTTPGet.Path)
	}
}

func TestConfigHashFollowsMountedSecrets(t *testing.T) {
	p := testParams(t)
	hashes := func(p Params) map[Component]string {
		out := map[Component]string{}
		for _, w := range workloads(build(t, p)) {
			out[w.component] = w.template.Annotations[ConfigHashAnnotation]
			if out[w.component] == "" {
				t.Fatalf("%s has no %s annotation", w.meta.Name, ConfigHashAnnotation)
			}
		}
		return out
	}
	before := hashes(p)
	if again := hashes(p); !sameLabels(toStrings(before), toStrings(again)) {
		t.Fatalf("the hash is not stable: %v then %v", before, again)
	}
	n := p.PKI.Secrets
	for secretName, changes := range map[string][]Component{
		n.APIServer:                   {APIServer},
		n.EtcdServer:                  {Etcd},
		n.EtcdCA:                      {Etcd, APIServer},
		n.CA:                          {APIServer, ControllerManager},
		n.SchedulerKubeconfig:         {Scheduler},
		n.ControllerManagerKubeconfig: {ControllerManager},
		n.AdminKubeconfig:             nil,
	} {
		q := testParams(t)
		q.PKI.Hashes[secretName] = "reissued"
		after := hashes(q)
		for _, c := range []Component{Etcd, APIServer, ControllerManager, Scheduler} {
			if changed := after[c] != before[c]; changed != slices.Contains(changes, c) {
				t.Errorf("after %s changed, %s's hash changed=%v", secretName, c, changed)
			}
		}
	}
}

func toStrings(m map[Component]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func TestBuildRejectsBadParams(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Params)
		want   string
	}{
		"unknown version":    {func(p *Params) { p.Version = "v1.20.0" }, newestVersion(t).Version},
		"even etcd":          {func(p *Params) { p.Etcd.Replicas = 2 }, "etcd replicas"},
		"too many replicas":  {func(p *Params) { p.Replicas = 6 }, "apiserver replicas"},
		"VIP not an IP":      {func(p *Params) { p.AdvertiseAddress = "lb.example.com" }, "advertise address"},
		"no PKI":             {func(p *Params) { p.PKI = nil }, "PKI result"},
		"no DNS domain":      {func(p *Params) { p.DNSDomain = "" }, "DNS domain"},
		"IPv6 pods":          {func(p *Params) { p.PodCIDRs = []string{"fd00::/64"} }, "not IPv4"},
		"pod CIDR too small": {func(p *Params) { p.PodCIDRs = []string{"10.244.0.0/25"} }, "too small"},
		"dual-stack":         {func(p *Params) { p.ServiceCIDRs = []string{"10.96.0.0/12", "fd00::/108"} }, "exactly one"},
		"long cluster name":  {func(p *Params) { p.ClusterName = strings.Repeat("a", 55) }, "invalid"},
		"PKI of another cluster": {func(p *Params) {
			p.PKI = &pki.Result{Secrets: pki.Names("other"), Hashes: fakeResult().Hashes}
		}, "no hash"},
	} {
		t.Run(name, func(t *testing.T) {
			p := testParams(t)
			tc.mutate(&p)
			_, err := Build(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// With a real PKI, the names the components dial are the names their peers' certificates carry.
func TestCertificatesCoverTheAddressesComponentsUse(t *testing.T) {
	c, res := realPKI(t)
	p := testParams(t)
	p.PKI = res
	o := build(t, p)
	api := flags(t, containerOf(t, o.APIServer.Spec.Template.Spec).Command)
	etcd := flags(t, containerOf(t, o.Etcd.Spec.Template.Spec).Command)

	etcdServer := secretCert(t, c, res.Secrets.EtcdServer)
	etcdPeer := secretCert(t, c, res.Secrets.EtcdPeer)
	if err := etcdServer.VerifyHostname(hostOf(t, api["etcd-servers"])); err != nil {
		t.Errorf("--etcd-servers=%s: %v", api["etcd-servers"], err)
	}
	for _, member := range strings.Split(etcd["initial-cluster"], ",") {
		_, url, _ := strings.Cut(member, "=")
		if err := etcdPeer.VerifyHostname(hostOf(t, url)); err != nil {
			t.Errorf("peer %s: %v", url, err)
		}
		if err := etcdServer.VerifyHostname(hostOf(t, url)); err != nil {
			t.Errorf("client URL of member %s: %v", url, err)
		}
	}
	apiCert := secretCert(t, c, res.Secrets.APIServer)
	if err := apiCert.VerifyHostname(api["advertise-address"]); err != nil {
		t.Errorf("--advertise-address: %v", err)
	}
	for _, kc := range []string{res.Secrets.ControllerManagerKubeconfig, res.Secrets.SchedulerKubeconfig} {
		s := &corev1.Secret{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: kc}, s); err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[secret.KubeconfigDataName])
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != names.APIServerURL(testCluster, testNS) {
			t.Errorf("%s points at %s", kc, cfg.Host)
		}
		if err := apiCert.VerifyHostname(hostOf(t, cfg.Host)); err != nil {
			t.Errorf("%s server: %v", kc, err)
		}
	}
}

func realPKI(t *testing.T) (client.Client, *pki.Result) {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).Build()
	res, err := pki.Ensure(context.Background(), c, pki.Params{
		ClusterName:  testCluster,
		Namespace:    testNS,
		Endpoint:     clusterv1.APIEndpoint{Host: testVIP, Port: 6443},
		ServiceCIDRs: []string{"10.96.0.0/12"},
		DNSDomain:    "cluster.local",
	}, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "uid"})
	if err != nil {
		t.Fatalf("pki.Ensure: %v", err)
	}
	return c, res
}

func secretData(t *testing.T, c client.Client, name, key string) []byte {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: name}, s); err != nil {
		t.Fatalf("getting Secret %s: %v", name, err)
	}
	return s.Data[key]
}

func secretCert(t *testing.T, c client.Client, name string) *x509.Certificate {
	t.Helper()
	cert, err := certs.DecodeCertPEM(secretData(t, c, name, secret.TLSCrtDataName))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func hostOf(t *testing.T, url string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(url, "https://")
	if !ok {
		t.Fatalf("%q is not an https URL", url)
	}
	host, _, _ := strings.Cut(rest, ":")
	return host
}
