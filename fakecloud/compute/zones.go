package compute

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

func (s *Service) zoneRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/os-availability-zone", "availabilityzone.list", h(func(c *call) error { return s.listZones(c, false) }))
	rt.Handle("GET /v2.1/os-availability-zone/detail", "availabilityzone.list", h(func(c *call) error { return s.listZones(c, true) }))
	rt.Handle("GET /v2.1/os-hypervisors", "hypervisor.list", h(func(c *call) error { return s.listHypervisors(c, false) }))
	rt.Handle("GET /v2.1/os-hypervisors/detail", "hypervisor.list", h(func(c *call) error { return s.listHypervisors(c, true) }))
	rt.Handle("GET /v2.1/os-hypervisors/statistics", "hypervisor.statistics", h(s.hypervisorStats))
	rt.Handle("GET /v2.1/os-hypervisors/{id}", "hypervisor.get", h(s.getHypervisor))
	rt.Handle("GET /v2.1/os-hypervisors/{id}/uptime", "hypervisor.uptime", h(s.getHypervisor))
	rt.Handle("GET /v2.1/os-services", "service.list", h(s.listComputeServices))
	rt.Handle("GET /v2.1/os-aggregates", "aggregate.list", h(func(c *call) error {
		if err := c.requireAdmin("os_compute_api:os-aggregates:index"); err != nil {
			return err
		}
		return c.json(http.StatusOK, map[string]any{"aggregates": []any{}})
	}))
}

// listComputeServices serves os-services: a conductor and a scheduler on "controller", and a
// nova-compute per simulated hypervisor.
func (s *Service) listComputeServices(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-services:list"); err != nil {
		return err
	}
	q := c.r.URL.Query()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000")
	out := []map[string]any{}
	add := func(binary, host, zone string) {
		if (q.Get("binary") != "" && q.Get("binary") != binary) || (q.Get("host") != "" && q.Get("host") != host) {
			return
		}
		var id any = len(out) + 1
		if c.mv.AtLeast(53) {
			id = uuid.NewSHA1(flavorNS, []byte("service/"+binary+"/"+host)).String()
		}
		svc := map[string]any{"id": id, "binary": binary, "host": host, "zone": zone, "status": "enabled",
			"state": "up", "updated_at": now, "disabled_reason": nil}
		if c.mv.AtLeast(11) {
			svc["forced_down"] = false
		}
		out = append(out, svc)
	}
	add("nova-conductor", "controller", "internal")
	add("nova-scheduler", "controller", "internal")
	for _, az := range s.cfg.AvailabilityZones {
		for _, h := range s.hostsOf(az) {
			add("nova-compute", h, az)
		}
	}
	return c.json(http.StatusOK, map[string]any{"services": out})
}

func (s *Service) listZones(c *call, detail bool) error {
	if detail {
		if err := c.requireAdmin("os_compute_api:os-availability-zone:detail"); err != nil {
			return err
		}
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000")
	svc := func(name string) map[string]any {
		return map[string]any{name: map[string]any{"available": true, "active": true, "updated_at": now}}
	}
	out := []map[string]any{}
	for _, az := range s.cfg.AvailabilityZones {
		z := map[string]any{"zoneName": az, "zoneState": map[string]bool{"available": true}, "hosts": nil}
		if detail {
			hosts := map[string]any{}
			for _, hname := range s.hostsOf(az) {
				hosts[hname] = svc("nova-compute")
			}
			z["hosts"] = hosts
		}
		out = append(out, z)
	}
	if detail {
		out = append(out, map[string]any{"zoneName": "internal", "zoneState": map[string]bool{"available": true}, "hosts": map[string]any{
			"controller": map[string]any{
				"nova-conductor": map[string]any{"available": true, "active": true, "updated_at": now},
				"nova-scheduler": map[string]any{"available": true, "active": true, "updated_at": now},
			},
		}})
	}
	return c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": out})
}

// Simulated hypervisor capacity.
const (
	hvVCPUs  = 64
	hvRAMMiB = 256 * 1024
	hvDiskGB = 2000
)

// hvUptime is the uptime(1) line every simulated hypervisor reports.
const hvUptime = " 00:00:00 up 1 day,  0:00,  0 users,  load average: 0.00, 0.00, 0.00"

type hvUsage struct{ vms, vcpus, ram, disk int }

func (s *Service) hypervisorUsage() map[string]*hvUsage {
	out := map[string]*hvUsage{}
	s.scan(func(v *Server) bool {
		if v.Host != "" && v.ResourceClass == "" {
			u := out[v.Host]
			if u == nil {
				u = &hvUsage{}
				out[v.Host] = u
			}
			u.vms++
			u.vcpus += v.Flavor.VCPUs
			u.ram += v.Flavor.RAM
			u.disk += v.Flavor.Disk
		}
		return false
	})
	return out
}

func (s *Service) allHosts() []string {
	var out []string
	for _, az := range s.cfg.AvailabilityZones {
		out = append(out, s.hostsOf(az)...)
	}
	return out
}

func (c *call) hypervisorID(index int, host string) any {
	if c.mv.AtLeast(53) {
		return uuid.NewSHA1(flavorNS, []byte("hypervisor/"+host)).String()
	}
	return index + 1
}

func (c *call) hypervisorBody(index int, host string, u *hvUsage, detail bool) map[string]any {
	b := map[string]any{"id": c.hypervisorID(index, host), "hypervisor_hostname": host, "state": "up", "status": "enabled"}
	if !detail {
		return b
	}
	if u == nil {
		u = &hvUsage{}
	}
	b["hypervisor_type"] = "QEMU"
	b["host_ip"] = "192.168.0." + strconv.Itoa(10+index)
	b["service"] = map[string]any{"host": host, "id": c.hypervisorID(index, host), "disabled_reason": nil}
	if !c.mv.AtLeast(88) {
		b["vcpus"], b["vcpus_used"] = hvVCPUs, u.vcpus
		b["memory_mb"], b["memory_mb_used"], b["free_ram_mb"] = hvRAMMiB, u.ram, hvRAMMiB-u.ram
		b["local_gb"], b["local_gb_used"], b["free_disk_gb"] = hvDiskGB, u.disk, hvDiskGB-u.disk
		b["disk_available_least"] = hvDiskGB - u.disk
		b["running_vms"] = u.vms
		b["current_workload"] = 0
		b["hypervisor_version"] = 8002000
		cpu := map[string]any{"arch": "x86_64", "model": "Haswell", "vendor": "Intel", "features": []string{}, "topology": map[string]int{"cells": 1, "sockets": 1, "cores": hvVCPUs, "threads": 1}}
		if c.mv.AtLeast(28) {
			b["cpu_info"] = cpu
		} else { // a JSON string before 2.28
			data, _ := json.Marshal(cpu)
			b["cpu_info"] = string(data)
		}
	} else {
		b["uptime"] = hvUptime
	}
	return b
}

func (s *Service) listHypervisors(c *call, detail bool) error {
	if err := c.requireAdmin("os_compute_api:os-hypervisors:list"); err != nil {
		return err
	}
	usage := s.hypervisorUsage()
	pattern := c.r.URL.Query().Get("hypervisor_hostname_pattern")
	out := []map[string]any{}
	for i, h := range s.allHosts() {
		if pattern != "" && !strings.Contains(h, pattern) {
			continue
		}
		out = append(out, c.hypervisorBody(i, h, usage[h], detail))
	}
	return c.json(http.StatusOK, map[string]any{"hypervisors": out})
}

func (s *Service) getHypervisor(c *call) error {
	if err := c.requireAdmin("os_compute_api:os-hypervisors:show"); err != nil {
		return err
	}
	id := c.r.PathValue("id")
	usage := s.hypervisorUsage()
	for i, h := range s.allHosts() {
		if id == h || strings.EqualFold(id, toString(c.hypervisorID(i, h))) {
			if strings.HasSuffix(c.r.URL.Path, "/uptime") {
				if c.mv.AtLeast(88) {
					return httpapi.Errorf(http.StatusNotFound, "NotFound", "The resource could not be found.")
				}
				b := c.hypervisorBody(i, h, nil, false)
				b["uptime"] = hvUptime
				return c.json(http.StatusOK, map[string]any{"hypervisor": b})
			}
			return c.json(http.StatusOK, map[string]any{"hypervisor": c.hypervisorBody(i, h, usage[h], true)})
		}
	}
	return httpapi.Errorf(http.StatusNotFound, "ComputeHostNotFound", "Hypervisor with ID %s could not be found.", id)
}

func toString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	}
	return ""
}

func (s *Service) hypervisorStats(c *call) error {
	if c.mv.AtLeast(88) {
		return httpapi.Errorf(http.StatusNotFound, "NotFound", "The resource could not be found.")
	}
	if err := c.requireAdmin("os_compute_api:os-hypervisors:statistics"); err != nil {
		return err
	}
	hosts := s.allHosts()
	var tot hvUsage
	for _, u := range s.hypervisorUsage() {
		tot.vms += u.vms
		tot.vcpus += u.vcpus
		tot.ram += u.ram
		tot.disk += u.disk
	}
	n := len(hosts)
	return c.json(http.StatusOK, map[string]any{"hypervisor_statistics": map[string]int{
		"count": n, "current_workload": 0, "disk_available_least": n*hvDiskGB - tot.disk,
		"free_disk_gb": n*hvDiskGB - tot.disk, "free_ram_mb": n*hvRAMMiB - tot.ram,
		"local_gb": n * hvDiskGB, "local_gb_used": tot.disk, "memory_mb": n * hvRAMMiB,
		"memory_mb_used": tot.ram, "running_vms": tot.vms, "vcpus": n * hvVCPUs, "vcpus_used": tot.vcpus,
	}})
}
