//go:build imagetest

package testimages

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

// TestImageAgnhostWebhook runs the agnhost image as the e2e does, as an admission webhook with
// a certificate from a Secret, and sends it the AdmissionReviews the apiserver would: the
// configmap the e2e creates to be refused is refused with agnhost's reason, any other is
// allowed, over TLS verified against the CA that the webhook configuration carries.
func TestImageAgnhostWebhook(t *testing.T) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	if err := pool.Client.Ping(); err != nil {
		t.Fatalf("docker does not answer (make test-images starts it): %v", err)
	}
	if _, err := pool.Client.InspectImage(Agnhost); err != nil {
		t.Fatalf("image %s is missing (hack/images/k8s-e2e.sh builds it): %v", Agnhost, err)
	}
	dir := t.TempDir()
	caPEM := writeServingCert(t, dir)
	repo, tag, _ := strings.Cut(Agnhost, ":")
	name := "kaas-imagetest-agnhost"
	_ = pool.RemoveContainerByName(name)
	r, err := pool.RunWithOptions(&dockertest.RunOptions{
		Name: name, Repository: repo, Tag: tag,
		Cmd:    []string{"webhook", "--tls-cert-file=/certs/tls.crt", "--tls-private-key-file=/certs/tls.key", "--port=8443"},
		Mounts: []string{dir + ":/certs:ro"},
	})
	if err != nil {
		t.Fatalf("starting %s: %v", Agnhost, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var logs bytes.Buffer
			_ = pool.Client.Logs(docker.LogsOptions{Container: r.Container.ID, OutputStream: &logs, ErrorStream: &logs, Stdout: true, Stderr: true})
			t.Logf("logs of %s:\n%s", name, logs.String())
		}
		_ = pool.Purge(r)
	})

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "webhook.default.svc"},
	}}
	base := "https://" + net.JoinHostPort(r.Container.NetworkSettings.IPAddress, "8443")
	pool.MaxWait = 30 * time.Second
	if err := pool.Retry(func() error {
		resp, err := hc.Get(base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	}); err != nil {
		t.Fatalf("agnhost webhook not serving on %s: %v", base, err)
	}

	for _, c := range []struct {
		value   string
		allowed bool
	}{{"webhook-disallow", false}, {"anything-else", true}} {
		resp := review(t, hc, base+"/configmaps", c.value)
		if resp.Response.UID != "e2e-uid-1" {
			t.Errorf("value %q: response uid %q, want the request's e2e-uid-1", c.value, resp.Response.UID)
		}
		if resp.Response.Allowed != c.allowed {
			t.Errorf("value %q: allowed=%v, want %v (response %+v)", c.value, resp.Response.Allowed, c.allowed, resp.Response)
		}
		if !c.allowed && !strings.Contains(resp.Response.Result.Reason, "unwanted key and value") {
			t.Errorf("value %q: refusal reason %q does not name the unwanted key", c.value, resp.Response.Result.Reason)
		}
	}
}

// admissionReview is the part of an admission.k8s.io/v1 AdmissionReview the test reads.
type admissionReview struct {
	Response *struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Result  *struct {
			Reason string `json:"reason"`
		} `json:"status"`
	} `json:"response,omitempty"`
}

// review posts a CREATE of a configmap whose webhook-e2e-test key holds value.
func review(t *testing.T, hc *http.Client, url, value string) admissionReview {
	t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
  "uid":"e2e-uid-1","kind":{"group":"","version":"v1","kind":"ConfigMap"},
  "resource":{"group":"","version":"v1","resource":"configmaps"},
  "requestKind":{"group":"","version":"v1","kind":"ConfigMap"},
  "requestResource":{"group":"","version":"v1","resource":"configmaps"},
  "name":"cm","namespace":"default","operation":"CREATE","userInfo":{"username":"e2e"},
  "object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"default"},"data":{"webhook-e2e-test":%q}}}}`, value)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out admissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %s, undecodable answer: %v", url, resp.Status, err)
	}
	if out.Response == nil {
		t.Fatalf("POST %s: %s, no response in the review", url, resp.Status)
	}
	if out.Response.Result == nil && !out.Response.Allowed {
		t.Fatalf("POST %s: refused with no status", url)
	}
	return out
}

// writeServingCert writes tls.crt and tls.key for webhook.default.svc, signed by a fresh CA,
// into dir and returns the CA's PEM.
func writeServingCert(t *testing.T, dir string) []byte {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e-webhook-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "webhook.default.svc"},
		DNSNames: []string{"webhook.default.svc"}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	} {
		// Readable by any user: agnhost runs as root here, but the mount keeps the host's modes.
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}
