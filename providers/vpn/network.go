package vpn

import (
	"fmt"
	"net/netip"
	"strings"
)

// Image is the OpenVPN image of both ends (built by hack/images/addons.sh, preloaded in every
// node image).
const Image = "kaas.local/openvpn:v0.1.0"

// DefaultTransferCIDR is the tunnel's own network: the server takes its first address, each
// client (one per apiserver pod) another. It must overlap neither the customer's networks nor the
// service cluster's.
const DefaultTransferCIDR = "100.127.255.0/24"

// Port is the OpenVPN server's TCP port, in its pod and on the load balancer's VIP.
const Port = 1194

// Networks are the customer cluster's networks, as the provider has them on record: the only
// destinations routed through the tunnel.
type Networks struct {
	// Nodes is the workers' subnet.
	Nodes []string
	// Pods are the pod networks.
	Pods []string
	// Services are the Service networks.
	Services []string
}

// All lists every network, nodes first.
func (n Networks) All() []string {
	out := make([]string, 0, len(n.Nodes)+len(n.Pods)+len(n.Services))
	out = append(out, n.Nodes...)
	out = append(out, n.Pods...)
	return append(out, n.Services...)
}

// Validate checks that every network is an IPv4 CIDR and that there is at least one of each.
func (n Networks) Validate() error {
	for _, l := range []struct {
		what  string
		cidrs []string
	}{{"node", n.Nodes}, {"pod", n.Pods}, {"service", n.Services}} {
		if len(l.cidrs) == 0 {
			return fmt.Errorf("no %s network on record", l.what)
		}
		for _, c := range l.cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil || !p.Addr().Is4() {
				return fmt.Errorf("%s network %q is not an IPv4 CIDR", l.what, c)
			}
		}
	}
	return nil
}

// Reserved is a network of the service side that no customer network may overlap.
type Reserved struct {
	// Name says what it is, e.g. "the service cluster's pod network".
	Name string
	// CIDR is the range, e.g. 100.96.0.0/16; a single address is a /32.
	CIDR string
}

// Overlaps lists, one sentence each, every customer network that overlaps a reserved one,
// naming both ranges. Unparsable ranges are reported too.
func Overlaps(n Networks, reserved []Reserved) []string {
	var out []string
	for _, l := range []struct {
		what  string
		cidrs []string
	}{{"node", n.Nodes}, {"pod", n.Pods}, {"service", n.Services}} {
		for _, c := range l.cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				out = append(out, fmt.Sprintf("the customer's %s network %q is not a CIDR", l.what, c))
				continue
			}
			for _, r := range reserved {
				q, err := netip.ParsePrefix(r.CIDR)
				if err != nil {
					out = append(out, fmt.Sprintf("%s %q is not a CIDR", r.Name, r.CIDR))
					continue
				}
				if p.Overlaps(q) {
					out = append(out, fmt.Sprintf("the customer's %s network %s overlaps %s %s", l.what, p, r.Name, q))
				}
			}
		}
	}
	return out
}

// OverlapError joins Overlaps' sentences into one error, or returns nil.
func OverlapError(n Networks, reserved []Reserved) error {
	o := Overlaps(n, reserved)
	if len(o) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the tunnel would send the apiserver's traffic to the wrong network; choose other ranges for the cluster", strings.Join(o, "; "))
}
