package manifests

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/pki"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
	"github.com/kaas-sandbox/sandbox/versions"
)

// Params describe one hosted control plane. Zero Replicas, Etcd.Replicas and Etcd.StorageSize
// take the API's defaults (2, 3, 1Gi); everything else is required.
type Params struct {
	// ClusterName is the Cluster's name; objects are named after it.
	ClusterName string
	// Namespace is the Cluster's namespace in the service cluster.
	Namespace string
	// Version is the Kubernetes version; it must be one of the pinned ones (package versions).
	Version string
	// Replicas is the number of kube-apiserver pods.
	Replicas int32
	// Etcd shapes the etcd cluster.
	Etcd controlplanev1.EtcdSpec
	// Resources are the containers' requests and limits.
	Resources controlplanev1.ComponentResources
	// PodCIDRs are the customer cluster's pod ranges; exactly one IPv4 range, large enough
	// for /24 node ranges.
	PodCIDRs []string
	// ServiceCIDRs are the customer cluster's Service ranges; exactly one IPv4 range.
	ServiceCIDRs []string
	// DNSDomain is the customer cluster's DNS domain (service-account issuer).
	DNSDomain string
	// AdvertiseAddress is the load balancer's VIP: kube-apiserver advertises it, so the
	// customer cluster's "kubernetes" Service points at an address workers can reach.
	AdvertiseAddress string
	// PKI is the result of pki.Ensure for this cluster.
	PKI *pki.Result
	// VPN, when set, puts the tunnel's client container beside kube-apiserver in its pods;
	// the pod template carries the hash of its configuration.
	VPN *vpn.Client
	// Owner, when set, becomes every object's owner reference.
	Owner *metav1.OwnerReference
}

// API defaults applied to zero Params fields.
const (
	defaultReplicas     = 2
	defaultEtcdReplicas = 3
)

var defaultEtcdStorage = resource.MustParse("1Gi")

// valid is Params after defaulting and validation, with the version resolved.
type valid struct {
	Params
	release versions.Kubernetes
}

func (p Params) complete() (valid, error) {
	fail := func(format string, args ...any) (valid, error) {
		return valid{}, fmt.Errorf("control plane %s/%s: %s", p.Namespace, p.ClusterName, fmt.Sprintf(format, args...))
	}
	if p.Replicas == 0 {
		p.Replicas = defaultReplicas
	}
	if p.Etcd.Replicas == 0 {
		p.Etcd.Replicas = defaultEtcdReplicas
	}
	if p.Etcd.StorageSize.IsZero() {
		p.Etcd.StorageSize = defaultEtcdStorage.DeepCopy()
	}
	var missing []string
	for name, v := range map[string]string{"cluster name": p.ClusterName, "namespace": p.Namespace, "version": p.Version, "DNS domain": p.DNSDomain, "advertise address": p.AdvertiseAddress} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if p.PKI == nil {
		missing = append(missing, "PKI result")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fail("missing %s", strings.Join(missing, ", "))
	}
	for _, n := range []string{names.EtcdClient(p.ClusterName), names.APIServer(p.ClusterName)} {
		if errs := validation.IsDNS1035Label(n); len(errs) > 0 {
			return fail("Service name %q is invalid (cluster name too long?): %s", n, strings.Join(errs, "; "))
		}
	}
	// The StatefulSet controller labels pods with <name>-<10-char hash>, at most 63 chars.
	if n := names.Etcd(p.ClusterName); len(n) > 52 {
		return fail("StatefulSet name %q is longer than 52 characters", n)
	}
	if p.Replicas < 1 || p.Replicas > 5 {
		return fail("apiserver replicas %d: want 1 to 5", p.Replicas)
	}
	if !slices.Contains([]int32{1, 3, 5}, p.Etcd.Replicas) {
		return fail("etcd replicas %d: want 1, 3 or 5", p.Etcd.Replicas)
	}
	if p.Etcd.StorageSize.Sign() < 0 {
		return fail("etcd storage size %s is negative", p.Etcd.StorageSize.String())
	}
	if ip := net.ParseIP(p.AdvertiseAddress); ip == nil || ip.To4() == nil {
		return fail("advertise address %q is not an IPv4 address", p.AdvertiseAddress)
	}
	if _, err := oneIPv4CIDR("pod", p.PodCIDRs, 24); err != nil {
		return fail("%v", err)
	}
	if _, err := oneIPv4CIDR("service", p.ServiceCIDRs, 30); err != nil {
		return fail("%v", err)
	}
	release, err := lookupVersion(p.Version)
	if err != nil {
		return fail("%v", err)
	}
	return valid{Params: p, release: release}, nil
}

// oneIPv4CIDR checks that cidrs is a single IPv4 range with a prefix no longer than maxPrefix.
func oneIPv4CIDR(what string, cidrs []string, maxPrefix int) (*net.IPNet, error) {
	if len(cidrs) != 1 {
		return nil, fmt.Errorf("%s CIDRs %v: want exactly one (dual-stack is not supported)", what, cidrs)
	}
	ip, n, err := net.ParseCIDR(cidrs[0])
	if err != nil {
		return nil, fmt.Errorf("%s CIDR: %w", what, err)
	}
	if ip.To4() == nil {
		return nil, fmt.Errorf("%s CIDR %s is not IPv4", what, cidrs[0])
	}
	if ones, _ := n.Mask.Size(); ones > maxPrefix {
		return nil, fmt.Errorf("%s CIDR %s is too small: want a prefix of /%d or shorter", what, cidrs[0], maxPrefix)
	}
	return n, nil
}

// lookupVersion finds a pinned Kubernetes release.
func lookupVersion(v string) (versions.Kubernetes, error) {
	l, err := versions.Load()
	if err != nil {
		return versions.Kubernetes{}, err
	}
	pinned := make([]string, 0, len(l.Kubernetes))
	for _, k := range l.Kubernetes {
		if k.Version == v {
			return k, nil
		}
		pinned = append(pinned, k.Version)
	}
	return versions.Kubernetes{}, fmt.Errorf("Kubernetes version %q is not pinned; pinned versions: %s", v, strings.Join(pinned, ", "))
}
