package vpn

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func testKeys(t *testing.T) *PKI {
	t.Helper()
	data, changed, err := mendPKI(nil, time.Now())
	if err != nil || !changed {
		t.Fatalf("mendPKI(nil): changed %v, %v", changed, err)
	}
	return &PKI{CACert: data[CACertKey], ServerCert: data[ServerCertKey], ServerKey: data[ServerKeyKey],
		ClientCert: data[ClientCertKey], ClientKey: data[ClientKeyKey], TLSCrypt: data[TLSCryptKey]}
}

func cert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMendPKI(t *testing.T) {
	now := time.Now()
	data, changed, err := mendPKI(nil, now)
	if err != nil || !changed {
		t.Fatalf("first mend: changed %v, err %v", changed, err)
	}
	for _, k := range []string{CACertKey, CAKeyKey, ServerCertKey, ServerKeyKey, ClientCertKey, ClientKeyKey, TLSCryptKey} {
		if len(data[k]) == 0 {
			t.Errorf("key %s is empty", k)
		}
	}
	ca := cert(t, data[CACertKey])
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for key, want := range map[string]struct {
		cn    string
		usage x509.ExtKeyUsage
	}{ServerCertKey: {ServerCommonName, x509.ExtKeyUsageServerAuth}, ClientCertKey: {ClientCommonName, x509.ExtKeyUsageClientAuth}} {
		c := cert(t, data[key])
		if c.Subject.CommonName != want.cn {
			t.Errorf("%s: CN %q, want %q", key, c.Subject.CommonName, want.cn)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{want.usage}}); err != nil {
			t.Errorf("%s does not verify for its usage: %v", key, err)
		}
	}
	if !validStaticKey(data[TLSCryptKey]) {
		t.Errorf("tls-crypt key is not OpenVPN's static key format:\n%s", data[TLSCryptKey])
	}

	// Nothing to do the second time.
	again, changed, err := mendPKI(data, now)
	if err != nil || changed || string(again[ServerCertKey]) != string(data[ServerCertKey]) {
		t.Fatalf("second mend changed something (changed %v, err %v)", changed, err)
	}
	// A leaf close to its expiry is issued again; the authority and the other leaf stay.
	later, changed, err := mendPKI(data, now.Add(leafLifetime-renewBefore+time.Hour))
	if err != nil || !changed {
		t.Fatalf("mend near expiry: changed %v, err %v", changed, err)
	}
	if string(later[CACertKey]) != string(data[CACertKey]) || string(later[ServerCertKey]) == string(data[ServerCertKey]) {
		t.Error("near expiry: want the same authority and new leaves")
	}
	// A leaf of another authority is replaced; a broken authority replaces everything.
	other, _, _ := mendPKI(nil, now)
	mixed := map[string][]byte{}
	for k, v := range data {
		mixed[k] = v
	}
	mixed[ClientCertKey], mixed[ClientKeyKey] = other[ClientCertKey], other[ClientKeyKey]
	fixed, changed, _ := mendPKI(mixed, now)
	if !changed || string(fixed[ClientCertKey]) == string(other[ClientCertKey]) || string(fixed[ServerCertKey]) != string(data[ServerCertKey]) {
		t.Error("a foreign client certificate was kept, or the good server certificate was replaced")
	}
	mixed[CAKeyKey] = []byte("garbage")
	fresh, _, _ := mendPKI(mixed, now)
	if string(fresh[CACertKey]) == string(data[CACertKey]) || string(fresh[ServerCertKey]) == string(data[ServerCertKey]) {
		t.Error("a broken authority was kept")
	}
}

func TestEnsurePKIWritesOnce(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	c := fake.NewClientBuilder().WithScheme(s).Build()
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "o", UID: "u"}
	first, err := EnsurePKI(context.Background(), c, "alpha", "ns", owner)
	if err != nil {
		t.Fatal(err)
	}
	var sec corev1.Secret
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "alpha-vpn"}, &sec); err != nil {
		t.Fatal(err)
	}
	rv := sec.ResourceVersion
	second, err := EnsurePKI(context.Background(), c, "alpha", "ns", owner)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "alpha-vpn"}, &sec)
	if sec.ResourceVersion != rv || string(first.ClientCert) != string(second.ClientCert) {
		t.Error("a second EnsurePKI rewrote the Secret")
	}
	if sec.Labels["cluster.x-k8s.io/cluster-name"] != "alpha" || len(sec.OwnerReferences) != 1 {
		t.Errorf("labels %v owners %v", sec.Labels, sec.OwnerReferences)
	}
}

var testNetworks = Networks{Nodes: []string{"10.6.0.0/24"}, Pods: []string{"10.244.0.0/16"}, Services: []string{"10.96.0.0/12"}}

func TestConfigs(t *testing.T) {
	k := testKeys(t)
	srv, err := ServerConfig(k, DefaultTransferCIDR)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"proto tcp-server", "topology subnet", "server 100.127.255.0 255.255.255.0", "keepalive 2 8",
		"duplicate-cn", "verify-x509-name kaas-vpn-client name", "dh none", "status /run/kaas-vpn/status", "<tls-crypt>\n-----BEGIN OpenVPN Static key V1-----"} {
		if !strings.Contains(srv, want) {
			t.Errorf("server.conf lacks %q", want)
		}
	}
	if strings.Contains(srv, "client-to-client") || strings.Contains(srv, "push ") {
		t.Error("server.conf lets clients talk to each other or pushes something")
	}
	cli, err := ClientConfig(k, "172.24.4.7", testNetworks, DefaultTransferCIDR)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"remote 172.24.4.7 1194", "proto tcp-client", "connect-retry 1 2", "remote-cert-tls server",
		"verify-x509-name kaas-vpn-server name", "setenv KAAS_VPN_ROUTES 10.6.0.0/24,10.244.0.0/16,10.96.0.0/12",
		"setenv KAAS_VPN_TRANSFER 100.127.255.0/24", `up "/usr/local/bin/kaas-vpn up"`, `down "/usr/local/bin/kaas-vpn down"`} {
		if !strings.Contains(cli, want) {
			t.Errorf("client.conf lacks %q", want)
		}
	}
	// The gateway is accepted before routes are ignored (the first matching filter wins).
	gw, routes := strings.Index(cli, `pull-filter accept "route-gateway "`), strings.Index(cli, `pull-filter ignore "route"`)
	if gw < 0 || routes < 0 || gw > routes || !strings.Contains(cli, `pull-filter ignore "redirect-gateway"`) || !strings.Contains(cli, `pull-filter ignore "dhcp-option"`) {
		t.Errorf("client.conf's pull filters are wrong:\n%s", cli)
	}
	if strings.Contains(cli, "persist-tun") {
		t.Error("persist-tun keeps the routes through a dead tunnel: requests would hang, not fail")
	}
	for _, bad := range []struct {
		remote, transfer string
		n                Networks
	}{{"not-an-ip", DefaultTransferCIDR, testNetworks}, {"172.24.4.7", "x", testNetworks}, {"172.24.4.7", DefaultTransferCIDR, Networks{Pods: []string{"10.244.0.0/16"}}}} {
		if _, err := ClientConfig(k, bad.remote, bad.n, bad.transfer); err == nil {
			t.Errorf("ClientConfig(%q, %v, %q): no error", bad.remote, bad.n, bad.transfer)
		}
	}
}

func TestOverlaps(t *testing.T) {
	reserved := []Reserved{{Name: "the tunnel's transfer network", CIDR: DefaultTransferCIDR}, {Name: "the service cluster's Service network", CIDR: "100.64.0.0/16"}, {Name: "node x", CIDR: "172.18.0.2/32"}}
	if o := Overlaps(testNetworks, reserved); len(o) != 0 {
		t.Errorf("the defaults overlap: %v", o)
	}
	bad := Networks{Nodes: []string{"172.18.0.0/16"}, Pods: []string{"100.64.0.0/10"}, Services: []string{"10.96.0.0/12"}}
	o := Overlaps(bad, reserved)
	if len(o) != 3 {
		t.Fatalf("want 3 overlaps (nodes/node x, pods/transfer, pods/services), got %v", o)
	}
	err := OverlapError(bad, reserved)
	if err == nil || !strings.Contains(err.Error(), "the customer's pod network 100.64.0.0/10 overlaps the service cluster's Service network 100.64.0.0/16") {
		t.Errorf("error does not name both ranges: %v", err)
	}
}

func TestServerObjects(t *testing.T) {
	k := testKeys(t)
	objs, err := ServerObjects(ServerParams{PKI: k, Networks: testNetworks})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("want Secret, Service, Deployment; got %d objects", len(objs))
	}
	dep := objs[2].(*appsv1.Deployment)
	pod := dep.Spec.Template.Spec
	if !*pod.InitContainers[0].SecurityContext.Privileged {
		t.Error("the init container must be privileged to turn forwarding on")
	}
	main := pod.Containers[0]
	if main.SecurityContext.Privileged != nil || len(main.SecurityContext.Capabilities.Add) != 1 || main.SecurityContext.Capabilities.Add[0] != "NET_ADMIN" {
		t.Errorf("the server container wants exactly NET_ADMIN: %+v", main.SecurityContext)
	}
	if main.ReadinessProbe == nil || main.ReadinessProbe.Exec.Command[1] != "ready" {
		t.Error("no readiness from the status file")
	}
	if pod.Volumes[1].HostPath == nil || pod.Volumes[1].HostPath.Path != "/dev/net/tun" {
		t.Error("no /dev/net/tun")
	}
	h := dep.Annotations[ConfigHashAnnotation]
	if h == "" || dep.Spec.Template.Annotations[ConfigHashAnnotation] != h || objs[0].GetAnnotations()[ConfigHashAnnotation] != h {
		t.Error("every object and the pod template carry the same hash")
	}
	other, _ := ServerObjects(ServerParams{PKI: k, Networks: Networks{Nodes: []string{"10.6.1.0/24"}, Pods: testNetworks.Pods, Services: testNetworks.Services}})
	if other[2].GetAnnotations()[ConfigHashAnnotation] == h {
		t.Error("the hash does not follow the networks")
	}

	// Stale: all missing at first, none once applied, the changed one after an edit.
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	c := fake.NewClientBuilder().WithScheme(s).Build()
	ctx := context.Background()
	stale, err := Stale(ctx, c, objs)
	if err != nil || len(stale) != 3 {
		t.Fatalf("Stale on an empty cluster: %d, %v", len(stale), err)
	}
	for _, o := range objs {
		if err := c.Create(ctx, o.DeepCopyObject().(client.Object)); err != nil {
			t.Fatal(err)
		}
	}
	if stale, _ := Stale(ctx, c, objs); len(stale) != 0 {
		t.Errorf("Stale after applying: %d", len(stale))
	}
	if stale, _ := Stale(ctx, c, other); len(stale) != 3 {
		t.Errorf("Stale after the networks changed: %d, want 3", len(stale))
	}
	var live appsv1.Deployment
	_ = c.Get(ctx, client.ObjectKeyFromObject(objs[2]), &live)
	live.Spec.Replicas = new(int32)
	if err := c.Update(ctx, &live); err != nil {
		t.Fatal(err)
	}
	if stale, _ := Stale(ctx, c, objs); len(stale) != 1 || stale[0].GetObjectKind().GroupVersionKind().Kind != "Deployment" {
		t.Errorf("Stale after the customer scaled the server to 0: %v", stale)
	}
	live.Spec.Replicas = nil
	_ = c.Update(ctx, &live)
	if err := c.Delete(ctx, objs[1].DeepCopyObject().(client.Object)); err != nil {
		t.Fatal(err)
	}
	if stale, _ := Stale(ctx, c, objs); len(stale) != 1 || stale[0].GetObjectKind().GroupVersionKind().Kind != "Service" {
		t.Errorf("Stale after the customer deleted the Service: %v", stale)
	}
}

func TestClientContainer(t *testing.T) {
	c := Client{Cluster: "alpha", Config: "conf", Networks: testNetworks}
	ctr, vols := c.Container()
	if ctr.ReadinessProbe != nil {
		t.Error("the client must not hold the apiserver pod's readiness")
	}
	if ctr.Env[0].Value != "10.6.0.0/24,10.244.0.0/16,10.96.0.0/12" || ctr.Args[0] != "client" {
		t.Errorf("client env %v args %v", ctr.Env, ctr.Args)
	}
	if vols[0].Secret.SecretName != "alpha-vpn-client" || c.Secret("ns", nil).Data["client.conf"] == nil {
		t.Error("the client mounts its Secret")
	}
}

// The image tag the provider names is the one hack/images/addons.sh builds.
func TestImageTagMatchesBuild(t *testing.T) {
	script, err := os.ReadFile("../../hack/images/addons.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^OPENVPN_TAG=(\S+)$`).FindSubmatch(script)
	if m == nil || "kaas.local/openvpn:"+string(m[1]) != Image {
		t.Errorf("hack/images/addons.sh builds kaas.local/openvpn:%s, providers/vpn runs %s", m, Image)
	}
}
