package workload

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kaas-sandbox/sandbox/versions"
)

const (
	// DefaultDNSDomain is the cluster DNS domain when Params.DNSDomain is empty (kubeadm's).
	DefaultDNSDomain = "cluster.local"
	// DefaultClusterName is the cluster name when Params.ClusterName is empty (kubeadm's).
	DefaultClusterName = "kubernetes"
	// DefaultEndpointPort is the apiserver port on the load balancer VIP when
	// Params.EndpointPort is zero.
	DefaultEndpointPort = 6443
	// dnsIPIndex is the offset of the cluster DNS Service IP in the service CIDR (kubeadm's
	// constants.GetDNSIP).
	dnsIPIndex = 10
)

// Params describes the customer cluster the objects are made for.
type Params struct {
	// ClusterName is the cluster's name, written to kubeadm's ClusterConfiguration;
	// default "kubernetes".
	ClusterName string
	// KubernetesVersion is one of the pinned versions of versions.Load(), e.g. "v1.37.2".
	KubernetesVersion string
	// EndpointHost is the load balancer's public VIP (or a DNS name for it): the cluster's
	// controlPlaneEndpoint host.
	EndpointHost string
	// EndpointPort is the apiserver port on the VIP; default 6443.
	EndpointPort int32
	// CACertPEM is the cluster CA certificate, PEM encoded.
	CACertPEM []byte
	// PodCIDR is the IPv4 pod network (flannel's Network, kube-proxy's clusterCIDR).
	PodCIDR string
	// ServiceCIDR is the Service network; the cluster DNS IP is its 10th address.
	ServiceCIDR string
	// DNSDomain is the cluster DNS domain; default "cluster.local".
	DNSDomain string
}

// resolved is Params validated and defaulted, with what is derived from it.
type resolved struct {
	Params
	release versions.Kubernetes
	dnsIP   netip.Addr
}

// Server returns the apiserver URL on the load balancer VIP, e.g. https://192.0.2.10:6443.
func (p Params) Server() string {
	port := p.EndpointPort
	if port == 0 {
		port = DefaultEndpointPort
	}
	return "https://" + net.JoinHostPort(p.EndpointHost, strconv.Itoa(int(port)))
}

// controlPlaneEndpoint is kubeadm's controlPlaneEndpoint: host:port of the VIP.
func (r resolved) controlPlaneEndpoint() string {
	return net.JoinHostPort(r.EndpointHost, strconv.Itoa(int(r.EndpointPort)))
}

// ClusterDNSIP returns the cluster DNS Service IP for a service CIDR: its 10th address, as
// kubeadm chooses it (10.96.0.0/12 gives 10.96.0.10).
func ClusterDNSIP(serviceCIDR string) (string, error) {
	prefix, err := netip.ParsePrefix(strings.TrimSpace(serviceCIDR))
	if err != nil {
		return "", fmt.Errorf("service CIDR %q: %w", serviceCIDR, err)
	}
	ip, err := indexedIP(prefix, dnsIPIndex)
	if err != nil {
		return "", fmt.Errorf("service CIDR %q: %w", serviceCIDR, err)
	}
	return ip.String(), nil
}

func indexedIP(prefix netip.Prefix, index int) (netip.Addr, error) {
	ip := prefix.Masked().Addr()
	for range index {
		ip = ip.Next()
	}
	if !ip.IsValid() || !prefix.Contains(ip) {
		return netip.Addr{}, fmt.Errorf("%s has no address at index %d", prefix, index)
	}
	return ip, nil
}

// resolve validates p, fills in its defaults and looks its version up in the pinned list.
func (p Params) resolve() (resolved, error) {
	if p.ClusterName == "" {
		p.ClusterName = DefaultClusterName
	}
	if p.DNSDomain == "" {
		p.DNSDomain = DefaultDNSDomain
	}
	if p.EndpointPort == 0 {
		p.EndpointPort = DefaultEndpointPort
	}
	var errs []error
	if strings.TrimSpace(p.EndpointHost) == "" {
		errs = append(errs, errors.New("endpoint host is empty"))
	}
	if p.EndpointPort < 1 || p.EndpointPort > 65535 {
		errs = append(errs, fmt.Errorf("endpoint port %d is out of range 1-65535", p.EndpointPort))
	}
	if err := checkCA(p.CACertPEM); err != nil {
		errs = append(errs, err)
	}
	release, err := pinnedRelease(p.KubernetesVersion)
	if err != nil {
		errs = append(errs, err)
	}
	pods, err := netip.ParsePrefix(p.PodCIDR)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("pod CIDR %q: %w", p.PodCIDR, err))
	case !pods.Addr().Is4():
		errs = append(errs, fmt.Errorf("pod CIDR %q is not IPv4: flannel is set up for IPv4 only", p.PodCIDR))
	}
	services, err := netip.ParsePrefix(p.ServiceCIDR)
	var dnsIP netip.Addr
	if err != nil {
		errs = append(errs, fmt.Errorf("service CIDR %q: %w", p.ServiceCIDR, err))
	} else if dnsIP, err = indexedIP(services, dnsIPIndex); err != nil {
		errs = append(errs, fmt.Errorf("service CIDR %q is too small for the cluster DNS IP: %w", p.ServiceCIDR, err))
	}
	if pods.IsValid() && services.IsValid() && pods.Overlaps(services) {
		errs = append(errs, fmt.Errorf("pod CIDR %s and service CIDR %s overlap", pods, services))
	}
	if len(errs) > 0 {
		return resolved{}, fmt.Errorf("invalid workload cluster parameters: %w", errors.Join(errs...))
	}
	// Canonical forms, so equal networks always render the same objects.
	p.PodCIDR, p.ServiceCIDR = pods.Masked().String(), services.Masked().String()
	p.KubernetesVersion = release.Version
	return resolved{Params: p, release: release, dnsIP: dnsIP}, nil
}

// pinnedRelease finds version (with or without its leading "v") in versions.Load().
func pinnedRelease(version string) (versions.Kubernetes, error) {
	l, err := versions.Load()
	if err != nil {
		return versions.Kubernetes{}, err
	}
	want := "v" + strings.TrimPrefix(strings.TrimSpace(version), "v")
	known := make([]string, 0, len(l.Kubernetes))
	for _, k := range l.Kubernetes {
		if k.Version == want {
			return k, nil
		}
		known = append(known, k.Version)
	}
	return versions.Kubernetes{}, fmt.Errorf("kubernetes version %q is not pinned (known: %s)", version, strings.Join(known, ", "))
}

// checkCA makes sure pemBytes holds at least one certificate and nothing but certificates.
func checkCA(pemBytes []byte) error {
	if len(pemBytes) == 0 {
		return errors.New("CA certificate is empty")
	}
	rest, n := pemBytes, 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("CA certificate PEM holds a %q block", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("CA certificate: %w", err)
		}
		n++
	}
	if n == 0 {
		return errors.New("CA certificate holds no PEM CERTIFICATE block")
	}
	return nil
}
