package network

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"sync"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// maxScan bounds the addresses tried for one allocation (IPv6 pools are practically endless).
const maxScan = 1 << 20

// ipam is the in-memory allocation index: which port holds each address of each subnet, and
// which MAC addresses are taken. It is rebuilt from the ports table on start, changed in the
// same store update as the ports (every change registers its undo with tx.OnRollback), so it
// never disagrees with the table and allocation never scans the ports.
type ipam struct {
	mu     sync.Mutex
	held   map[string]map[netip.Addr]string // subnet id -> address -> port id
	cursor map[string]netip.Addr            // subnet id -> the last address handed out
	macs   map[string]string                // mac -> port id
	// fields index ports by the attributes Nova, Octavia, CAPO and the CLI filter on most
	// (device_id, name, network_id, device_owner), so listings need not scan every port.
	fields map[string]strIndex
}

// indexedFields are the port attributes kept in ipam.fields.
var indexedFields = map[string]func(p *Port) string{
	"device_id":    func(p *Port) string { return p.DeviceID },
	"name":         func(p *Port) string { return p.Name },
	"network_id":   func(p *Port) string { return p.NetworkID },
	"device_owner": func(p *Port) string { return p.DeviceOwner },
}

// strIndex maps a field value to the ids of the rows holding it.
type strIndex map[string]map[string]bool

func (x strIndex) link(key, id string) {
	if key == "" {
		return
	}
	set := x[key]
	if set == nil {
		set = map[string]bool{}
		x[key] = set
	}
	set[id] = true
}

func (x strIndex) unlink(key, id string) {
	if set := x[key]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(x, key)
		}
	}
}

func newIPAM() *ipam {
	m := &ipam{held: map[string]map[netip.Addr]string{}, cursor: map[string]netip.Addr{}, macs: map[string]string{},
		fields: map[string]strIndex{}}
	for f := range indexedFields {
		m.fields[f] = strIndex{}
	}
	return m
}

func (m *ipam) rebuild(ports []Port) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ports {
		for f, get := range indexedFields {
			m.fields[f].link(get(&p), p.ID)
		}
		m.macs[p.MACAddress] = p.ID
		for _, ip := range p.FixedIPs {
			if a, err := netip.ParseAddr(ip.IPAddress); err == nil {
				m.subnet(ip.SubnetID)[a] = p.ID
			}
		}
	}
}

// reindex moves portID from old to now in the field indexes, as part of tx (nil: none).
func (m *ipam) reindex(tx *store.Tx, portID string, old, now *Port) {
	type change struct{ field, from, to string }
	var changes []change
	for f, get := range indexedFields {
		var from, to string
		if old != nil {
			from = get(old)
		}
		if now != nil {
			to = get(now)
		}
		if from != to {
			changes = append(changes, change{f, from, to})
		}
	}
	if len(changes) == 0 {
		return
	}
	m.mu.Lock()
	for _, c := range changes {
		m.fields[c.field].unlink(c.from, portID)
		m.fields[c.field].link(c.to, portID)
	}
	m.mu.Unlock()
	tx.OnRollback(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, c := range changes {
			m.fields[c.field].unlink(c.to, portID)
			m.fields[c.field].link(c.from, portID)
		}
	})
}

// portsOf returns the ids of the ports whose indexed field has one of vals.
func (m *ipam) portsOf(field string, vals []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.fields[field]
	var out []string
	for _, v := range vals {
		for id := range x[v] {
			out = append(out, id)
		}
	}
	return out
}

// countOf returns how many ports portsOf would return (an upper bound with repeats).
func (m *ipam) countOf(field string, vals []string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, v := range vals {
		n += len(m.fields[field][v])
	}
	return n
}

// portWithMAC returns the id of the port with mac.
func (m *ipam) portWithMAC(mac string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.macs[mac]
	return id, ok
}

// portsWithAddr returns the ids of the ports holding addr on any subnet.
func (m *ipam) portsWithAddr(addr string) []string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, h := range m.held {
		if id, ok := h[a]; ok {
			out = append(out, id)
		}
	}
	return out
}

func (m *ipam) subnet(id string) map[netip.Addr]string {
	h := m.held[id]
	if h == nil {
		h = map[netip.Addr]string{}
		m.held[id] = h
	}
	return h
}

// holder returns the port holding addr on subnet.
func (m *ipam) holder(subnetID string, addr netip.Addr) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.held[subnetID][addr]
	return id, ok
}

// take records addr on subnet as held by port, as part of tx.
func (m *ipam) take(tx *store.Tx, subnetID string, addr netip.Addr, portID string) {
	m.mu.Lock()
	h := m.subnet(subnetID)
	prev, had := h[addr]
	h[addr] = portID
	m.mu.Unlock()
	tx.OnRollback(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if had {
			m.subnet(subnetID)[addr] = prev
		} else {
			delete(m.subnet(subnetID), addr)
		}
	})
}

// release frees addr on subnet if portID holds it, as part of tx.
func (m *ipam) release(tx *store.Tx, subnetID string, addr netip.Addr, portID string) {
	m.mu.Lock()
	h := m.held[subnetID]
	if h == nil || h[addr] != portID {
		m.mu.Unlock()
		return
	}
	delete(h, addr)
	m.mu.Unlock()
	tx.OnRollback(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.subnet(subnetID)[addr] = portID
	})
}

// releasePort frees every address and the MAC of p, as part of tx.
func (m *ipam) releasePort(tx *store.Tx, p Port) {
	for _, ip := range p.FixedIPs {
		if a, err := netip.ParseAddr(ip.IPAddress); err == nil {
			m.release(tx, ip.SubnetID, a, p.ID)
		}
	}
	m.mu.Lock()
	had := m.macs[p.MACAddress] == p.ID
	if had {
		delete(m.macs, p.MACAddress)
	}
	m.mu.Unlock()
	if had {
		tx.OnRollback(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.macs[p.MACAddress] = p.ID
		})
	}
}

// dropSubnet forgets a deleted subnet, as part of tx.
func (m *ipam) dropSubnet(tx *store.Tx, subnetID string) {
	m.mu.Lock()
	h, had := m.held[subnetID]
	c, hadC := m.cursor[subnetID]
	delete(m.held, subnetID)
	delete(m.cursor, subnetID)
	m.mu.Unlock()
	tx.OnRollback(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if had {
			m.held[subnetID] = h
		}
		if hadC {
			m.cursor[subnetID] = c
		}
	})
}

// count returns how many addresses of subnet are held.
func (m *ipam) count(subnetID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held[subnetID])
}

// allocate finds a free address in sn's allocation pools, starting after the last one handed
// out, and records it for portID. A full subnet is a 409 IpAddressGenerationFailure.
func (m *ipam) allocate(tx *store.Tx, sn *Subnet, portID string) (netip.Addr, error) {
	pools := make([][2]netip.Addr, 0, len(sn.AllocationPools))
	for _, p := range sn.AllocationPools {
		a, err1 := netip.ParseAddr(p.Start)
		b, err2 := netip.ParseAddr(p.End)
		if err1 == nil && err2 == nil {
			pools = append(pools, [2]netip.Addr{a, b})
		}
	}
	fail := httpapi.Errorf(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", sn.NetworkID)
	if len(pools) == 0 {
		return netip.Addr{}, fail
	}
	m.mu.Lock()
	h := m.subnet(sn.ID)
	cur, hasCur := m.cursor[sn.ID]
	// Find the pool holding the cursor, and start just after it.
	pi, next := 0, pools[0][0]
	if hasCur {
		for i, p := range pools {
			if cur.Compare(p[0]) >= 0 && cur.Compare(p[1]) <= 0 {
				pi, next = i, cur.Next()
				if !next.IsValid() || next.Compare(p[1]) > 0 {
					pi = (i + 1) % len(pools)
					next = pools[pi][0]
				}
				break
			}
		}
	}
	gw, _ := netip.ParseAddr(sn.GatewayIP)
	var found netip.Addr
	tried := 0
	for visited := 0; visited <= len(pools) && tried < maxScan; {
		p := pools[pi]
		for a := next; a.IsValid() && a.Compare(p[1]) <= 0 && tried < maxScan; a = a.Next() {
			tried++
			if _, taken := h[a]; !taken && a != gw {
				found = a
				break
			}
		}
		if found.IsValid() {
			break
		}
		visited++
		pi = (pi + 1) % len(pools)
		next = pools[pi][0]
	}
	if !found.IsValid() {
		m.mu.Unlock()
		return netip.Addr{}, fail
	}
	prevCur := m.cursor[sn.ID]
	m.cursor[sn.ID] = found
	m.mu.Unlock()
	tx.OnRollback(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if hasCur {
			m.cursor[sn.ID] = prevCur
		} else {
			delete(m.cursor, sn.ID)
		}
	})
	m.take(tx, sn.ID, found, portID)
	return found, nil
}

// newMAC picks an unused fa:16:3e:xx:xx:xx address and records it for portID.
func (m *ipam) newMAC(tx *store.Tx, portID string) (string, error) {
	for range 64 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generating a MAC address: %w", err)
		}
		mac := fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
		if m.takeMAC(tx, mac, portID) {
			return mac, nil
		}
	}
	return "", httpapi.Errorf(http.StatusConflict, "MacAddressGenerationFailure", "Unable to generate unique mac")
}

// takeMAC records mac for portID unless another port has it.
func (m *ipam) takeMAC(tx *store.Tx, mac, portID string) bool {
	m.mu.Lock()
	if owner, ok := m.macs[mac]; ok && owner != portID {
		m.mu.Unlock()
		return false
	}
	_, had := m.macs[mac]
	m.macs[mac] = portID
	m.mu.Unlock()
	if !had {
		tx.OnRollback(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			delete(m.macs, mac)
		})
	}
	return true
}

// cidrInfo is a parsed subnet prefix with its default gateway and pool.
type cidrInfo struct {
	prefix    netip.Prefix
	firstHost netip.Addr
	lastHost  netip.Addr
	// reserved is the block the backend keeps for itself (invalid: none).
	reserved netip.Prefix
}

// subnetCIDR is parseCIDR with the backend's reserved block of the subnet.
func (s *Service) subnetCIDR(str string, version int) (cidrInfo, error) {
	info, err := parseCIDR(str, version)
	if err == nil {
		info.reserved = s.reservedBlock(info.prefix)
	}
	return info, err
}

// reservedBlock is the block of p the backend keeps for itself, if any.
func (s *Service) reservedBlock(p netip.Prefix) netip.Prefix {
	if s.cfg.Reserved == nil {
		return netip.Prefix{}
	}
	if block, ok := s.cfg.Reserved(p); ok {
		return block
	}
	return netip.Prefix{}
}

// parseCIDR checks that s is a network address with its prefix length (10.0.0.0/24, not
// 10.0.0.1/24) of the given IP version (0: any) with room for at least one host.
func parseCIDR(s string, version int) (cidrInfo, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return cidrInfo{}, httpapi.BadRequest("Invalid input for cidr. Reason: '%s' is not a valid IP subnet.", s)
	}
	if p.Masked() != p {
		return cidrInfo{}, httpapi.BadRequest("Invalid input for cidr. Reason: '%s' isn't a recommended CIDR, '%s' is recommended.", s, p.Masked())
	}
	v := 4
	if p.Addr().Is6() {
		v = 6
	}
	if version != 0 && version != v {
		return cidrInfo{}, httpapi.BadRequest("Cidr %s does not match ip_version %d", s, version)
	}
	if (v == 4 && p.Bits() > 30) || (v == 6 && p.Bits() > 126) {
		return cidrInfo{}, httpapi.BadRequest("Invalid input for cidr. Reason: '%s' is too small to hold hosts.", s)
	}
	first := p.Addr().Next()
	last := lastAddr(p)
	if v == 4 {
		last = last.Prev() // the broadcast address
	}
	return cidrInfo{prefix: p, firstHost: first, lastHost: last}, nil
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 7; j >= 0; j-- {
			if i*8+(7-j) >= bits {
				b[i] |= 1 << j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }
