package docker

import (
	"net/netip"
	"testing"
)

func TestReservedBlock(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "" when there is none
	}{
		{"10.0.0.0/16", "10.0.255.248/29"},
		{"10.0.0.0/24", "10.0.0.248/29"},
		{"192.168.250.0/24", "192.168.250.248/29"},
		{"10.0.0.64/26", "10.0.0.120/29"}, // top /29 of a /26
		{"10.0.0.32/27", "10.0.0.60/30"},  // /27: top /30
		{"10.0.0.16/28", "10.0.0.28/30"},  // /28: top /30
		{"10.0.0.0/29", ""},
		{"10.0.0.0/30", ""},
		{"10.0.0.1/32", ""},
		{"10.0.0.5/24", "10.0.0.248/29"},   // not masked: the block of its subnet
		{"10.0.0.200/26", "10.0.0.248/29"}, // not masked: 10.0.0.192/26
		{"fd00::/64", ""},
		{"fd00::/120", ""},
	} {
		got, ok := ReservedBlock(netip.MustParsePrefix(c.in))
		if c.want == "" {
			if ok || got.IsValid() {
				t.Errorf("ReservedBlock(%s) = %s, %v; want none", c.in, got, ok)
			}
			continue
		}
		if !ok || got != netip.MustParsePrefix(c.want) {
			t.Errorf("ReservedBlock(%s) = %s, %v; want %s", c.in, got, ok, c.want)
		}
		// The block is inside the subnet and ends at its broadcast address.
		sub := netip.MustParsePrefix(c.in).Masked()
		if !sub.Contains(got.Addr()) || lastAddr(got) != lastAddr(sub) {
			t.Errorf("ReservedBlock(%s) = %s is not the top of the subnet", c.in, got)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10.0.0.0/24", "10.0.0.255"},
		{"10.0.0.17/24", "10.0.0.255"},
		{"10.0.0.0/16", "10.0.255.255"},
		{"10.0.0.248/29", "10.0.0.255"},
		{"10.0.0.60/30", "10.0.0.63"},
		{"10.0.0.7/32", "10.0.0.7"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"172.24.4.0/23", "172.24.5.255"},
	} {
		if got := lastAddr(netip.MustParsePrefix(c.in)); got != netip.MustParseAddr(c.want) {
			t.Errorf("lastAddr(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestTopHost(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10.0.0.248/29", "10.0.0.254"},
		{"10.0.255.248/29", "10.0.255.254"},
		{"10.0.0.60/30", "10.0.0.62"},
		{"10.0.0.0/24", "10.0.0.254"},
	} {
		if got := topHost(netip.MustParsePrefix(c.in)); got != netip.MustParseAddr(c.want) {
			t.Errorf("topHost(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
