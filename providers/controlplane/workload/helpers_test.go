package workload

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// testCA returns a self-signed CA certificate, PEM encoded.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// testParams are valid parameters for version.
func testParams(t *testing.T, version string) Params {
	t.Helper()
	return Params{
		ClusterName:       "demo",
		KubernetesVersion: version,
		EndpointHost:      "192.0.2.10",
		CACertPEM:         testCA(t),
		PodCIDR:           "10.244.0.0/16",
		ServiceCIDR:       "10.96.0.0/12",
	}
}

// find returns the object of objs of type T named namespace/name, failing the test when there
// is none.
func find[T client.Object](t *testing.T, objs []client.Object, namespace, name string) T {
	t.Helper()
	for _, o := range objs {
		if typed, ok := o.(T); ok && o.GetNamespace() == namespace && o.GetName() == name {
			return typed
		}
	}
	var zero T
	t.Fatalf("no %T %s/%s among the objects", zero, namespace, name)
	return zero
}
