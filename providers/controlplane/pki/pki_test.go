package pki

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"maps"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

const (
	testCluster = "c1"
	testNS      = "ns1"
)

var testOwner = metav1.OwnerReference{APIVersion: "controlplane.cluster.x-k8s.io/v1alpha1", Kind: "GcoreControlPlane", Name: testCluster, UID: "uid-1"}

func testParams() Params {
	return Params{
		ClusterName:  testCluster,
		Namespace:    testNS,
		Endpoint:     clusterv1.APIEndpoint{Host: "203.0.113.10", Port: 6443},
		ServiceCIDRs: []string{"10.96.0.0/12"},
		DNSDomain:    "cluster.local",
	}
}

// writeCounter is a fake client that counts the writes made through it.
type writeCounter struct {
	client.Client
	writes atomic.Int32
}

func newClient(t *testing.T, objs ...client.Object) *writeCounter {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	w := &writeCounter{}
	count := func() { w.writes.Add(1) }
	w.Client = fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, o, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, o, opts...)
		},
	}).Build()
	return w
}

func ensure(t *testing.T, c client.Client, p Params) *Result {
	t.Helper()
	res, err := Ensure(context.Background(), c, p, testOwner)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return res
}

func getSecret(t *testing.T, c client.Client, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: name}, s); err != nil {
		t.Fatalf("getting Secret %s: %v", name, err)
	}
	return s
}

func certOf(t *testing.T, c client.Client, name string) *x509.Certificate {
	t.Helper()
	cert, err := certs.DecodeCertPEM(getSecret(t, c, name).Data[secret.TLSCrtDataName])
	if err != nil {
		t.Fatalf("decoding the certificate in %s: %v", name, err)
	}
	return cert
}

func allNames(n SecretNames) []string {
	return []string{n.CA, n.EtcdCA, n.ServiceAccount, n.FrontProxyCA, n.APIServer, n.APIServerKubeletClient,
		n.APIServerEtcdClient, n.FrontProxyClient, n.EtcdServer, n.EtcdPeer, n.ControllerManagerKubeconfig,
		n.SchedulerKubeconfig, n.AdminKubeconfig}
}

func resourceVersions(t *testing.T, c client.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range allNames(Names(testCluster)) {
		out[n] = getSecret(t, c, n).ResourceVersion
	}
	return out
}

func verifies(cert, ca *x509.Certificate) bool {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

func TestEnsureCreatesEverySecret(t *testing.T) {
	c := newClient(t)
	res := ensure(t, c, testParams())
	n := res.Secrets

	want := allNames(n)
	slices.Sort(want)
	if !slices.Equal(res.Written, want) {
		t.Errorf("Written = %v, want every Secret %v", res.Written, want)
	}
	for _, name := range want {
		s := getSecret(t, c, name)
		if s.Labels[clusterv1.ClusterNameLabel] != testCluster || s.Type != clusterv1.ClusterSecretType {
			t.Errorf("Secret %s: labels %v type %q, want the cluster-name label and type %s", name, s.Labels, s.Type, clusterv1.ClusterSecretType)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != testOwner.UID {
			t.Errorf("Secret %s: owner references %v, want the owner", name, s.OwnerReferences)
		}
		if res.Hashes[name] != hashData(s.Data) {
			t.Errorf("Secret %s: Result hash does not match its data", name)
		}
	}

	ca, etcdCA, proxyCA := certOf(t, c, n.CA), certOf(t, c, n.EtcdCA), certOf(t, c, n.FrontProxyCA)
	api := certOf(t, c, n.APIServer)
	wantDNS := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
		"c1-apiserver", "c1-apiserver.ns1", "c1-apiserver.ns1.svc", "localhost"}
	if !sameSet(api.DNSNames, wantDNS) {
		t.Errorf("apiserver DNS SANs = %v, want %v", api.DNSNames, wantDNS)
	}
	if got := ipStrings(api.IPAddresses); !sameSet(got, []string{"203.0.113.10", "10.96.0.1", "127.0.0.1"}) {
		t.Errorf("apiserver IP SANs = %v, want the VIP, the first service IP and 127.0.0.1", got)
	}
	if !verifies(api, ca) || !slices.Contains(api.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("apiserver certificate is not a serving certificate from the cluster CA")
	}

	kubelet := certOf(t, c, n.APIServerKubeletClient)
	if !slices.Equal(kubelet.Subject.Organization, []string{"system:masters"}) || !verifies(kubelet, ca) {
		t.Errorf("kubelet client certificate: O=%v, want system:masters from the cluster CA", kubelet.Subject.Organization)
	}
	if cl := certOf(t, c, n.APIServerEtcdClient); !verifies(cl, etcdCA) || verifies(cl, ca) || !slices.Equal(cl.ExtKeyUsage, clientUsages) {
		t.Errorf("apiserver-etcd-client must be a client certificate from the etcd CA only")
	}
	if fp := certOf(t, c, n.FrontProxyClient); fp.Subject.CommonName != "front-proxy-client" || !verifies(fp, proxyCA) {
		t.Errorf("front-proxy-client: CN %q, want front-proxy-client from the front-proxy CA", fp.Subject.CommonName)
	}
	for _, name := range []string{n.EtcdServer, n.EtcdPeer} {
		e := certOf(t, c, name)
		for _, host := range []string{"c1-etcd-0.c1-etcd.ns1.svc", "c1-etcd-2.c1-etcd.ns1.svc", "c1-etcd-4.c1-etcd.ns1.svc", "c1-etcd-client.ns1.svc", "localhost", "127.0.0.1"} {
			if err := e.VerifyHostname(host); err != nil {
				t.Errorf("%s does not cover %s: %v", name, host, err)
			}
		}
		if !verifies(e, etcdCA) || !sameSet(e.ExtKeyUsage, bothUsages) {
			t.Errorf("%s: want server+client usages from the etcd CA, got %v", name, e.ExtKeyUsage)
		}
	}

	sa := getSecret(t, c, n.ServiceAccount)
	if !strings.Contains(string(sa.Data[secret.TLSCrtDataName]), "PUBLIC KEY") {
		t.Errorf("service-account Secret has no public key under tls.crt")
	}

	// The admin kubeconfig reads back through Cluster API's own helper.
	data, err := kubeconfig.FromSecret(context.Background(), c, client.ObjectKey{Namespace: testNS, Name: testCluster})
	if err != nil {
		t.Fatalf("kubeconfig.FromSecret: %v", err)
	}
	checkKubeconfig(t, data, "https://203.0.113.10:6443", "kubernetes-admin", []string{"system:masters"}, ca)
	for name, user := range map[string]string{n.ControllerManagerKubeconfig: "system:kube-controller-manager", n.SchedulerKubeconfig: "system:kube-scheduler"} {
		checkKubeconfig(t, getSecret(t, c, name).Data[secret.KubeconfigDataName], "https://c1-apiserver.ns1.svc:6443", user, nil, ca)
	}
}

func checkKubeconfig(t *testing.T, data []byte, server, cn string, orgs []string, ca *x509.Certificate) {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatalf("kubeconfig for %s does not parse: %v", cn, err)
	}
	if cfg.Host != server {
		t.Errorf("kubeconfig for %s: server %q, want %q", cn, cfg.Host, server)
	}
	caCert, err := certs.DecodeCertPEM(cfg.CAData)
	if err != nil || !caCert.Equal(ca) {
		t.Errorf("kubeconfig for %s does not trust the cluster CA", cn)
	}
	cert, err := certs.DecodeCertPEM(cfg.CertData)
	if err != nil {
		t.Fatalf("kubeconfig for %s: client certificate: %v", cn, err)
	}
	if cert.Subject.CommonName != cn || !sameSet(cert.Subject.Organization, orgs) || !verifies(cert, ca) {
		t.Errorf("kubeconfig client certificate: CN %q O %v, want %q %v from the cluster CA", cert.Subject.CommonName, cert.Subject.Organization, cn, orgs)
	}
}

func TestEnsureTwiceWritesNothing(t *testing.T) {
	c := newClient(t)
	first := ensure(t, c, testParams())
	before := resourceVersions(t, c)
	c.writes.Store(0)

	second := ensure(t, c, testParams())
	if n := c.writes.Load(); n != 0 {
		t.Errorf("second Ensure made %d writes, want none", n)
	}
	if len(second.Written) != 0 {
		t.Errorf("second Ensure reports writing %v", second.Written)
	}
	if after := resourceVersions(t, c); !maps.Equal(before, after) {
		t.Errorf("resourceVersions changed: before %v after %v", before, after)
	}
	if !maps.Equal(first.Hashes, second.Hashes) {
		t.Errorf("hashes changed although nothing was written")
	}
}

func TestEnsureReissuesWhatNamesTheVIP(t *testing.T) {
	c := newClient(t)
	p := testParams()
	first := ensure(t, c, p)
	n := first.Secrets
	before := resourceVersions(t, c)
	caBefore := getSecret(t, c, n.CA).Data

	p.Endpoint.Host = "203.0.113.99"
	second := ensure(t, c, p)

	want := []string{n.AdminKubeconfig, n.APIServer}
	slices.Sort(want)
	if !slices.Equal(second.Written, want) {
		t.Errorf("after a VIP change Written = %v, want only %v", second.Written, want)
	}
	after := resourceVersions(t, c)
	for name, rv := range before {
		changed := after[name] != rv
		if changed != slices.Contains(want, name) {
			t.Errorf("Secret %s changed=%v, want %v", name, changed, !changed)
		}
	}
	if !maps.EqualFunc(caBefore, getSecret(t, c, n.CA).Data, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Errorf("the cluster CA changed")
	}
	api := certOf(t, c, n.APIServer)
	ips := ipStrings(api.IPAddresses)
	if !slices.Contains(ips, "203.0.113.99") || slices.Contains(ips, "203.0.113.10") {
		t.Errorf("reissued apiserver certificate IPs %v: want the new VIP and not the old", ips)
	}
	if first.Hashes[n.APIServer] == second.Hashes[n.APIServer] || first.Hashes[n.EtcdServer] != second.Hashes[n.EtcdServer] {
		t.Errorf("hashes: the apiserver's must change, etcd's must not")
	}
	data := getSecret(t, c, n.AdminKubeconfig).Data[secret.KubeconfigDataName]
	checkKubeconfig(t, data, "https://203.0.113.99:6443", "kubernetes-admin", []string{"system:masters"}, certOf(t, c, n.CA))
}

// plantCert overwrites Secret name with a client certificate for cn signed by ca, valid for
// the given time.
func plantCert(t *testing.T, c client.Client, name, caName, cn string, valid time.Duration) {
	t.Helper()
	caSecret := getSecret(t, c, caName)
	caCert, err := certs.DecodeCertPEM(caSecret.Data[secret.TLSCrtDataName])
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := certs.DecodePrivateKeyPEM(caSecret.Data[secret.TLSKeyDataName])
	if err != nil {
		t.Fatal(err)
	}
	key, err := certs.NewSigner(leafKeyAlgorithm)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      caCert.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(valid),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  clientUsages,
	}
	tmpl.Subject.CommonName = cn
	tmpl.Subject.Organization = nil
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM, _ := certs.EncodePrivateKeyPEMFromSigner(key)
	s := getSecret(t, c, name)
	s.Data = map[string][]byte{secret.TLSCrtDataName: certs.EncodeCertPEM(cert), secret.TLSKeyDataName: keyPEM}
	if err := c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureRenewsExpiringAndForeignCertificates(t *testing.T) {
	n := Names(testCluster)
	for _, tc := range []struct {
		name    string
		ca      string
		valid   time.Duration
		reissue bool
	}{
		{name: "expires in 10 days", ca: n.EtcdCA, valid: 10 * 24 * time.Hour, reissue: true},
		{name: "expires in 60 days", ca: n.EtcdCA, valid: 60 * 24 * time.Hour, reissue: false},
		{name: "signed by another CA", ca: n.CA, valid: 300 * 24 * time.Hour, reissue: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t)
			ensure(t, c, testParams())
			plantCert(t, c, n.APIServerEtcdClient, tc.ca, "kube-apiserver-etcd-client", tc.valid)
			planted := getSecret(t, c, n.APIServerEtcdClient).ResourceVersion

			res := ensure(t, c, testParams())
			reissued := getSecret(t, c, n.APIServerEtcdClient).ResourceVersion != planted
			if reissued != tc.reissue {
				t.Fatalf("reissued = %v, want %v (Written %v)", reissued, tc.reissue, res.Written)
			}
			if tc.reissue {
				cert := certOf(t, c, n.APIServerEtcdClient)
				if time.Until(cert.NotAfter) < 300*24*time.Hour || !verifies(cert, certOf(t, c, n.EtcdCA)) {
					t.Errorf("the reissued certificate is not a fresh one from the etcd CA")
				}
				if !slices.Equal(res.Written, []string{n.APIServerEtcdClient}) {
					t.Errorf("Written = %v, want only %s", res.Written, n.APIServerEtcdClient)
				}
			}
		})
	}
}

func TestEnsureUsesExistingAuthorities(t *testing.T) {
	// A first cluster's CA Secret, renamed, stands for a CA made before Ensure ever ran.
	seed := newClient(t)
	ensure(t, seed, testParams())
	ca := getSecret(t, seed, Names(testCluster).CA)
	pre := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: ca.Name, Labels: ca.Labels},
		Type:       ca.Type,
		Data:       ca.Data,
	}
	c := newClient(t, pre)
	res := ensure(t, c, testParams())
	if slices.Contains(res.Written, pre.Name) {
		t.Errorf("Ensure rewrote the existing CA %s", pre.Name)
	}
	caCert := certOf(t, c, pre.Name)
	if !certOf(t, seed, pre.Name).Equal(caCert) {
		t.Fatalf("the CA Secret changed")
	}
	if !verifies(certOf(t, c, res.Secrets.APIServer), caCert) {
		t.Errorf("the apiserver certificate is not signed by the existing CA")
	}
}

func TestEnsureRejectsBadParams(t *testing.T) {
	for name, mutate := range map[string]func(*Params){
		"no cluster name":  func(p *Params) { p.ClusterName = "" },
		"no endpoint host": func(p *Params) { p.Endpoint.Host = "" },
		"no endpoint port": func(p *Params) { p.Endpoint.Port = 0 },
		"no service CIDR":  func(p *Params) { p.ServiceCIDRs = nil },
		"bad service CIDR": func(p *Params) { p.ServiceCIDRs = []string{"10.96.0.0"} },
		"no DNS domain":    func(p *Params) { p.DNSDomain = "" },
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t)
			p := testParams()
			mutate(&p)
			if _, err := Ensure(context.Background(), c, p, testOwner); err == nil {
				t.Fatal("Ensure accepted invalid params")
			}
			if c.writes.Load() != 0 {
				t.Errorf("Ensure wrote although the params were invalid")
			}
		})
	}
}

func TestFirstIPs(t *testing.T) {
	got, err := firstIPs([]string{"10.96.0.0/12", "172.20.255.0/24", "fd00::/108"})
	if err != nil {
		t.Fatal(err)
	}
	want := []net.IP{net.ParseIP("10.96.0.1"), net.ParseIP("172.20.255.1"), net.ParseIP("fd00::1")}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("first IP %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := firstIPs([]string{"10.0.0.1/32"}); err == nil {
		t.Errorf("a /32 has no first host address, want an error")
	}
}

func TestResultHash(t *testing.T) {
	r := &Result{Hashes: map[string]string{"a": "1", "b": "2"}}
	ab, err := r.Hash("a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if ba, _ := r.Hash("b", "a"); ba != ab {
		t.Errorf("Hash depends on argument order")
	}
	if a, _ := r.Hash("a"); a == ab {
		t.Errorf("Hash of a subset equals the hash of the whole")
	}
	r.Hashes["b"] = "3"
	if ab2, _ := r.Hash("a", "b"); ab2 == ab {
		t.Errorf("Hash did not change with a Secret's hash")
	}
	if _, err := r.Hash("a", "missing"); err == nil {
		t.Errorf("Hash of an unknown Secret: want an error")
	}
}
