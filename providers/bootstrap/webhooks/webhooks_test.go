package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
)

// cause is one expected field error: its path and a piece of its message.
type cause struct{ field, msg string }

func TestValidateSpec(t *testing.T) {
	now := metav1.Now()
	for name, tc := range map[string]struct {
		spec bootstrapv1.GcoreConfigSpec
		want []cause
	}{
		"empty": {},
		"all good": {spec: bootstrapv1.GcoreConfigSpec{
			NodeLabels: map[string]string{
				"pool": "gpu", "example.com/team": "a", "node.kubernetes.io/pool": "x",
				"sub.node.kubernetes.io/y": "z", "kubelet.kubernetes.io/k": "v",
				"topology.kubernetes.io/zone": "z1", "node.kubernetes.io/instance-type": "g1",
				"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "h", "empty": "",
			},
			NodeTaints: []corev1.Taint{
				{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
				{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute},
				{Key: "example.com/soft", Effect: corev1.TaintEffectPreferNoSchedule},
			},
			KubeletExtraArgs: map[string]string{"max-pods": "50", "v": "2", "eviction-hard": "memory.available<5%"},
			Files:            []bootstrapv1.File{{Path: "/etc/a"}, {Path: "/run/other/b"}, {Path: "/run/kaasx"}},
			PreJoinCommands:  []string{"echo hi"},
		}},
		"label in kubernetes.io": {
			spec: bootstrapv1.GcoreConfigSpec{NodeLabels: map[string]string{"node-role.kubernetes.io/worker": ""}},
			want: []cause{{"spec.nodeLabels[node-role.kubernetes.io/worker]", "kubelets may not set labels in the kubernetes.io and k8s.io namespaces"}},
		},
		"label in k8s.io subdomain": {
			spec: bootstrapv1.GcoreConfigSpec{NodeLabels: map[string]string{"foo.k8s.io/x": "y"}},
			want: []cause{{"spec.nodeLabels[foo.k8s.io/x]", "kubernetes.io and k8s.io namespaces"}},
		},
		"provider type label": {
			spec: bootstrapv1.GcoreConfigSpec{NodeLabels: map[string]string{"node.kaas.sandbox/type": "baremetal"}},
			want: []cause{{"spec.nodeLabels[node.kaas.sandbox/type]", "set by the provider"}},
		},
		"bad label key and value": {
			spec: bootstrapv1.GcoreConfigSpec{NodeLabels: map[string]string{"bad key": "v", "ok": "a,b"}},
			want: []cause{
				{"spec.nodeLabels[bad key]", "not a valid label key"},
				{"spec.nodeLabels[ok]", "not a valid label value"},
			},
		},
		"taints": {
			spec: bootstrapv1.GcoreConfigSpec{NodeTaints: []corev1.Taint{
				{Key: "", Effect: corev1.TaintEffectNoSchedule},
				{Key: "k", Effect: "Sometimes"},
				{Key: "k2"},
				{Key: "k3", Value: "bad value", Effect: corev1.TaintEffectNoSchedule},
				{Key: "k4", Effect: corev1.TaintEffectNoExecute, TimeAdded: &now},
				{Key: "k5", Effect: corev1.TaintEffectNoSchedule},
				{Key: "k5", Value: "other", Effect: corev1.TaintEffectNoSchedule},
			}},
			want: []cause{
				{"spec.nodeTaints[0].key", "not a valid taint key"},
				{"spec.nodeTaints[1].effect", `Unsupported value: "Sometimes"`},
				{"spec.nodeTaints[2].effect", "one of NoSchedule, PreferNoSchedule, NoExecute"},
				{"spec.nodeTaints[3].value", "not a valid taint value"},
				{"spec.nodeTaints[4].timeAdded", "set by Kubernetes"},
				{"spec.nodeTaints[6]", "already at index 5"},
			},
		},
		"reserved kubelet flags": {
			spec: bootstrapv1.GcoreConfigSpec{KubeletExtraArgs: map[string]string{
				"provider-id": "x", "bootstrap-kubeconfig": "x", "kubeconfig": "x", "config": "x", "node-labels": "a=b",
			}},
			want: []cause{
				{"spec.kubeletExtraArgs[bootstrap-kubeconfig]", "managed by the provider: kubeadm sets it"},
				{"spec.kubeletExtraArgs[config]", "kubeadm sets it"},
				{"spec.kubeletExtraArgs[kubeconfig]", "kubeadm sets it"},
				{"spec.kubeletExtraArgs[node-labels]", "use spec.nodeLabels"},
				{"spec.kubeletExtraArgs[provider-id]", "instance metadata"},
			},
		},
		"flag names": {
			spec: bootstrapv1.GcoreConfigSpec{KubeletExtraArgs: map[string]string{"--max-pods": "1", "Max Pods": "2"}},
			want: []cause{
				{"spec.kubeletExtraArgs[--max-pods]", `without the leading "--"`},
				{"spec.kubeletExtraArgs[Max Pods]", "not a kubelet flag name"},
			},
		},
		"files": {
			spec: bootstrapv1.GcoreConfigSpec{Files: []bootstrapv1.File{
				{Path: "etc/relative"},
				{Path: "/run/kaas/kubeadm-join.yaml"},
				{Path: "/run/kaas"},
				{Path: "/etc/x"},
				{Path: "/etc//x"},
				{Path: "/run/cluster-api/bootstrap-success.complete"},
			}},
			want: []cause{
				{"spec.files[0].path", "must be an absolute path"},
				{"spec.files[1].path", "/run/kaas is reserved"},
				{"spec.files[2].path", "/run/kaas is reserved"},
				{"spec.files[4].path", "same file as files[3]"},
				{"spec.files[5].path", "sentinel"},
			},
		},
		"empty commands": {
			spec: bootstrapv1.GcoreConfigSpec{PreJoinCommands: []string{"ok", " "}, PostJoinCommands: []string{""}},
			want: []cause{
				{"spec.preJoinCommands[1]", "may not be empty"},
				{"spec.postJoinCommands[0]", "may not be empty"},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := &bootstrapv1.GcoreConfig{ObjectMeta: metav1.ObjectMeta{Name: "w0"}, Spec: tc.spec}
			_, err := GcoreConfig{}.ValidateCreate(context.Background(), c)
			checkCauses(t, err, tc.want)
			_, err = GcoreConfig{}.ValidateUpdate(context.Background(), c, c)
			checkCauses(t, err, tc.want)

			// A template's spec is validated the same way, at spec.template.spec.
			tpl := &bootstrapv1.GcoreConfigTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t0"}}
			tpl.Spec.Template.Spec = tc.spec
			var tplWant []cause
			for _, w := range tc.want {
				tplWant = append(tplWant, cause{"spec.template." + w.field, w.msg})
			}
			_, err = GcoreConfigTemplate{}.ValidateCreate(context.Background(), tpl)
			checkCauses(t, err, tplWant)
		})
	}
}

func checkCauses(t *testing.T, err error, want []cause) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("valid spec refused: %v", err)
		}
		return
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v, want an Invalid error", err)
	}
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		t.Fatalf("err %v carries no details", err)
	}
	causes := status.Status().Details.Causes
	if len(causes) != len(want) {
		t.Errorf("%d causes, want %d: %v", len(causes), len(want), err)
	}
	for _, w := range want {
		found := false
		for _, c := range causes {
			if c.Field == w.field && strings.Contains(c.Message, w.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("no cause at %s containing %q in %v", w.field, w.msg, err)
		}
	}
}

func TestValidateDelete(t *testing.T) {
	bad := &bootstrapv1.GcoreConfig{Spec: bootstrapv1.GcoreConfigSpec{Files: []bootstrapv1.File{{Path: "x"}}}}
	if _, err := (GcoreConfig{}).ValidateDelete(context.Background(), bad); err != nil {
		t.Errorf("delete refused: %v", err)
	}
}

func TestDefault(t *testing.T) {
	c := &bootstrapv1.GcoreConfig{Spec: bootstrapv1.GcoreConfigSpec{
		KubeletExtraArgs: map[string]string{"--max-pods": "50", "--v": "1", "v": "2", "eviction-hard": "x"},
		Files:            []bootstrapv1.File{{Path: "/a"}, {Path: "/b", Permissions: "0600"}},
	}}
	if err := (GcoreConfig{}).Default(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"max-pods": "50", "--v": "1", "v": "2", "eviction-hard": "x"}
	if len(c.Spec.KubeletExtraArgs) != len(want) {
		t.Errorf("kubeletExtraArgs = %v, want %v", c.Spec.KubeletExtraArgs, want)
	}
	for k, v := range want {
		if c.Spec.KubeletExtraArgs[k] != v {
			t.Errorf("kubeletExtraArgs = %v, want %v", c.Spec.KubeletExtraArgs, want)
		}
	}
	if c.Spec.Files[0].Permissions != "0644" || c.Spec.Files[1].Permissions != "0600" {
		t.Errorf("files = %+v", c.Spec.Files)
	}
	// The colliding "--v" is left for the validator to refuse.
	if _, err := (GcoreConfig{}).ValidateCreate(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--v") {
		t.Errorf("err = %v, want the --v flag refused", err)
	}

	tpl := &bootstrapv1.GcoreConfigTemplate{}
	tpl.Spec.Template.Spec.KubeletExtraArgs = map[string]string{"--max-pods": "5"}
	if err := (GcoreConfigTemplate{}).Default(context.Background(), tpl); err != nil {
		t.Fatal(err)
	}
	if got := tpl.Spec.Template.Spec.KubeletExtraArgs; len(got) != 1 || got["max-pods"] != "5" {
		t.Errorf("template kubeletExtraArgs = %v", got)
	}
}

// TestSetupWebhooks checks that the paths in the kubebuilder markers are the ones the
// manager serves.
func TestSetupWebhooks(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
		Scheme:  s,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := SetupWebhooks(mgr); err != nil {
		t.Fatal(err)
	}
	srv, ok := mgr.GetWebhookServer().(*webhook.DefaultServer)
	if !ok {
		t.Fatalf("webhook server is a %T", mgr.GetWebhookServer())
	}
	mux := srv.WebhookMux()
	for _, p := range []string{
		"/mutate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfig",
		"/validate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfig",
		"/mutate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfigtemplate",
		"/validate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfigtemplate",
	} {
		_, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, p, nil))
		if pattern != p {
			t.Errorf("no webhook served at %s (matched %q)", p, pattern)
		}
	}
}
