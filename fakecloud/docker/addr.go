package docker

import "net/netip"

// ReservedBlock is the block of highest addresses of an IPv4 subnet that the docker backend
// keeps for itself: docker's own bookkeeping address of the bridge and the legs that routers
// and load balancers put on the subnet. Neutron leaves it out of allocation pools. Subnets of
// /26 and larger keep their top /29, /27 and /28 their top /30, smaller ones nothing (ok
// false), like IPv6 subnets, which the docker backend does not wire.
func ReservedBlock(p netip.Prefix) (netip.Prefix, bool) {
	if !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	var bits int
	switch {
	case p.Bits() <= 26:
		bits = 29
	case p.Bits() <= 28:
		bits = 30
	default:
		return netip.Prefix{}, false
	}
	last := lastAddr(p.Masked())
	return netip.PrefixFrom(last, bits).Masked(), true
}

// lastAddr is the highest address of p (its broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// topHost is the highest host address of the reserved block of p (the one below broadcast).
func topHost(p netip.Prefix) netip.Addr { return lastAddr(p).Prev() }
