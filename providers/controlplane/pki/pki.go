// Package pki keeps a hosted control plane's certificates and kubeconfigs as Secrets in the
// Cluster's namespace of the service cluster.
//
// The four authorities follow Cluster API's conventions (sigs.k8s.io/cluster-api/util/secret):
// <cluster>-ca, <cluster>-etcd, <cluster>-sa and <cluster>-proxy, made once and never replaced.
// The leaf certificates the control plane pods mount, the kubeconfigs of controller-manager and
// scheduler, and the admin kubeconfig <cluster>-kubeconfig (in Cluster API's format) are issued
// from them, and issued again whenever they no longer fit the Params (a new load balancer VIP),
// no longer chain to their authority, or expire within RenewBefore.
package pki

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// RenewBefore is how long before its expiry a leaf certificate is issued again.
const RenewBefore = 30 * 24 * time.Hour

// Params says what the certificates must name.
type Params struct {
	// ClusterName is the Cluster's name; every Secret is named after it.
	ClusterName string
	// Namespace is the Cluster's namespace, where the Secrets and the control plane pods live.
	Namespace string
	// Endpoint is the control plane endpoint: the load balancer's VIP and port. The apiserver
	// certificate names the VIP; the admin kubeconfig points at https://VIP:port.
	Endpoint clusterv1.APIEndpoint
	// ServiceCIDRs are the customer cluster's Service ranges; the first address of each (the
	// in-cluster "kubernetes" Service) goes into the apiserver certificate.
	ServiceCIDRs []string
	// DNSDomain is the customer cluster's DNS domain, e.g. cluster.local.
	DNSDomain string
}

// SecretNames are the names of a cluster's PKI Secrets. Certificate Secrets hold tls.crt and
// tls.key (the service-account Secret holds the public key under tls.crt); kubeconfig Secrets
// hold the kubeconfig under "value".
type SecretNames struct {
	// CA is the cluster CA (Cluster API's <cluster>-ca).
	CA string
	// EtcdCA is the etcd CA (<cluster>-etcd).
	EtcdCA string
	// ServiceAccount holds the service-account signing key pair (<cluster>-sa).
	ServiceAccount string
	// FrontProxyCA is the front-proxy CA (<cluster>-proxy).
	FrontProxyCA string
	// APIServer is kube-apiserver's serving certificate.
	APIServer string
	// APIServerKubeletClient is the certificate kube-apiserver presents to kubelets.
	APIServerKubeletClient string
	// APIServerEtcdClient is the certificate kube-apiserver presents to etcd.
	APIServerEtcdClient string
	// FrontProxyClient is the certificate kube-apiserver presents to aggregated apiservers.
	FrontProxyClient string
	// EtcdServer is the etcd members' client-facing serving certificate.
	EtcdServer string
	// EtcdPeer is the etcd members' peer certificate.
	EtcdPeer string
	// ControllerManagerKubeconfig is kube-controller-manager's kubeconfig.
	ControllerManagerKubeconfig string
	// SchedulerKubeconfig is kube-scheduler's kubeconfig.
	SchedulerKubeconfig string
	// AdminKubeconfig is Cluster API's <cluster>-kubeconfig (user kubernetes-admin).
	AdminKubeconfig string
}

// Names returns the Secret names of a cluster.
func Names(cluster string) SecretNames {
	return SecretNames{
		CA:                          secret.Name(cluster, secret.ClusterCA),
		EtcdCA:                      secret.Name(cluster, secret.EtcdCA),
		ServiceAccount:              secret.Name(cluster, secret.ServiceAccount),
		FrontProxyCA:                secret.Name(cluster, secret.FrontProxyCA),
		APIServer:                   cluster + "-apiserver",
		APIServerKubeletClient:      cluster + "-apiserver-kubelet-client",
		APIServerEtcdClient:         secret.Name(cluster, secret.APIServerEtcdClient),
		FrontProxyClient:            cluster + "-front-proxy-client",
		EtcdServer:                  cluster + "-etcd-server",
		EtcdPeer:                    cluster + "-etcd-peer",
		ControllerManagerKubeconfig: cluster + "-controller-manager-kubeconfig",
		SchedulerKubeconfig:         cluster + "-scheduler-kubeconfig",
		AdminKubeconfig:             secret.Name(cluster, secret.Kubeconfig),
	}
}

// Result is what Ensure leaves behind.
type Result struct {
	// Secrets names every PKI Secret of the cluster.
	Secrets SecretNames
	// Hashes maps each Secret's name to a SHA-256 of its data.
	Hashes map[string]string
	// Written lists, sorted, the Secrets this call created or replaced; empty when everything
	// was already current.
	Written []string
}

// Hash combines the hashes of the named Secrets into one, for a pod-template annotation that
// changes whenever any of them does. It fails on a name Ensure did not handle.
func (r *Result) Hash(secretNames ...string) (string, error) {
	parts := make(map[string][]byte, len(secretNames))
	for _, n := range secretNames {
		h, ok := r.Hashes[n]
		if !ok {
			return "", fmt.Errorf("no hash for Secret %q: it is not one of the PKI Secrets", n)
		}
		parts[n] = []byte(h)
	}
	return hashData(parts), nil
}

// Ensure makes sure the cluster's authorities exist (creating missing ones, never replacing
// one) and that every leaf certificate and kubeconfig Secret exists and is current, issuing
// the ones that are missing or stale. New Secrets get owner as their owner reference and the
// cluster-name label. A call that finds everything current writes nothing.
func Ensure(ctx context.Context, c client.Client, p Params, owner metav1.OwnerReference) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	key := client.ObjectKey{Namespace: p.Namespace, Name: p.ClusterName}
	res := &Result{Secrets: Names(p.ClusterName), Hashes: map[string]string{}}

	cas := secret.NewCertificatesForInitialControlPlane(&bootstrapv1.ClusterConfiguration{})
	if err := cas.LookupOrGenerate(ctx, c, key, owner); err != nil {
		return nil, fmt.Errorf("looking up or generating the authorities of cluster %s: %w", key, err)
	}
	for _, ca := range cas {
		if ca.Secret == nil {
			return nil, fmt.Errorf("authority %s of cluster %s has no Secret after LookupOrGenerate", ca.Purpose, key)
		}
		if ca.Generated {
			res.Written = append(res.Written, ca.Secret.Name)
		}
		res.Hashes[ca.Secret.Name] = hashData(ca.Secret.Data)
	}
	authorities := map[secret.Purpose]*authority{}
	for _, purpose := range []secret.Purpose{secret.ClusterCA, secret.EtcdCA, secret.FrontProxyCA} {
		a, err := parseAuthority(cas.GetByPurpose(purpose))
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", key, err)
		}
		authorities[purpose] = a
	}

	s := store{c: c, namespace: p.Namespace, cluster: p.ClusterName, owner: owner, res: res}
	for _, l := range leaves(p, res.Secrets) {
		if err := s.ensureLeaf(ctx, l, authorities[l.ca]); err != nil {
			return nil, err
		}
	}
	kcs, err := kubeconfigs(p, res.Secrets)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", key, err)
	}
	for _, k := range kcs {
		if err := s.ensureKubeconfig(ctx, k, authorities[secret.ClusterCA]); err != nil {
			return nil, err
		}
	}
	slices.Sort(res.Written)
	return res, nil
}

func (p Params) validate() error {
	var missing []string
	for name, v := range map[string]string{"cluster name": p.ClusterName, "namespace": p.Namespace, "endpoint host": p.Endpoint.Host, "DNS domain": p.DNSDomain} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if p.Endpoint.Port <= 0 {
		missing = append(missing, "endpoint port")
	}
	if len(p.ServiceCIDRs) == 0 {
		missing = append(missing, "service CIDRs")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("pki params of cluster %s/%s: missing %s", p.Namespace, p.ClusterName, strings.Join(missing, ", "))
	}
	if _, err := firstIPs(p.ServiceCIDRs); err != nil {
		return fmt.Errorf("pki params of cluster %s/%s: %w", p.Namespace, p.ClusterName, err)
	}
	return nil
}

// adminServer is the admin kubeconfig's server, written as Cluster API writes it.
func (p Params) adminServer() (string, error) {
	u, err := url.JoinPath("https://", p.Endpoint.String())
	if err != nil {
		return "", fmt.Errorf("building the server URL from endpoint %s: %w", p.Endpoint.String(), err)
	}
	return u, nil
}

// firstIPs returns the first host address of each CIDR: the ClusterIP of the "kubernetes"
// Service when the CIDR is a Service range.
func firstIPs(cidrs []string) ([]net.IP, error) {
	out := make([]net.IP, 0, len(cidrs))
	for _, cidr := range cidrs {
		_, n, err := net.ParseCIDR(strings.TrimSpace(cidr))
		if err != nil {
			return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
		}
		ip := slices.Clone(n.IP)
		for i := len(ip) - 1; i >= 0; i-- {
			ip[i]++
			if ip[i] != 0 {
				break
			}
		}
		if !n.Contains(ip) {
			return nil, fmt.Errorf("service CIDR %q has no room for a first address", cidr)
		}
		out = append(out, ip)
	}
	return out, nil
}
