package haproxy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
)

// config is a Spec checked and reduced to what haproxy.cfg says, in output order.
type config struct {
	lbID      string
	frontends []frontend
	backends  []*backend
}

// plan checks spec and decides every section of the file.
func plan(spec loadbalancer.Spec, opts Options) (config, error) {
	c := config{lbID: spec.ID}
	if err := checkName("load balancer", spec.ID); err != nil {
		return c, err
	}
	pools := map[string]*backend{}
	for _, p := range spec.Pools {
		if _, dup := pools[p.ID]; dup {
			return c, fmt.Errorf("pool %s appears twice", p.ID)
		}
		if poolSkipReason(p.Protocol) != "" {
			pools[p.ID] = nil // known, not rendered
			continue
		}
		be, err := newBackend(p)
		if err != nil {
			return c, err
		}
		pools[p.ID] = be
		c.backends = append(c.backends, be)
	}
	var bind netip.Addr
	if spec.AdminStateUp && servedListeners(spec) {
		a, err := checkAddr("VIP address", cmp.Or(opts.BindAddress, spec.VIP.Address))
		if err != nil {
			return c, err
		}
		bind = a
	}
	ports := map[int]string{}
	for _, l := range spec.Listeners {
		if !spec.AdminStateUp || !l.AdminStateUp || listenerSkipReason(l.Protocol) != "" {
			continue
		}
		f, err := newFrontend(l, bind)
		if err != nil {
			return c, err
		}
		if other, dup := ports[l.ProtocolPort]; dup {
			return c, fmt.Errorf("listeners %s and %s both use port %d", other, l.ID, l.ProtocolPort)
		}
		ports[l.ProtocolPort] = l.ID
		if be := pools[l.DefaultPoolID]; be != nil && f.mode != modePrometheus {
			f.backend = be.id
			be.users = append(be.users, l)
			if f.mode == modeHTTP {
				be.httpUsers++
			}
		}
		c.frontends = append(c.frontends, f)
	}
	for _, be := range c.backends {
		if err := be.settle(); err != nil {
			return c, err
		}
	}
	slices.SortFunc(c.frontends, func(a, b frontend) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.id, b.id))
	})
	slices.SortFunc(c.backends, func(a, b *backend) int { return cmp.Compare(a.id, b.id) })
	return c, nil
}

// servedListeners reports whether any listener of spec will get a frontend, i.e. whether the
// VIP address is needed.
func servedListeners(spec loadbalancer.Spec) bool {
	for _, l := range spec.Listeners {
		if l.AdminStateUp && listenerSkipReason(l.Protocol) == "" {
			return true
		}
	}
	return false
}

// checkName accepts the characters HAProxy allows in proxy and server names.
func checkName(what, id string) error {
	if id == "" {
		return fmt.Errorf("%s has no id", what)
	}
	if len(id) > 128 {
		return fmt.Errorf("%s id %.20q... is longer than 128 characters", what, id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return fmt.Errorf("%s id %q has a character other than letters, digits, '-', '_', '.' and ':'", what, id)
		}
	}
	return nil
}

// checkAddr parses a literal IPv4 or IPv6 address without a zone.
func checkAddr(what, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	if a.Zone() != "" {
		return a, fmt.Errorf("%s %q has a zone", what, s)
	}
	return a.Unmap(), nil
}

// checkPort accepts a TCP port.
func checkPort(what string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%s %d is not in 1-65535", what, port)
	}
	return nil
}

// hostPort writes an address and a checked port as HAProxy reads them: [v6]:port or v4:port.
func hostPort(a netip.Addr, port int) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// hostOnly writes an address as HAProxy's `addr` reads it: [v6] or v4.
func hostOnly(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
