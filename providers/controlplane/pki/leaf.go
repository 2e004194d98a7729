package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	"sigs.k8s.io/cluster-api/util/certs"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// leafKeyAlgorithm is the key type of every issued certificate: ECDSA P-256 keys are made in
// microseconds where RSA takes a noticeable share of a reconcile, and every component accepts
// them.
const leafKeyAlgorithm = bootstrapv1.EncryptionAlgorithmECDSAP256

// authority is a parsed CA key pair.
type authority struct {
	name string
	cert *x509.Certificate
	key  crypto.Signer
	pool *x509.CertPool
	pem  []byte
}

func parseAuthority(c *secret.Certificate) (*authority, error) {
	if c == nil || c.KeyPair == nil || c.Secret == nil {
		return nil, fmt.Errorf("an authority is missing after LookupOrGenerate")
	}
	name := c.Secret.Name
	cert, err := certs.DecodeCertPEM(c.KeyPair.Cert)
	if err != nil {
		return nil, fmt.Errorf("decoding the certificate of authority %s: %w", name, err)
	}
	if len(c.KeyPair.Key) == 0 {
		return nil, fmt.Errorf("authority %s has no private key (tls.key), so it cannot sign", name)
	}
	key, err := certs.DecodePrivateKeyPEM(c.KeyPair.Key)
	if err != nil {
		return nil, fmt.Errorf("decoding the private key of authority %s: %w", name, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{name: name, cert: cert, key: key, pool: pool, pem: certs.EncodeCertPEM(cert)}, nil
}

// leaf describes one certificate issued by an authority.
type leaf struct {
	secret string
	ca     secret.Purpose
	cn     string
	orgs   []string
	dns    []string
	ips    []net.IP
	usages []x509.ExtKeyUsage
}

var (
	serverUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	// etcd members use their serving and peer certificates as clients too (the peer dials
	// out with it, the gRPC gateway dials the member itself), as kubeadm's do.
	bothUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

var loopback = net.IPv4(127, 0, 0, 1)

// leaves lists the certificates of a cluster. Params are valid.
func leaves(p Params, n SecretNames) []leaf {
	c, ns := p.ClusterName, p.Namespace
	serviceIPs, _ := firstIPs(p.ServiceCIDRs)

	apiDNS := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + p.DNSDomain}
	apiDNS = append(apiDNS, names.ServiceDNSNames(names.APIServer(c), ns)...)
	apiDNS = append(apiDNS, "localhost")
	apiIPs := append(slices.Clone(serviceIPs), loopback)
	if vip := net.ParseIP(p.Endpoint.Host); vip != nil {
		apiIPs = append(apiIPs, vip)
	} else {
		apiDNS = append(apiDNS, p.Endpoint.Host)
	}

	etcdDNS := names.ServiceDNSNames(names.EtcdClient(c), ns)
	for i := range names.MaxEtcdMembers {
		etcdDNS = append(etcdDNS, names.EtcdMemberHost(c, ns, i))
	}
	etcdDNS = append(etcdDNS, "localhost")
	etcdIPs := []net.IP{loopback}

	return []leaf{
		{secret: n.APIServer, ca: secret.ClusterCA, cn: "kube-apiserver", dns: apiDNS, ips: apiIPs, usages: serverUsages},
		// kubeadm puts this one in kubeadm:cluster-admins, a group bound by kubeadm init;
		// no kubeadm init runs for a hosted control plane, so system:masters it is.
		{secret: n.APIServerKubeletClient, ca: secret.ClusterCA, cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}, usages: clientUsages},
		{secret: n.APIServerEtcdClient, ca: secret.EtcdCA, cn: "kube-apiserver-etcd-client", usages: clientUsages},
		{secret: n.FrontProxyClient, ca: secret.FrontProxyCA, cn: "front-proxy-client", usages: clientUsages},
		{secret: n.EtcdServer, ca: secret.EtcdCA, cn: names.Etcd(c), dns: etcdDNS, ips: etcdIPs, usages: bothUsages},
		{secret: n.EtcdPeer, ca: secret.EtcdCA, cn: names.Etcd(c) + "-peer", dns: etcdDNS, ips: etcdIPs, usages: bothUsages},
	}
}

// issue makes a new key and a certificate for it signed by ca.
func issue(ca *authority, cn string, orgs, dns []string, ips []net.IP, usages []x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	key, err := certs.NewSigner(leafKeyAlgorithm)
	if err != nil {
		return nil, nil, fmt.Errorf("making a key for %q: %w", cn, err)
	}
	cfg := certs.Config{CommonName: cn, Organization: orgs, AltNames: certs.AltNames{DNSNames: dns, IPs: ips}, Usages: usages}
	cert, err := cfg.NewSignedCert(key, ca.cert, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing a certificate for %q with %s: %w", cn, ca.name, err)
	}
	keyPEM, err = certs.EncodePrivateKeyPEMFromSigner(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the key of %q: %w", cn, err)
	}
	return certs.EncodeCertPEM(cert), keyPEM, nil
}

// currentCert reports whether certPEM/keyPEM are a matching pair, chain to ca, carry exactly
// the wanted subject, names and usages, and stay valid for longer than RenewBefore.
func currentCert(ca *authority, certPEM, keyPEM []byte, cn string, orgs, dns []string, ips []net.IP, usages []x509.ExtKeyUsage) bool {
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return false
	}
	cert, err := certs.DecodeCertPEM(certPEM)
	if err != nil {
		return false
	}
	now := time.Now()
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return false
	}
	if cert.NotAfter.Sub(now) < RenewBefore {
		return false
	}
	if cert.Subject.CommonName != cn || !sameSet(cert.Subject.Organization, orgs) {
		return false
	}
	if !sameSet(cert.DNSNames, dns) || !sameSet(ipStrings(cert.IPAddresses), ipStrings(ips)) {
		return false
	}
	return sameSet(cert.ExtKeyUsage, usages)
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// sameSet reports whether a and b hold the same elements, ignoring order and repeats.
func sameSet[T comparable](a, b []T) bool {
	in := func(x T, s []T) bool { return slices.Contains(s, x) }
	for _, x := range a {
		if !in(x, b) {
			return false
		}
	}
	for _, x := range b {
		if !in(x, a) {
			return false
		}
	}
	return true
}
