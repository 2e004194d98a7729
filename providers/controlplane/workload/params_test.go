package workload

import (
	"strings"
	"testing"

	"github.com/kaas-sandbox/sandbox/versions"
)

func TestClusterDNSIP(t *testing.T) {
	for _, tc := range []struct{ cidr, want string }{
		{"10.96.0.0/12", "10.96.0.10"},
		{"10.0.0.0/24", "10.0.0.10"},
		{"10.96.5.7/24", "10.96.5.10"}, // host bits are ignored, as kubeadm does
		{"fd00:10:96::/108", "fd00:10:96::a"},
	} {
		got, err := ClusterDNSIP(tc.cidr)
		if err != nil || got != tc.want {
			t.Errorf("ClusterDNSIP(%q) = %q, %v; want %q", tc.cidr, got, err, tc.want)
		}
	}
	for _, bad := range []string{"10.96.0.0/29", "10.96.0.0", "not-a-cidr", ""} {
		if got, err := ClusterDNSIP(bad); err == nil {
			t.Errorf("ClusterDNSIP(%q) = %q, want an error", bad, got)
		}
	}
}

func TestServer(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int32
		want string
	}{
		{"192.0.2.10", 0, "https://192.0.2.10:6443"},
		{"192.0.2.10", 8443, "https://192.0.2.10:8443"},
		{"2001:db8::1", 0, "https://[2001:db8::1]:6443"},
		{"api.example.test", 6443, "https://api.example.test:6443"},
	} {
		if got := (Params{EndpointHost: tc.host, EndpointPort: tc.port}).Server(); got != tc.want {
			t.Errorf("Server() of %s port %d = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

func TestParamsDefaults(t *testing.T) {
	p := testParams(t, "1.37.2") // without the leading v
	p.ClusterName, p.DNSDomain, p.EndpointPort = "", "", 0
	p.PodCIDR = "10.244.3.4/16" // not canonical
	r, err := p.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.KubernetesVersion != "v1.37.2" || r.release.CoreDNS != "v1.14.6" {
		t.Errorf("version resolved to %q (CoreDNS %q), want v1.37.2 (v1.14.6)", r.KubernetesVersion, r.release.CoreDNS)
	}
	if r.ClusterName != "kubernetes" || r.DNSDomain != "cluster.local" || r.EndpointPort != 6443 {
		t.Errorf("defaults: cluster %q, domain %q, port %d", r.ClusterName, r.DNSDomain, r.EndpointPort)
	}
	if r.PodCIDR != "10.244.0.0/16" || r.dnsIP.String() != "10.96.0.10" {
		t.Errorf("pod CIDR %q, DNS IP %s", r.PodCIDR, r.dnsIP)
	}
}

func TestBadParams(t *testing.T) {
	l, err := versions.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Params)
		want   string
	}{
		{"bad pod CIDR", func(p *Params) { p.PodCIDR = "10.244.0.0/33" }, `pod CIDR "10.244.0.0/33"`},
		{"pod CIDR without length", func(p *Params) { p.PodCIDR = "10.244.0.0" }, `pod CIDR "10.244.0.0"`},
		{"IPv6 pod CIDR", func(p *Params) { p.PodCIDR = "fd00::/64" }, "not IPv4"},
		{"bad service CIDR", func(p *Params) { p.ServiceCIDR = "ten.96/12" }, `service CIDR "ten.96/12"`},
		{"tiny service CIDR", func(p *Params) { p.ServiceCIDR = "10.96.0.0/29" }, "too small"},
		{"overlapping CIDRs", func(p *Params) { p.ServiceCIDR = "10.244.128.0/24" }, "overlap"},
		{"unknown version", func(p *Params) { p.KubernetesVersion = "v1.30.0" }, `"v1.30.0" is not pinned (known: ` + l.Kubernetes[0].Version},
		{"no version", func(p *Params) { p.KubernetesVersion = "" }, "is not pinned"},
		{"no endpoint", func(p *Params) { p.EndpointHost = " " }, "endpoint host is empty"},
		{"bad port", func(p *Params) { p.EndpointPort = -1 }, "endpoint port -1"},
		{"no CA", func(p *Params) { p.CACertPEM = nil }, "CA certificate is empty"},
		{"CA not PEM", func(p *Params) { p.CACertPEM = []byte("hello") }, "no PEM CERTIFICATE block"},
		{"CA is a key", func(p *Params) {
			p.CACertPEM = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}, `"PRIVATE KEY" block`},
		{"CA garbage DER", func(p *Params) {
			p.CACertPEM = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
		}, "CA certificate:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams(t, "v1.37.2")
			tc.mutate(&p)
			for name, build := range map[string]func(Params) (any, error){
				"JoinObjects": func(p Params) (any, error) { return JoinObjects(p) },
				"Addons":      func(p Params) (any, error) { return Addons(p) },
			} {
				objs, err := build(p)
				if err == nil {
					t.Fatalf("%s accepted the parameters and returned %v", name, objs)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s error %q does not say %q", name, err, tc.want)
				}
			}
		})
	}
}

func TestBadParamsReportsEveryProblem(t *testing.T) {
	_, err := JoinObjects(Params{KubernetesVersion: "v9.9.9", PodCIDR: "x", ServiceCIDR: "y"})
	if err == nil {
		t.Fatal("empty parameters were accepted")
	}
	for _, want := range []string{"endpoint host", "CA certificate", "v9.9.9", `pod CIDR "x"`, `service CIDR "y"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
