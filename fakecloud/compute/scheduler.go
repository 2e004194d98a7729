package compute

import (
	"errors"
	"fmt"
	"slices"
)

// noValidHost is Nova's fault message when the scheduler finds no host.
const noValidHost = "No valid host was found. There are not enough hosts available."

// hostsOf returns the simulated hypervisors of a zone: compute-0.. in the first zone,
// <zone>-compute-0.. in the others.
func (s *Service) hostsOf(az string) []string {
	prefix := "compute-"
	if az != s.cfg.AvailabilityZones[0] {
		prefix = az + "-compute-"
	}
	out := make([]string, s.cfg.Hypervisors)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// zoneOfHost returns the zone of a simulated hypervisor.
func (s *Service) zoneOfHost(host string) (string, bool) {
	for _, az := range s.cfg.AvailabilityZones {
		if slices.Contains(s.hostsOf(az), host) {
			return az, true
		}
	}
	return "", false
}

// place chooses a hypervisor in az for a new server of group (nil: no group), honouring the
// group's policy. It runs inside a store update, so concurrent creates see each other's
// placements. An error means no host fits: the server goes to ERROR.
func (s *Service) place(group *ServerGroup, az string) (string, error) {
	hosts := s.hostsOf(az)
	start := int(s.rr.Add(1) % uint64(len(hosts)))
	rotated := append(slices.Clone(hosts[start:]), hosts[:start]...)
	if group == nil {
		return rotated[0], nil
	}
	count := map[string]int{}
	var used []string
	for _, id := range group.Members {
		if m, ok := s.servers.Get(id); ok && m.Host != "" && m.ScheduleError == "" {
			if count[m.Host] == 0 {
				used = append(used, m.Host)
			}
			count[m.Host]++
		}
	}
	switch group.Policy {
	case "affinity":
		if len(used) == 0 {
			return rotated[0], nil
		}
		if slices.Contains(hosts, used[0]) {
			return used[0], nil
		}
		return "", errors.New(noValidHost)
	case "soft-affinity":
		for _, h := range used {
			if slices.Contains(hosts, h) {
				return h, nil
			}
		}
		return rotated[0], nil
	case "anti-affinity":
		max := group.MaxServerPerHost
		if max <= 0 {
			max = 1
		}
		best := ""
		for _, h := range rotated {
			if count[h] < max && (best == "" || count[h] < count[best]) {
				best = h
			}
		}
		if best == "" {
			return "", errors.New(noValidHost)
		}
		return best, nil
	default: // soft-anti-affinity
		best := rotated[0]
		for _, h := range rotated {
			if count[h] < count[best] {
				best = h
			}
		}
		return best, nil
	}
}
