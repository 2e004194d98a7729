package manifests

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/internal/testenv"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// TestEtcdRunsWithTheGeneratedFlagsAndCertificates runs the real etcd (the envtest build,
// KUBEBUILDER_ASSETS) as a single member with the StatefulSet container's command line and
// the files its projected volume would hold, changed only where a pod differs from a local
// process: paths under a temporary root, 127.0.0.1 and free ports for 0.0.0.0 and the fixed
// ports, $(POD_NAME) expanded as the kubelet would. A client holding the
// apiserver-etcd-client certificate, checking the server as kube-apiserver does (the client
// Service's name), then writes and reads a key through etcd's gRPC gateway.
func TestEtcdRunsWithTheGeneratedFlagsAndCertificates(t *testing.T) {
	assets, err := testenv.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	c, res := realPKI(t)
	p := testParams(t)
	p.Etcd.Replicas = 1
	p.PKI = res
	o := build(t, p)
	spec := o.Etcd.Spec.Template.Spec
	ctr := containerOf(t, spec)

	root := t.TempDir()
	for file, src := range mountedFiles(spec, ctr) {
		dst := filepath.Join(root, file)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, secretData(t, c, src[0], src[1]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ports := map[int]string{}
	for _, port := range []int{names.EtcdClientPort, names.EtcdPeerPort, names.EtcdMetricsPort} {
		ports[port] = freePort(t)
	}
	args := make([]string, 0, len(ctr.Command)-1)
	for _, arg := range ctr.Command[1:] {
		arg = strings.ReplaceAll(arg, "$(POD_NAME)", names.EtcdMember(testCluster, 0))
		arg = strings.ReplaceAll(arg, "0.0.0.0", "127.0.0.1")
		for _, dir := range []string{pkiDir, etcdVolumeDir} {
			arg = strings.ReplaceAll(arg, dir, filepath.Join(root, dir))
		}
		for port, free := range ports {
			arg = strings.ReplaceAll(arg, ":"+strconv.Itoa(port), ":"+free)
		}
		if strings.Contains(arg, "$(") {
			t.Fatalf("argument %q refers to a variable the container does not define", arg)
		}
		args = append(args, arg)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(assets, "etcd"), args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("etcd %s\n%s", strings.Join(args, " "), logs.String())
		}
	})

	// The readiness probe's URL, on the metrics port.
	waitReady(ctx, t, fmt.Sprintf("http://127.0.0.1:%s/readyz", ports[names.EtcdMetricsPort]))

	etcdCA := x509.NewCertPool()
	if !etcdCA.AppendCertsFromPEM(secretData(t, c, res.Secrets.EtcdCA, secret.TLSCrtDataName)) {
		t.Fatal("no etcd CA certificate")
	}
	serverName := hostOf(t, flags(t, containerOf(t, o.APIServer.Spec.Template.Spec).Command)["etcd-servers"])
	endpoint := "https://127.0.0.1:" + ports[names.EtcdClientPort]
	apiserver := tlsClient(t, c, res.Secrets.APIServerEtcdClient, etcdCA, serverName)

	key, value := "/registry/kaas/probe", "hosted"
	if _, err := gateway(ctx, apiserver, endpoint+"/v3/kv/put", map[string]string{"key": b64(key), "value": b64(value)}); err != nil {
		t.Fatalf("put: %v", err)
	}
	out, err := gateway(ctx, apiserver, endpoint+"/v3/kv/range", map[string]string{"key": b64(key)})
	if err != nil {
		t.Fatalf("range: %v", err)
	}
	var got struct {
		KVs []struct{ Value string } `json:"kvs"`
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got.KVs) != 1 || got.KVs[0].Value != b64(value) {
		t.Fatalf("range returned %s (%v), want the value put", out, err)
	}

	// client-cert-auth: a certificate from the cluster CA (not etcd's), or none, is refused.
	for name, cl := range map[string]*http.Client{
		"kubelet-client cert": tlsClient(t, c, res.Secrets.APIServerKubeletClient, etcdCA, serverName),
		"no cert":             {Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: etcdCA, ServerName: serverName}}},
	} {
		if _, err := gateway(ctx, cl, endpoint+"/v3/kv/range", map[string]string{"key": b64(key)}); err == nil {
			t.Errorf("a client with %s could read etcd", name)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func waitReady(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("etcd did not become ready at %s: last error %v", url, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tlsClient(t *testing.T, c client.Client, certSecret string, roots *x509.CertPool, serverName string) *http.Client {
	t.Helper()
	pair, err := tls.X509KeyPair(secretData(t, c, certSecret, secret.TLSCrtDataName), secretData(t, c, certSecret, secret.TLSKeyDataName))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: roots, ServerName: serverName,
	}}}
}

// gateway POSTs a JSON request to etcd's gRPC gateway and returns the body of a 200 answer.
func gateway(ctx context.Context, cl *http.Client, url string, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, out.String())
	}
	return out.Bytes(), nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
