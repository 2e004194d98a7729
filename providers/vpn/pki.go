package vpn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Keys of the PKI Secret.
const (
	CACertKey     = "ca.crt"
	CAKeyKey      = "ca.key"
	ServerCertKey = "server.crt"
	ServerKeyKey  = "server.key"
	ClientCertKey = "client.crt"
	ClientKeyKey  = "client.key"
	TLSCryptKey   = "tls-crypt.key"
)

// The certificates' common names; each side checks the other's (verify-x509-name).
const (
	ServerCommonName = "kaas-vpn-server"
	ClientCommonName = "kaas-vpn-client"
)

// Lifetimes: the authority lasts ten years, the leaves one and are issued again a month before
// they expire (or when they no longer chain to the authority).
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// PKISecretName is the Secret, in the Cluster's namespace, holding the tunnel's authority, both
// ends' certificates and the tls-crypt key.
func PKISecretName(cluster string) string { return cluster + "-vpn" }

// PKI is the tunnel's key material, PEM-encoded.
type PKI struct {
	CACert, ServerCert, ServerKey, ClientCert, ClientKey []byte
	// TLSCrypt is OpenVPN's static key (tls-crypt): it authenticates and encrypts the TLS
	// handshake, so a stranger's packets are dropped before any TLS code reads them.
	TLSCrypt []byte
}

// EnsurePKI reads the cluster's PKI Secret and makes or mends it: an authority made once and
// kept, leaves issued again when they no longer fit, the tls-crypt key made once. It writes only
// when something changed. owner becomes the Secret's owner.
func EnsurePKI(ctx context.Context, c client.Client, cluster, namespace string, owner metav1.OwnerReference) (*PKI, error) {
	key := types.NamespacedName{Namespace: namespace, Name: PKISecretName(cluster)}
	var s corev1.Secret
	err := c.Get(ctx, key, &s)
	switch {
	case apierrors.IsNotFound(err):
		s = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: namespace}, Type: corev1.SecretTypeOpaque}
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	data, changed, err := mendPKI(s.Data, time.Now())
	if err != nil {
		return nil, fmt.Errorf("Secret %s: %w", key, err)
	}
	if changed {
		s.Data = data
		s.Labels = mergeLabels(s.Labels, map[string]string{clusterv1.ClusterNameLabel: cluster})
		s.OwnerReferences = []metav1.OwnerReference{owner}
		if s.ResourceVersion == "" {
			err = c.Create(ctx, &s)
		} else {
			err = c.Update(ctx, &s)
		}
		if err != nil {
			return nil, fmt.Errorf("writing Secret %s: %w", key, err)
		}
	}
	return &PKI{
		CACert: data[CACertKey], ServerCert: data[ServerCertKey], ServerKey: data[ServerKeyKey],
		ClientCert: data[ClientCertKey], ClientKey: data[ClientKeyKey], TLSCrypt: data[TLSCryptKey],
	}, nil
}

func mergeLabels(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	for k, v := range want {
		have[k] = v
	}
	return have
}

// mendPKI returns data with whatever was missing or stale made anew, and whether it changed.
func mendPKI(in map[string][]byte, now time.Time) (map[string][]byte, bool, error) {
	data := make(map[string][]byte, 7)
	for k, v := range in {
		data[k] = v
	}
	changed := false
	ca, caKey, err := parsePair(data[CACertKey], data[CAKeyKey])
	if err != nil || !ca.IsCA {
		// A new authority invalidates every leaf.
		ca, caKey, data[CACertKey], data[CAKeyKey], err = newAuthority(now)
		if err != nil {
			return nil, false, err
		}
		delete(data, ServerCertKey)
		delete(data, ClientCertKey)
		changed = true
	}
	for _, l := range []struct {
		certKey, keyKey, cn string
		usage               x509.ExtKeyUsage
	}{
		{ServerCertKey, ServerKeyKey, ServerCommonName, x509.ExtKeyUsageServerAuth},
		{ClientCertKey, ClientKeyKey, ClientCommonName, x509.ExtKeyUsageClientAuth},
	} {
		if currentLeaf(data[l.certKey], data[l.keyKey], ca, l.cn, now) {
			continue
		}
		data[l.certKey], data[l.keyKey], err = issueLeaf(ca, caKey, l.cn, l.usage, now)
		if err != nil {
			return nil, false, err
		}
		changed = true
	}
	if !validStaticKey(data[TLSCryptKey]) {
		if data[TLSCryptKey], err = newStaticKey(); err != nil {
			return nil, false, err
		}
		changed = true
	}
	return data, changed, nil
}

func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func newAuthority(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("making the tunnel's CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kaas-vpn-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("signing the tunnel's CA: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func issueLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage, now time.Time) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("making a key for %s: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// currentLeaf reports whether the pair matches, chains to ca, names cn and lasts beyond
// renewBefore.
func currentLeaf(certPEM, keyPEM []byte, ca *x509.Certificate, cn string, now time.Time) bool {
	cert, _, err := parsePair(certPEM, keyPEM)
	if err != nil || cert.Subject.CommonName != cn || cert.NotAfter.Sub(now) < renewBefore {
		return false
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// OpenVPN's static key file: 2048 random bits as 16 lines of 32 hex digits between its markers.
const (
	staticKeyBegin = "-----BEGIN OpenVPN Static key V1-----"
	staticKeyEnd   = "-----END OpenVPN Static key V1-----"
	staticKeyBytes = 256
)

func newStaticKey() ([]byte, error) {
	raw := make([]byte, staticKeyBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("making the tls-crypt key: %w", err)
	}
	var b strings.Builder
	b.WriteString(staticKeyBegin + "\n")
	for i := 0; i < staticKeyBytes; i += 16 {
		b.WriteString(hex.EncodeToString(raw[i:i+16]) + "\n")
	}
	b.WriteString(staticKeyEnd + "\n")
	return []byte(b.String()), nil
}

func validStaticKey(k []byte) bool {
	lines := strings.Split(strings.TrimSpace(string(k)), "\n")
	if len(lines) != 2+staticKeyBytes/16 || lines[0] != staticKeyBegin || lines[len(lines)-1] != staticKeyEnd {
		return false
	}
	for _, l := range lines[1 : len(lines)-1] {
		if b, err := hex.DecodeString(l); err != nil || len(b) != 16 {
			return false
		}
	}
	return true
}
