package workload

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// v1beta4ClusterConfiguration is the top level of kubeadm's kubeadm.k8s.io/v1beta4
// ClusterConfiguration (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go), written out here on
// its own so that a misspelt field in the package fails strict decoding.
type v1beta4ClusterConfiguration struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Etcd       map[string]any `json:"etcd,omitempty"`
	Networking struct {
		ServiceSubnet string `json:"serviceSubnet,omitempty"`
		PodSubnet     string `json:"podSubnet,omitempty"`
		DNSDomain     string `json:"dnsDomain,omitempty"`
	} `json:"networking,omitempty"`
	KubernetesVersion           string          `json:"kubernetesVersion,omitempty"`
	ControlPlaneEndpoint        string          `json:"controlPlaneEndpoint,omitempty"`
	APIServer                   map[string]any  `json:"apiServer,omitempty"`
	ControllerManager           map[string]any  `json:"controllerManager,omitempty"`
	Scheduler                   map[string]any  `json:"scheduler,omitempty"`
	DNS                         map[string]any  `json:"dns,omitempty"`
	Proxy                       map[string]any  `json:"proxy,omitempty"`
	CertificatesDir             string          `json:"certificatesDir,omitempty"`
	ImageRepository             string          `json:"imageRepository,omitempty"`
	FeatureGates                map[string]bool `json:"featureGates,omitempty"`
	ClusterName                 string          `json:"clusterName,omitempty"`
	EncryptionAlgorithm         string          `json:"encryptionAlgorithm,omitempty"`
	CertificateValidityPeriod   string          `json:"certificateValidityPeriod,omitempty"`
	CACertificateValidityPeriod string          `json:"caCertificateValidityPeriod,omitempty"`
}

func TestClusterInfoKubeconfig(t *testing.T) {
	p := testParams(t, "v1.37.2")
	objs, err := JoinObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-public", "cluster-info")
	cfg, err := clientcmd.Load([]byte(cm.Data["kubeconfig"]))
	if err != nil {
		t.Fatalf("cluster-info's kubeconfig does not parse: %v", err)
	}
	if len(cfg.Clusters) != 1 || len(cfg.AuthInfos) != 0 || len(cfg.Contexts) != 0 {
		t.Fatalf("cluster-info's kubeconfig should hold one cluster and nothing else: %+v", cfg)
	}
	for _, c := range cfg.Clusters {
		if c.Server != "https://192.0.2.10:6443" {
			t.Errorf("server %q, want the VIP https://192.0.2.10:6443", c.Server)
		}
		if !bytes.Equal(c.CertificateAuthorityData, p.CACertPEM) {
			t.Errorf("CA data differs from the CA given")
		}
	}
	if len(cm.Data) != 1 {
		t.Errorf("cluster-info should hold only the kubeconfig (the bootstrapsigner adds the signatures), got keys %v", keys(cm.Data))
	}
}

func TestClusterConfiguration(t *testing.T) {
	p := testParams(t, "v1.36.3")
	p.DNSDomain = "corp.internal"
	p.EndpointPort = 7443
	objs, err := JoinObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-system", "kubeadm-config")
	var cc v1beta4ClusterConfiguration
	if err := yaml.UnmarshalStrict([]byte(cm.Data["ClusterConfiguration"]), &cc); err != nil {
		t.Fatalf("ClusterConfiguration does not decode strictly into kubeadm's v1beta4 shape: %v\n%s", err, cm.Data["ClusterConfiguration"])
	}
	want := v1beta4ClusterConfiguration{
		APIVersion:           "kubeadm.k8s.io/v1beta4",
		Kind:                 "ClusterConfiguration",
		KubernetesVersion:    "v1.36.3",
		ControlPlaneEndpoint: "192.0.2.10:7443",
		CertificatesDir:      "/etc/kubernetes/pki",
		ImageRepository:      "registry.k8s.io",
		ClusterName:          "demo",
	}
	want.Networking.PodSubnet, want.Networking.ServiceSubnet, want.Networking.DNSDomain = "10.244.0.0/16", "10.96.0.0/12", "corp.internal"
	if fmt.Sprintf("%+v", cc) != fmt.Sprintf("%+v", want) {
		t.Errorf("ClusterConfiguration\n got %+v\nwant %+v", cc, want)
	}
}

func TestKubeletConfiguration(t *testing.T) {
	p := testParams(t, "v1.35.4")
	p.ServiceCIDR = "172.20.0.0/16"
	objs, err := JoinObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-system", "kubelet-config")
	raw := cm.Data["kubelet"]
	var kc map[string]any
	if err := yaml.Unmarshal([]byte(raw), &kc); err != nil {
		t.Fatalf("kubelet config does not parse: %v", err)
	}
	// failCgroupV1 must be written out: absent, kubelet 1.35+ defaults it to true.
	if v, ok := kc["failCgroupV1"]; !ok || v != false {
		t.Errorf("failCgroupV1 = %v (present %v), want an explicit false", v, ok)
	}
	if v, ok := kc["serverTLSBootstrap"]; !ok || v != false {
		t.Errorf("serverTLSBootstrap = %v (present %v), want an explicit false", v, ok)
	}
	checks := map[string]any{
		"apiVersion":         "kubelet.config.k8s.io/v1beta1",
		"kind":               "KubeletConfiguration",
		"cgroupDriver":       "systemd",
		"clusterDNS":         []any{"172.20.0.10"},
		"clusterDomain":      "cluster.local",
		"rotateCertificates": true,
		"authorization":      map[string]any{"mode": "Webhook"},
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
		},
	}
	for k, want := range checks {
		if fmt.Sprint(kc[k]) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", k, kc[k], want)
		}
	}
	sum := sha256.Sum256([]byte(raw))
	if got, want := cm.Annotations["kubeadm.kubernetes.io/component-config.hash"], fmt.Sprintf("sha256:%x", sum); got != want {
		t.Errorf("kubeadm's component config hash is %q, want %q", got, want)
	}
}

// ref is a binding's role and subjects, flattened for comparison.
type ref struct{ role, subjects string }

func subjects(s []rbacv1.Subject) string {
	var out []string
	for _, x := range s {
		out = append(out, strings.Trim(x.Kind+":"+x.Namespace+":"+x.Name, ":"))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestJoinRBAC(t *testing.T) {
	objs, err := JoinObjects(testParams(t, "v1.37.2"))
	if err != nil {
		t.Fatal(err)
	}
	const tokens = "Group::system:bootstrappers:kubeadm:default-node-token"
	wantCluster := map[string]ref{
		"kubeadm:get-nodes":                             {"ClusterRole/kubeadm:get-nodes", tokens},
		"kubeadm:kubelet-bootstrap":                     {"ClusterRole/system:node-bootstrapper", tokens},
		"kubeadm:node-autoapprove-bootstrap":            {"ClusterRole/system:certificates.k8s.io:certificatesigningrequests:nodeclient", tokens},
		"kubeadm:node-autoapprove-certificate-rotation": {"ClusterRole/system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group::system:nodes"},
		"kubeadm:apiserver-kubelet-client":              {"ClusterRole/system:kubelet-api-admin", "User::kube-apiserver-kubelet-client"},
	}
	wantNamespaced := map[string]ref{
		"kube-public/kubeadm:bootstrap-signer-clusterinfo": {"Role/kubeadm:bootstrap-signer-clusterinfo", "User::system:anonymous"},
		"kube-system/kubeadm:nodes-kubeadm-config":         {"Role/kubeadm:nodes-kubeadm-config", tokens + ",Group::system:nodes"},
		"kube-system/kubeadm:kubelet-config":               {"Role/kubeadm:kubelet-config", tokens + ",Group::system:nodes"},
	}
	// The Role each RoleBinding names may get exactly the one ConfigMap.
	roleReads := map[string]string{
		"kube-public/kubeadm:bootstrap-signer-clusterinfo": "cluster-info",
		"kube-system/kubeadm:nodes-kubeadm-config":         "kubeadm-config",
		"kube-system/kubeadm:kubelet-config":               "kubelet-config",
	}
	gotCluster, gotNamespaced := map[string]ref{}, map[string]ref{}
	for _, o := range objs {
		switch b := o.(type) {
		case *rbacv1.ClusterRoleBinding:
			gotCluster[b.Name] = ref{b.RoleRef.Kind + "/" + b.RoleRef.Name, subjects(b.Subjects)}
			if b.RoleRef.APIGroup != rbacv1.GroupName {
				t.Errorf("ClusterRoleBinding %s: roleRef apiGroup %q", b.Name, b.RoleRef.APIGroup)
			}
		case *rbacv1.RoleBinding:
			gotNamespaced[b.Namespace+"/"+b.Name] = ref{b.RoleRef.Kind + "/" + b.RoleRef.Name, subjects(b.Subjects)}
		case *rbacv1.Role:
			key := b.Namespace + "/" + b.Name
			want := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{roleReads[key]}}}
			if !reflect.DeepEqual(b.Rules, want) {
				t.Errorf("Role %s rules %+v, want %+v", key, b.Rules, want)
			}
		case *rbacv1.ClusterRole:
			want := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}
			if b.Name != "kubeadm:get-nodes" || !reflect.DeepEqual(b.Rules, want) {
				t.Errorf("unexpected ClusterRole %s: %+v", b.Name, b.Rules)
			}
		}
	}
	if fmt.Sprint(gotCluster) != fmt.Sprint(wantCluster) {
		t.Errorf("ClusterRoleBindings\n got %v\nwant %v", gotCluster, wantCluster)
	}
	if fmt.Sprint(gotNamespaced) != fmt.Sprint(wantNamespaced) {
		t.Errorf("RoleBindings\n got %v\nwant %v", gotNamespaced, wantNamespaced)
	}
}

func TestJoinObjectsInventory(t *testing.T) {
	objs, err := JoinObjects(testParams(t, "v1.37.2"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ConfigMap kube-public/cluster-info",
		"ConfigMap kube-system/kubeadm-config",
		"ConfigMap kube-system/kubelet-config",
		"Role kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"Role kube-system/kubeadm:kubelet-config",
		"Role kube-system/kubeadm:nodes-kubeadm-config",
		"RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"RoleBinding kube-system/kubeadm:kubelet-config",
		"RoleBinding kube-system/kubeadm:nodes-kubeadm-config",
		"ClusterRole kubeadm:get-nodes",
		"ClusterRoleBinding kubeadm:apiserver-kubelet-client",
		"ClusterRoleBinding kubeadm:get-nodes",
		"ClusterRoleBinding kubeadm:kubelet-bootstrap",
		"ClusterRoleBinding kubeadm:node-autoapprove-bootstrap",
		"ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation",
	}
	checkInventory(t, objs, want)
}

// checkInventory checks that objs are exactly want (by "Kind namespace/name"), each carrying
// the managed-by label and its apiVersion/kind.
func checkInventory(t *testing.T, objs []client.Object, want []string) {
	t.Helper()
	var got []string
	for _, o := range objs {
		got = append(got, describe(o, nil))
		if o.GetObjectKind().GroupVersionKind().Kind == "" {
			t.Errorf("%s has no kind set", describe(o, nil))
		}
		if o.GetLabels()[ManagedByLabel] != ManagedByValue {
			t.Errorf("%s lacks the label %s=%s: %v", describe(o, nil), ManagedByLabel, ManagedByValue, o.GetLabels())
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects\n got %v\nwant %v", got, want)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
