package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kaas-sandbox/sandbox/versions"
)

func TestKubeProxy(t *testing.T) {
	p := testParams(t, "v1.36.3")
	p.PodCIDR = "10.32.0.0/12"
	objs, err := Addons(p)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-system", "kube-proxy")
	kubeconfig, err := clientcmd.Load([]byte(cm.Data["kubeconfig.conf"]))
	if err != nil {
		t.Fatalf("kube-proxy's kubeconfig does not parse: %v", err)
	}
	ctx := kubeconfig.Contexts[kubeconfig.CurrentContext]
	if ctx == nil || kubeconfig.Clusters[ctx.Cluster] == nil || kubeconfig.AuthInfos[ctx.AuthInfo] == nil {
		t.Fatalf("kube-proxy's kubeconfig has no usable current context: %+v", kubeconfig)
	}
	cluster, user := kubeconfig.Clusters[ctx.Cluster], kubeconfig.AuthInfos[ctx.AuthInfo]
	if cluster.Server != "https://192.0.2.10:6443" {
		t.Errorf("kube-proxy talks to %q, want the VIP https://192.0.2.10:6443", cluster.Server)
	}
	if cluster.CertificateAuthority != "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" ||
		user.TokenFile != "/var/run/secrets/kubernetes.io/serviceaccount/token" {
		t.Errorf("kube-proxy should use its ServiceAccount's CA and token: CA %q, token %q", cluster.CertificateAuthority, user.TokenFile)
	}
	var cfg struct {
		Mode             string `json:"mode"`
		ClusterCIDR      string `json:"clusterCIDR"`
		ClientConnection struct {
			Kubeconfig string `json:"kubeconfig"`
		} `json:"clientConnection"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["config.conf"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "iptables" || cfg.ClusterCIDR != "10.32.0.0/12" || cfg.ClientConnection.Kubeconfig != "/var/lib/kube-proxy/kubeconfig.conf" {
		t.Errorf("kube-proxy config: %+v", cfg)
	}

	ds := find[*appsv1.DaemonSet](t, objs, "kube-system", "kube-proxy")
	pod := ds.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "registry.k8s.io/kube-proxy:v1.36.3" || !pod.HostNetwork || c.SecurityContext == nil || !*c.SecurityContext.Privileged {
		t.Errorf("kube-proxy DaemonSet: image %q, hostNetwork %v, securityContext %+v", c.Image, pod.HostNetwork, c.SecurityContext)
	}
	if !strings.Contains(strings.Join(c.Command, " "), "--config=/var/lib/kube-proxy/config.conf") {
		t.Errorf("kube-proxy command %v does not read the mounted config", c.Command)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if !reflect.DeepEqual(mounts, map[string]string{"kube-proxy": "/var/lib/kube-proxy", "xtables-lock": "/run/xtables.lock", "lib-modules": "/lib/modules"}) {
		t.Errorf("kube-proxy mounts %v", mounts)
	}
	crb := find[*rbacv1.ClusterRoleBinding](t, objs, "", "kubeadm:node-proxier")
	if crb.RoleRef.Name != "system:node-proxier" || subjects(crb.Subjects) != "ServiceAccount:kube-system:kube-proxy" {
		t.Errorf("kubeadm:node-proxier binds %s to %s", crb.RoleRef.Name, subjects(crb.Subjects))
	}
	rb := find[*rbacv1.RoleBinding](t, objs, "kube-system", "kube-proxy")
	if subjects(rb.Subjects) != "Group::system:bootstrappers:kubeadm:default-node-token" {
		t.Errorf("kube-proxy RoleBinding subjects %s", subjects(rb.Subjects))
	}
}

func TestCoreDNSPerVersion(t *testing.T) {
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range l.Kubernetes {
		t.Run(k.Version, func(t *testing.T) {
			objs, err := Addons(testParams(t, k.Version))
			if err != nil {
				t.Fatal(err)
			}
			d := find[*appsv1.Deployment](t, objs, "kube-system", "coredns")
			if got, want := d.Spec.Template.Spec.Containers[0].Image, "registry.k8s.io/coredns/coredns:"+k.CoreDNS; got != want {
				t.Errorf("CoreDNS image %q, want %q", got, want)
			}
			if got := find[*appsv1.DaemonSet](t, objs, "kube-system", "kube-proxy").Spec.Template.Spec.Containers[0].Image; got != "registry.k8s.io/kube-proxy:"+k.Version {
				t.Errorf("kube-proxy image %q for %s", got, k.Version)
			}
		})
	}
}

func TestCoreDNS(t *testing.T) {
	p := testParams(t, "v1.37.2")
	p.ServiceCIDR, p.DNSDomain = "10.100.0.0/16", "corp.internal"
	objs, err := Addons(p)
	if err != nil {
		t.Fatal(err)
	}
	d := find[*appsv1.Deployment](t, objs, "kube-system", "coredns")
	if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.ServiceAccountName != "coredns" || d.Spec.Template.Spec.DNSPolicy != corev1.DNSDefault {
		t.Errorf("CoreDNS Deployment: replicas %d, SA %q, dnsPolicy %q", *d.Spec.Replicas, d.Spec.Template.Spec.ServiceAccountName, d.Spec.Template.Spec.DNSPolicy)
	}
	svc := find[*corev1.Service](t, objs, "kube-system", "kube-dns")
	if svc.Spec.ClusterIP != "10.100.0.10" {
		t.Errorf("kube-dns at %q, want 10.100.0.10", svc.Spec.ClusterIP)
	}
	wantPorts := []corev1.ServicePort{
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
		{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
	}
	if !reflect.DeepEqual(svc.Spec.Ports, wantPorts) || !reflect.DeepEqual(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("kube-dns ports %+v selector %v (pods %v)", svc.Spec.Ports, svc.Spec.Selector, d.Spec.Template.Labels)
	}
	corefile := find[*corev1.ConfigMap](t, objs, "kube-system", "coredns").Data["Corefile"]
	for _, want := range []string{"kubernetes corp.internal in-addr.arpa ip6.arpa {", "forward . /etc/resolv.conf {", "disable success corp.internal"} {
		if !strings.Contains(corefile, want) {
			t.Errorf("Corefile lacks %q:\n%s", want, corefile)
		}
	}
	crb := find[*rbacv1.ClusterRoleBinding](t, objs, "", "system:coredns")
	if crb.RoleRef.Name != "system:coredns" || subjects(crb.Subjects) != "ServiceAccount:kube-system:coredns" {
		t.Errorf("system:coredns binds %s to %s", crb.RoleRef.Name, subjects(crb.Subjects))
	}
}

func TestFlannelNetwork(t *testing.T) {
	p := testParams(t, "v1.37.2")
	p.PodCIDR = "192.168.0.0/16"
	objs, err := Addons(p)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-flannel", "kube-flannel-cfg")
	var nc struct {
		Network string
		Backend struct{ Type string }
	}
	if err := json.Unmarshal([]byte(cm.Data["net-conf.json"]), &nc); err != nil {
		t.Fatalf("net-conf.json: %v", err)
	}
	if nc.Network != "192.168.0.0/16" || nc.Backend.Type != "vxlan" {
		t.Errorf("flannel net-conf %+v, want Network 192.168.0.0/16 and the vxlan backend", nc)
	}
	var cni map[string]any
	if err := json.Unmarshal([]byte(cm.Data["cni-conf.json"]), &cni); err != nil {
		t.Errorf("cni-conf.json: %v", err)
	}
}

// TestFlannelMatchesKindManifest keeps flannel in step with hack/manifests/flannel.yaml,
// which the project's kind clusters run: the same objects, but for the managed-by label
// and the Network.
func TestFlannelMatchesKindManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "hack", "manifests", "flannel.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := testParams(t, "v1.37.2") // pod CIDR 10.244.0.0/16, as in the manifest
	objs, err := Addons(p)
	if err != nil {
		t.Fatal(err)
	}
	decoder := clientgoscheme.Codecs.UniversalDeserializer()
	n := 0
	for _, doc := range strings.Split(string(data), "\n---\n") {
		want, _, err := decoder.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decoding a document of flannel.yaml: %v", err)
		}
		wantObj := want.(client.Object)
		var got client.Object
		for _, o := range objs {
			if o.GetName() == wantObj.GetName() && o.GetNamespace() == wantObj.GetNamespace() &&
				o.GetObjectKind().GroupVersionKind() == wantObj.GetObjectKind().GroupVersionKind() {
				got = o.DeepCopyObject().(client.Object)
			}
		}
		if got == nil {
			t.Errorf("flannel.yaml's %s is missing", describe(wantObj, nil))
			continue
		}
		n++
		labels := got.GetLabels()
		delete(labels, ManagedByLabel)
		if len(labels) == 0 {
			labels = nil
		}
		got.SetLabels(labels)
		if cm, ok := got.(*corev1.ConfigMap); ok {
			wantCM := wantObj.(*corev1.ConfigMap)
			for k, v := range cm.Data {
				if !sameJSON(t, v, wantCM.Data[k]) {
					t.Errorf("%s %s differs from flannel.yaml's:\n%s\nwant\n%s", describe(got, nil), k, v, wantCM.Data[k])
				}
			}
			cm.Data = wantCM.Data
		}
		if !equality.Semantic.DeepEqual(got, wantObj) {
			gy, _ := yaml.Marshal(got)
			wy, _ := yaml.Marshal(wantObj)
			t.Errorf("%s differs from flannel.yaml's:\n%s\nwant\n%s", describe(got, nil), gy, wy)
		}
	}
	if n != 6 {
		t.Errorf("compared %d objects with flannel.yaml, want 6", n)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("%v in %s", err, a)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Errorf("%v in %s", err, b)
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestAddonsInventoryAndImages(t *testing.T) {
	objs, err := Addons(testParams(t, "v1.37.2"))
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, objs, []string{
		"ServiceAccount kube-system/kube-proxy",
		"ClusterRoleBinding kubeadm:node-proxier",
		"Role kube-system/kube-proxy",
		"RoleBinding kube-system/kube-proxy",
		"ConfigMap kube-system/kube-proxy",
		"DaemonSet kube-system/kube-proxy",
		"ServiceAccount kube-system/coredns",
		"ClusterRole system:coredns",
		"ClusterRoleBinding system:coredns",
		"ConfigMap kube-system/coredns",
		"Deployment kube-system/coredns",
		"Service kube-system/kube-dns",
		"Namespace kube-flannel",
		"ServiceAccount kube-flannel/flannel",
		"ClusterRole flannel",
		"ClusterRoleBinding flannel",
		"ConfigMap kube-flannel/kube-flannel-cfg",
		"DaemonSet kube-flannel/kube-flannel-ds",
	})
	images := map[string]bool{}
	for _, o := range objs {
		var pod *corev1.PodSpec
		switch w := o.(type) {
		case *appsv1.DaemonSet:
			pod = &w.Spec.Template.Spec
		case *appsv1.Deployment:
			pod = &w.Spec.Template.Spec
		default:
			continue
		}
		for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
			images[c.Image] = true
			if c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("%s container %s pulls %q", describe(o, nil), c.Name, c.ImagePullPolicy)
			}
		}
	}
	want := map[string]bool{
		"registry.k8s.io/kube-proxy:v1.37.2":      true,
		"registry.k8s.io/coredns/coredns:v1.14.6": true,
		"kaas.local/flannel:v0.28.10":             true,
	}
	if !reflect.DeepEqual(images, want) {
		t.Errorf("images %v, want %v", images, want)
	}
}
