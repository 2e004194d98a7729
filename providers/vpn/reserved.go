package vpn

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServiceClusterNetworks reads the service cluster's own networks from it: its Service ranges
// (ServiceCIDR objects, or the "kubernetes" Service's address where that API is off), and each
// node's pod range and addresses (those of its status, and those in addressAnnotations).
func ServiceClusterNetworks(ctx context.Context, c client.Reader, addressAnnotations ...string) ([]Reserved, error) {
	var out []Reserved
	var scs networkingv1.ServiceCIDRList
	if err := c.List(ctx, &scs); err == nil && len(scs.Items) > 0 {
		for _, sc := range scs.Items {
			for _, c := range sc.Spec.CIDRs {
				out = append(out, Reserved{Name: "the service cluster's Service network", CIDR: c})
			}
		}
	} else {
		var kube corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "kubernetes"}, &kube); err != nil {
			return nil, fmt.Errorf("reading the service cluster's Service network: %w", err)
		}
		if a, err := netip.ParseAddr(kube.Spec.ClusterIP); err == nil {
			out = append(out, Reserved{Name: "the service cluster's Service network", CIDR: netip.PrefixFrom(a, a.BitLen()).String()})
		}
	}
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing the service cluster's nodes: %w", err)
	}
	for _, n := range nodes.Items {
		for _, p := range n.Spec.PodCIDRs {
			out = append(out, Reserved{Name: "the pod network of service-cluster node " + n.Name, CIDR: p})
		}
		var addrs []string
		for _, a := range addressAnnotations {
			addrs = append(addrs, n.Annotations[a])
		}
		for _, a := range n.Status.Addresses {
			addrs = append(addrs, a.Address)
		}
		for _, a := range addrs {
			if ip, err := netip.ParseAddr(a); err == nil {
				out = append(out, Reserved{Name: "the address of service-cluster node " + n.Name, CIDR: netip.PrefixFrom(ip, ip.BitLen()).String()})
			}
		}
	}
	return out, nil
}

// ReservedNetworks lists what a customer cluster's networks must not overlap: the tunnel's
// transfer network (transferCIDR, or DefaultTransferCIDR when empty) and, when c is not nil,
// the service cluster's own networks (ServiceClusterNetworks).
func ReservedNetworks(ctx context.Context, c client.Reader, transferCIDR string, addressAnnotations ...string) ([]Reserved, error) {
	if transferCIDR == "" {
		transferCIDR = DefaultTransferCIDR
	}
	out := []Reserved{{Name: "the tunnel's transfer network", CIDR: transferCIDR}}
	if c == nil {
		return out, nil
	}
	more, err := ServiceClusterNetworks(ctx, c, addressAnnotations...)
	if err != nil {
		return nil, err
	}
	return append(out, more...), nil
}
