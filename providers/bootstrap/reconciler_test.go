package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/cluster-api/util/secret"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/providers/bootstrap/cloudinit"
	"github.com/kaas-sandbox/sandbox/providers/scheme"
	"github.com/kaas-sandbox/sandbox/providers/workloadclient"
)

const endpointHost = "203.0.113.10"

// TestGcoreConfigReconciler runs every controller test against one envtest API server, which
// also stands in for the workload clusters.
func TestGcoreConfigReconciler(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{
		CRDDirs: append(testenv.ClusterAPICRDDirs(t), testenv.ProjectCRDDir(t)),
		Scheme:  s,
	})
	c := env.Client

	t.Run("makes data secret and token", func(t *testing.T) { testHappyPath(t, c) })
	t.Run("waits for the cluster", func(t *testing.T) { testWaits(t, c) })
	t.Run("baremetal label", func(t *testing.T) { testBareMetal(t, c) })
	t.Run("token renewal", func(t *testing.T) { testTokenRenewal(t, c) })
	t.Run("token recreation", func(t *testing.T) { testTokenRecreation(t, c) })
	t.Run("workload errors", func(t *testing.T) { testWorkloadError(t, c) })
	t.Run("paused", func(t *testing.T) { testPaused(t, c) })
	t.Run("invalid spec", func(t *testing.T) { testInvalidSpec(t, c) })
	t.Run("foreign secret", func(t *testing.T) { testForeignSecret(t, c) })
	t.Run("map functions", func(t *testing.T) { testMapFuncs(t, c) })
	t.Run("manager", func(t *testing.T) { testManager(t, env, s) })
}

// fixture is one namespace with a Cluster, its CA, a GcoreMachine, a Machine and its config.
type fixture struct {
	c       client.Client
	ns      string
	cluster *clusterv1.Cluster
	machine *clusterv1.Machine
	config  *bootstrapv1.GcoreConfig
	caHash  []string
}

type fixtureOpts struct {
	infraProvisioned, cpInitialized bool
	machineType                     infrav1.MachineType
	spec                            bootstrapv1.GcoreConfigSpec
	skipConfig                      bool
}

var nsCounter atomic.Int32

func newFixture(t *testing.T, c client.Client, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{c: c, ns: fmt.Sprintf("bootstrap-%d", nsCounter.Add(1))}
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}))

	f.cluster = &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "c1"},
		Spec: clusterv1.ClusterSpec{
			ControlPlaneEndpoint: clusterv1.APIEndpoint{Host: endpointHost, Port: 6443},
		},
	}
	must(t, c.Create(ctx, f.cluster))
	setClusterStatus(t, c, f.cluster, o.infraProvisioned, o.cpInitialized)

	// A real CA, as CAPI's util/secret makes them; its hash computed by CAPI's own code.
	ca := secret.NewCertificatesForWorker("")
	must(t, ca.Generate())
	cert := ca.GetByPurpose(secret.ClusterCA)
	hashes, err := cert.Hashes()
	must(t, err)
	f.caHash = hashes
	must(t, c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "c1-ca", Labels: map[string]string{clusterv1.ClusterNameLabel: "c1"}},
		Type:       clusterv1.ClusterSecretType,
		Data:       map[string][]byte{secret.TLSCrtDataName: cert.KeyPair.Cert, secret.TLSKeyDataName: cert.KeyPair.Key},
	}))

	typ := o.machineType
	if typ == "" {
		typ = infrav1.MachineTypeVM
	}
	must(t, c.Create(ctx, &infrav1.GcoreMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "m1-infra"},
		Spec:       infrav1.GcoreMachineSpec{Type: typ, Flavor: "g1.small"},
	}))
	f.machine = &clusterv1.Machine{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "m1", Labels: map[string]string{clusterv1.ClusterNameLabel: "c1"}},
		Spec: clusterv1.MachineSpec{
			ClusterName: "c1",
			Bootstrap: clusterv1.Bootstrap{ConfigRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: bootstrapv1.GroupVersion.Group, Kind: "GcoreConfig", Name: "m1",
			}},
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: infrav1.GroupVersion.Group, Kind: "GcoreMachine", Name: "m1-infra",
			},
		},
	}
	must(t, c.Create(ctx, f.machine))
	if o.skipConfig {
		return f
	}
	f.config = &bootstrapv1.GcoreConfig{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: f.ns, Name: "m1",
			Labels: map[string]string{clusterv1.ClusterNameLabel: "c1"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: clusterv1.GroupVersion.String(), Kind: "Machine", Name: "m1", UID: f.machine.UID,
			}},
		},
		Spec: o.spec,
	}
	must(t, c.Create(ctx, f.config))
	return f
}

func setClusterStatus(t *testing.T, c client.Client, cl *clusterv1.Cluster, infra, cp bool) {
	t.Helper()
	cl.Status.Initialization = clusterv1.ClusterInitializationStatus{
		InfrastructureProvisioned: ptr.To(infra),
		ControlPlaneInitialized:   ptr.To(cp),
	}
	must(t, c.Status().Update(context.Background(), cl))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) key() types.NamespacedName {
	return types.NamespacedName{Namespace: f.ns, Name: "m1"}
}

func (f *fixture) reconcile(t *testing.T, r *GcoreConfigReconciler) (ctrl.Result, error) {
	t.Helper()
	return r.Reconcile(context.Background(), ctrl.Request{NamespacedName: f.key()})
}

// settle reconciles until the Paused condition is in place (the first pass only sets it) and
// returns the result of the pass that did the work.
func (f *fixture) settle(t *testing.T, r *GcoreConfigReconciler) (ctrl.Result, error) {
	t.Helper()
	cfg := f.get(t)
	if !conditions.Has(cfg, clusterv1.PausedCondition) {
		if _, err := f.reconcile(t, r); err != nil {
			t.Fatalf("first reconcile: %v", err)
		}
	}
	return f.reconcile(t, r)
}

func (f *fixture) get(t *testing.T) *bootstrapv1.GcoreConfig {
	t.Helper()
	cfg := &bootstrapv1.GcoreConfig{}
	must(t, f.c.Get(context.Background(), f.key(), cfg))
	return cfg
}

func newReconciler(c client.Client) *GcoreConfigReconciler {
	return &GcoreConfigReconciler{Client: c, Workload: workloadclient.Static{C: c}}
}

func dataSecret(t *testing.T, c client.Client, f *fixture) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	must(t, c.Get(context.Background(), f.key(), s))
	return s
}

func tokenSecret(t *testing.T, c client.Client, data *corev1.Secret) (*corev1.Secret, error) {
	t.Helper()
	tok, err := parseBootstrapToken(string(data.Data[DataSecretTokenKey]))
	must(t, err)
	s := &corev1.Secret{}
	err = c.Get(context.Background(), tok.secretKey(), s)
	return s, err
}

// userData is the parsed user-data: write_files by path, runcmd, and the JoinConfiguration.
type userData struct {
	files  map[string]string
	runcmd []string
	join   struct {
		Discovery struct {
			BootstrapToken struct {
				APIServerEndpoint string   `json:"apiServerEndpoint"`
				Token             string   `json:"token"`
				CACertHashes      []string `json:"caCertHashes"`
			} `json:"bootstrapToken"`
		} `json:"discovery"`
		NodeRegistration struct {
			KubeletExtraArgs []struct{ Name, Value string } `json:"kubeletExtraArgs"`
		} `json:"nodeRegistration"`
	}
}

func parseUserData(t *testing.T, value []byte) userData {
	t.Helper()
	if !strings.HasPrefix(string(value), "#cloud-config\n") {
		t.Fatalf("user-data does not start with #cloud-config")
	}
	var cc struct {
		WriteFiles []struct{ Path, Content string } `json:"write_files"`
		RunCmd     []string                         `json:"runcmd"`
	}
	must(t, yaml.Unmarshal(value, &cc))
	u := userData{files: map[string]string{}, runcmd: cc.RunCmd}
	for _, f := range cc.WriteFiles {
		u.files[f.Path] = f.Content
	}
	must(t, yaml.Unmarshal([]byte(u.files[cloudinit.JoinConfigPath]), &u.join))
	return u
}

func (u userData) kubeletArg(name string) string {
	for _, a := range u.join.NodeRegistration.KubeletExtraArgs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func checkCondition(t *testing.T, cfg *bootstrapv1.GcoreConfig, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	cond := conditions.Get(cfg, typ)
	if cond == nil {
		t.Fatalf("no %s condition in %+v", typ, cfg.Status.Conditions)
	}
	if cond.Status != status || cond.Reason != reason {
		t.Errorf("%s = %s/%s (%s), want %s/%s", typ, cond.Status, cond.Reason, cond.Message, status, reason)
	}
}

func testHappyPath(t *testing.T, c client.Client) {
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true, spec: bootstrapv1.GcoreConfigSpec{
		NodeLabels:       map[string]string{"pool": "a"},
		KubeletExtraArgs: map[string]string{"max-pods": "40"},
		PreJoinCommands:  []string{"echo pre"},
	}})
	r := newReconciler(c)
	r.TokenTTL = time.Hour
	start := time.Now()
	res, err := f.settle(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > 20*time.Minute+time.Second {
		t.Errorf("RequeueAfter = %v, want about TTL/3 (20m) to look at the token again", res.RequeueAfter)
	}

	cfg := f.get(t)
	if ptr.Deref(cfg.Status.DataSecretName, "") != "m1" {
		t.Errorf("status.dataSecretName = %v", cfg.Status.DataSecretName)
	}
	if !ptr.Deref(cfg.Status.Initialization.DataSecretCreated, false) {
		t.Error("status.initialization.dataSecretCreated is not true")
	}
	if cfg.Status.ObservedGeneration != cfg.Generation {
		t.Errorf("observedGeneration = %d, generation %d", cfg.Status.ObservedGeneration, cfg.Generation)
	}
	checkCondition(t, cfg, bootstrapv1.ReadyCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)

	ds := dataSecret(t, c, f)
	if ds.Type != clusterv1.ClusterSecretType {
		t.Errorf("data secret type %q", ds.Type)
	}
	if ds.Labels[clusterv1.ClusterNameLabel] != "c1" {
		t.Errorf("data secret labels %v", ds.Labels)
	}
	owner := metav1.GetControllerOf(ds)
	if owner == nil || owner.Kind != "GcoreConfig" || owner.Name != "m1" || owner.UID != cfg.UID ||
		owner.APIVersion != bootstrapv1.GroupVersion.String() {
		t.Errorf("data secret controller = %+v, want GcoreConfig m1 %s", owner, cfg.UID)
	}
	if string(ds.Data["format"]) != "cloud-config" {
		t.Errorf("format = %q", ds.Data["format"])
	}
	tok, err := parseBootstrapToken(string(ds.Data[DataSecretTokenKey]))
	must(t, err)

	u := parseUserData(t, ds.Data["value"])
	bt := u.join.Discovery.BootstrapToken
	if bt.APIServerEndpoint != endpointHost+":6443" {
		t.Errorf("apiServerEndpoint = %q", bt.APIServerEndpoint)
	}
	if bt.Token != tok.String() {
		t.Error("the user-data's token is not the one kept in the data secret")
	}
	if !slices.Equal(bt.CACertHashes, f.caHash) {
		t.Errorf("caCertHashes = %v, want %v", bt.CACertHashes, f.caHash)
	}
	if got := u.kubeletArg("node-labels"); got != "node.kaas.sandbox/type=vm,pool=a" {
		t.Errorf("node-labels = %q", got)
	}
	if got := u.kubeletArg("max-pods"); got != "40" {
		t.Errorf("max-pods = %q", got)
	}
	if !slices.Contains(u.runcmd, "echo pre") {
		t.Errorf("runcmd lacks the pre-join command: %v", u.runcmd)
	}

	ts, err := tokenSecret(t, c, ds)
	must(t, err)
	if ts.Namespace != "kube-system" || ts.Name != "bootstrap-token-"+tok.ID {
		t.Errorf("token secret %s/%s", ts.Namespace, ts.Name)
	}
	if ts.Type != "bootstrap.kubernetes.io/token" {
		t.Errorf("token secret type %q", ts.Type)
	}
	for k, want := range map[string]string{
		"token-id":                       tok.ID,
		"token-secret":                   tok.Secret,
		"usage-bootstrap-authentication": "true",
		"usage-bootstrap-signing":        "true",
		"auth-extra-groups":              "system:bootstrappers:kubeadm:default-node-token",
	} {
		if got := string(ts.Data[k]); got != want {
			t.Errorf("token secret %s = %q, want %q", k, got, want)
		}
	}
	exp, err := time.Parse(time.RFC3339, string(ts.Data["expiration"]))
	must(t, err)
	if exp.Before(start.Add(time.Hour-time.Minute)) || exp.After(time.Now().Add(time.Hour+time.Minute)) {
		t.Errorf("expiration %v, want about now+1h", exp)
	}

	// The token's secret part is nowhere in the config.
	raw, err := json.Marshal(cfg)
	must(t, err)
	if strings.Contains(string(raw), tok.Secret) {
		t.Error("the GcoreConfig carries the token secret")
	}

	// A second reconcile changes nothing.
	rvs := []string{cfg.ResourceVersion, ds.ResourceVersion, ts.ResourceVersion}
	if _, err := f.reconcile(t, r); err != nil {
		t.Fatal(err)
	}
	ts2, err := tokenSecret(t, c, ds)
	must(t, err)
	again := []string{f.get(t).ResourceVersion, dataSecret(t, c, f).ResourceVersion, ts2.ResourceVersion}
	if !slices.Equal(rvs, again) {
		t.Errorf("second reconcile changed resourceVersions (config, data secret, token): %v -> %v", rvs, again)
	}
}

func testWaits(t *testing.T, c client.Client) {
	ctx := context.Background()
	f := newFixture(t, c, fixtureOpts{infraProvisioned: false})
	r := newReconciler(c)
	res, err := f.settle(t, r)
	must(t, err)
	if res.RequeueAfter <= 0 {
		t.Error("a waiting config is not requeued")
	}
	checkCondition(t, f.get(t), bootstrapv1.DataSecretAvailableCondition, metav1.ConditionFalse, bootstrapv1.WaitingForClusterReason)
	checkCondition(t, f.get(t), bootstrapv1.ReadyCondition, metav1.ConditionFalse, bootstrapv1.WaitingForClusterReason)

	setClusterStatus(t, c, f.cluster, true, false)
	res, err = f.reconcile(t, r)
	must(t, err)
	if res.RequeueAfter <= 0 {
		t.Error("a waiting config is not requeued")
	}
	cfg := f.get(t)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionFalse, bootstrapv1.WaitingForControlPlaneReason)
	if cfg.Status.DataSecretName != nil || cfg.Status.Initialization.DataSecretCreated != nil {
		t.Errorf("status of a waiting config: %+v", cfg.Status)
	}
	if err := c.Get(ctx, f.key(), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("data secret of a waiting config: %v", err)
	}

	// Control plane initialized but no CA yet: still waiting for the control plane.
	setClusterStatus(t, c, f.cluster, true, true)
	must(t, c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "c1-ca"}}))
	_, err = f.reconcile(t, r)
	must(t, err)
	cfg = f.get(t)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionFalse, bootstrapv1.WaitingForControlPlaneReason)
	if msg := conditions.GetMessage(cfg, bootstrapv1.DataSecretAvailableCondition); !strings.Contains(msg, "c1-ca") {
		t.Errorf("message %q does not name the CA secret", msg)
	}
}

func testBareMetal(t *testing.T, c client.Client) {
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true, machineType: infrav1.MachineTypeBareMetal})
	_, err := f.settle(t, newReconciler(c))
	must(t, err)
	u := parseUserData(t, dataSecret(t, c, f).Data["value"])
	if got := u.kubeletArg("node-labels"); got != "node.kaas.sandbox/type=baremetal" {
		t.Errorf("node-labels = %q", got)
	}
}

func expiration(t *testing.T, s *corev1.Secret) time.Time {
	t.Helper()
	exp, err := time.Parse(time.RFC3339, string(s.Data[bootstrapapi.BootstrapTokenExpirationKey]))
	must(t, err)
	return exp
}

func testTokenRenewal(t *testing.T, c client.Client) {
	ctx := context.Background()
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true})
	r := newReconciler(c)
	r.TokenTTL = 30 * time.Minute
	t0 := time.Now().Truncate(time.Second)
	now := t0
	r.now = func() time.Time { return now }

	res, err := f.settle(t, r)
	must(t, err)
	if res.RequeueAfter != 10*time.Minute {
		t.Errorf("RequeueAfter = %v, want 10m (when 2/3 of the TTL remain)", res.RequeueAfter)
	}
	ds := dataSecret(t, c, f)
	ts, err := tokenSecret(t, c, ds)
	must(t, err)
	if got := expiration(t, ts); !got.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("expiration = %v, want %v", got, t0.Add(30*time.Minute))
	}

	// 5 minutes on, 25 of 30 remain: nothing to do yet; look again in 5 minutes.
	now = t0.Add(5 * time.Minute)
	res, err = f.reconcile(t, r)
	must(t, err)
	if res.RequeueAfter != 5*time.Minute {
		t.Errorf("RequeueAfter = %v, want 5m", res.RequeueAfter)
	}
	ts2, err := tokenSecret(t, c, ds)
	must(t, err)
	if ts2.ResourceVersion != ts.ResourceVersion {
		t.Error("token changed with more than 2/3 of its TTL left")
	}

	// 11 minutes on, 19 of 30 remain (< 2/3): extended to now+TTL.
	now = t0.Add(11 * time.Minute)
	res, err = f.reconcile(t, r)
	must(t, err)
	ts3, err := tokenSecret(t, c, ds)
	must(t, err)
	if got, want := expiration(t, ts3), now.Add(30*time.Minute); !got.Equal(want) {
		t.Errorf("renewed expiration = %v, want %v", got, want)
	}
	if string(ts3.Data["token-secret"]) != string(ts.Data["token-secret"]) {
		t.Error("renewal changed the token")
	}
	if res.RequeueAfter != 10*time.Minute {
		t.Errorf("RequeueAfter after renewal = %v, want 10m", res.RequeueAfter)
	}

	// An expiration that cannot be read is repaired.
	before := ts3.DeepCopy()
	ts3.Data["expiration"] = []byte("soon")
	must(t, c.Patch(ctx, ts3, client.MergeFrom(before)))
	_, err = f.reconcile(t, r)
	must(t, err)
	ts4, err := tokenSecret(t, c, ds)
	must(t, err)
	if got, want := expiration(t, ts4), now.Add(30*time.Minute); !got.Equal(want) {
		t.Errorf("repaired expiration = %v, want %v", got, want)
	}

	// Once the node has joined, the token is left to expire: no renewal, no recreation.
	m := &clusterv1.Machine{}
	must(t, c.Get(ctx, client.ObjectKeyFromObject(f.machine), m))
	m.Status.NodeRef = clusterv1.MachineNodeReference{Name: "node-1"}
	must(t, c.Status().Update(ctx, m))
	now = t0.Add(35 * time.Minute)
	res, err = f.reconcile(t, r)
	must(t, err)
	if res.RequeueAfter != 0 {
		t.Errorf("RequeueAfter = %v after the node joined, want none", res.RequeueAfter)
	}
	ts5, err := tokenSecret(t, c, ds)
	must(t, err)
	if ts5.ResourceVersion != ts4.ResourceVersion {
		t.Error("the token was touched after the node joined")
	}
	must(t, c.Delete(ctx, ts5))
	_, err = f.reconcile(t, r)
	must(t, err)
	if _, err := tokenSecret(t, c, ds); !apierrors.IsNotFound(err) {
		t.Errorf("token recreated after the node joined (get: %v)", err)
	}
	checkCondition(t, f.get(t), bootstrapv1.ReadyCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)
}

func testTokenRecreation(t *testing.T, c client.Client) {
	ctx := context.Background()
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true})
	r := newReconciler(c)
	_, err := f.settle(t, r)
	must(t, err)
	ds := dataSecret(t, c, f)
	ts, err := tokenSecret(t, c, ds)
	must(t, err)
	must(t, c.Delete(ctx, ts))

	_, err = f.reconcile(t, r)
	must(t, err)
	again, err := tokenSecret(t, c, ds)
	if err != nil {
		t.Fatalf("token not recreated: %v", err)
	}
	if again.UID == ts.UID {
		t.Error("the token secret was not recreated")
	}
	for _, k := range []string{"token-id", "token-secret"} {
		if string(again.Data[k]) != string(ts.Data[k]) {
			t.Errorf("recreated token has another %s", k)
		}
	}
	if dataSecret(t, c, f).ResourceVersion != ds.ResourceVersion {
		t.Error("the data secret changed")
	}
}

// failingWorkload stands for an unreachable workload cluster.
type failingWorkload struct{}

func (failingWorkload) Client(context.Context, types.NamespacedName) (client.Client, error) {
	return nil, errors.New("dial tcp 203.0.113.10:6443: connection refused")
}

func testWorkloadError(t *testing.T, c client.Client) {
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true})
	r := newReconciler(c)
	r.Workload = failingWorkload{}
	_, err := f.settle(t, r)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want the workload error", err)
	}
	cfg := f.get(t)
	checkCondition(t, cfg, bootstrapv1.ReadyCondition, metav1.ConditionFalse, bootstrapv1.TokenErrorReason)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionFalse, bootstrapv1.TokenErrorReason)
	if msg := conditions.GetMessage(cfg, bootstrapv1.ReadyCondition); !strings.Contains(msg, "connection refused") {
		t.Errorf("Ready message %q lacks the error", msg)
	}
	if cfg.Status.Initialization.DataSecretCreated != nil || cfg.Status.DataSecretName != nil {
		t.Errorf("data secret reported before its token exists: %+v", cfg.Status)
	}
	firstToken := string(dataSecret(t, c, f).Data[DataSecretTokenKey])

	// The cluster comes back: the token kept in the data secret is created, the config is ready.
	r.Workload = workloadclient.Static{C: c}
	_, err = f.reconcile(t, r)
	must(t, err)
	cfg = f.get(t)
	checkCondition(t, cfg, bootstrapv1.ReadyCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)
	ds := dataSecret(t, c, f)
	if string(ds.Data[DataSecretTokenKey]) != firstToken {
		t.Error("the token changed between reconciles")
	}
	if _, err := tokenSecret(t, c, ds); err != nil {
		t.Errorf("token secret: %v", err)
	}

	// Losing the cluster again later: the data secret stays available, Ready says why not.
	r.Workload = failingWorkload{}
	ts, _ := tokenSecret(t, c, ds)
	must(t, c.Delete(context.Background(), ts))
	if _, err := f.reconcile(t, r); err == nil {
		t.Fatal("no error from an unreachable workload cluster")
	}
	cfg = f.get(t)
	checkCondition(t, cfg, bootstrapv1.ReadyCondition, metav1.ConditionFalse, bootstrapv1.TokenErrorReason)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)
}

func testPaused(t *testing.T, c client.Client) {
	ctx := context.Background()
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true})
	f.cluster.Spec.Paused = ptr.To(true)
	must(t, c.Update(ctx, f.cluster))
	r := newReconciler(c)
	for range 2 {
		_, err := f.reconcile(t, r)
		must(t, err)
	}
	cfg := f.get(t)
	checkCondition(t, cfg, clusterv1.PausedCondition, metav1.ConditionTrue, clusterv1.PausedReason)
	if conditions.Has(cfg, bootstrapv1.ReadyCondition) {
		t.Error("a paused config was reconciled")
	}
	if err := c.Get(ctx, f.key(), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("data secret of a paused config: %v", err)
	}

	// The paused annotation on the config pauses it too.
	must(t, c.Get(ctx, client.ObjectKeyFromObject(f.cluster), f.cluster))
	f.cluster.Spec.Paused = ptr.To(false)
	must(t, c.Update(ctx, f.cluster))
	cfg.Annotations = map[string]string{clusterv1.PausedAnnotation: ""}
	must(t, c.Update(ctx, cfg))
	_, err := f.reconcile(t, r)
	must(t, err)
	if err := c.Get(ctx, f.key(), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("data secret of a paused config: %v", err)
	}

	cfg = f.get(t)
	delete(cfg.Annotations, clusterv1.PausedAnnotation)
	must(t, c.Update(ctx, cfg))
	_, err = f.settle(t, r)
	must(t, err)
	_, err = f.reconcile(t, r)
	must(t, err)
	cfg = f.get(t)
	checkCondition(t, cfg, clusterv1.PausedCondition, metav1.ConditionFalse, clusterv1.NotPausedReason)
	checkCondition(t, cfg, bootstrapv1.ReadyCondition, metav1.ConditionTrue, bootstrapv1.ReadyReason)
}

func testInvalidSpec(t *testing.T, c client.Client) {
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true, spec: bootstrapv1.GcoreConfigSpec{
		NodeLabels: map[string]string{"node-role.kubernetes.io/worker": ""},
	}})
	res, err := f.settle(t, newReconciler(c))
	must(t, err)
	if res.RequeueAfter != 0 {
		t.Errorf("an invalid config is requeued every %v; it should wait for a change", res.RequeueAfter)
	}
	cfg := f.get(t)
	checkCondition(t, cfg, bootstrapv1.DataSecretAvailableCondition, metav1.ConditionFalse, InvalidConfigReason)
	if msg := conditions.GetMessage(cfg, bootstrapv1.DataSecretAvailableCondition); !strings.Contains(msg, "node-role.kubernetes.io/worker") {
		t.Errorf("message %q does not name the label", msg)
	}
	if err := c.Get(context.Background(), f.key(), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("data secret of an invalid config: %v", err)
	}
}

func testForeignSecret(t *testing.T, c client.Client) {
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: true})
	must(t, c.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "m1"},
		Data:       map[string][]byte{"value": []byte("someone else's")},
	}))
	_, err := f.settle(t, newReconciler(c))
	if err == nil || !strings.Contains(err.Error(), "not controlled by GcoreConfig m1") {
		t.Fatalf("err = %v", err)
	}
	checkCondition(t, f.get(t), bootstrapv1.ReadyCondition, metav1.ConditionFalse, DataSecretConflictReason)
	if got := string(dataSecret(t, c, f).Data["value"]); got != "someone else's" {
		t.Errorf("the foreign secret was overwritten: %q", got)
	}
}

func testMapFuncs(t *testing.T, c client.Client) {
	ctx := context.Background()
	f := newFixture(t, c, fixtureOpts{})
	r := newReconciler(c)
	want := []ctrl.Request{{NamespacedName: f.key()}}
	if got := machineToConfig(ctx, f.machine); !slices.Equal(got, want) {
		t.Errorf("machineToConfig = %v, want %v", got, want)
	}
	other := f.machine.DeepCopy()
	other.Spec.Bootstrap.ConfigRef.Kind = "KubeadmConfig"
	if got := machineToConfig(ctx, other); len(got) != 0 {
		t.Errorf("machineToConfig of a KubeadmConfig machine = %v", got)
	}
	if got := r.clusterToConfigs(ctx, f.cluster); !slices.Equal(got, want) {
		t.Errorf("clusterToConfigs = %v, want %v", got, want)
	}
	if got := r.clusterToConfigs(ctx, &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "other"}}); len(got) != 0 {
		t.Errorf("clusterToConfigs of another cluster = %v", got)
	}
}

// testManager runs the controller in a manager: a config waits for its control plane and
// moves on when the Cluster says it is initialized (through the Cluster watch, well before
// the 20s requeue).
func testManager(t *testing.T, env *testenv.Env, s *runtime.Scheme) {
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  s,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	must(t, err)
	r := &GcoreConfigReconciler{Client: mgr.GetClient(), Workload: workloadclient.Static{C: env.Client}}
	ctx, cancel := context.WithCancel(context.Background())
	must(t, r.SetupWithManager(ctx, mgr, controller.Options{SkipNameValidation: ptr.To(true)}))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	c := env.Client
	f := newFixture(t, c, fixtureOpts{infraProvisioned: true, cpInitialized: false})
	waitFor(t, 15*time.Second, "WaitingForControlPlane", func() bool {
		cfg := f.get(t)
		return conditions.GetReason(cfg, bootstrapv1.DataSecretAvailableCondition) == bootstrapv1.WaitingForControlPlaneReason
	})
	must(t, c.Get(context.Background(), client.ObjectKeyFromObject(f.cluster), f.cluster))
	setClusterStatus(t, c, f.cluster, true, true)
	waitFor(t, 10*time.Second, "the config to be ready", func() bool {
		cfg := f.get(t)
		return ptr.Deref(cfg.Status.Initialization.DataSecretCreated, false) &&
			conditions.IsTrue(cfg, bootstrapv1.ReadyCondition)
	})
	dataSecret(t, c, f)
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
