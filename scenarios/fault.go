package scenarios

import (
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
)

// Fault switches a fakecloud fault on. Its fields are those of fakecloud's faults.Rule (and of
// `fakecloud fault add`), in camelCase, plus a name, an expiry and a seed.
type Fault struct {
	// Name lets a later clearFault switch this fault off; unique in the scenario.
	Name string `yaml:"name,omitempty"`
	// Type is error, latency, outage, stuck or quota.
	Type string `yaml:"type"`
	// Service is compute, network, load-balancer, image, baremetal, identity, or "*" for all
	// (error, latency and outage faults; stuck faults match task kinds, quotas resources).
	Service string `yaml:"service,omitempty"`
	// Operation is a glob on the API operation (e.g. "server.*") or, for a stuck fault, on the
	// task kind (e.g. "loadbalancer.create"); empty: every operation.
	Operation string `yaml:"operation,omitempty"`
	// Project is a project id; empty: every project.
	Project string `yaml:"project,omitempty"`
	// Rate is the share of matching requests affected, 0 < rate <= 1 (error and latency);
	// default 1. A rate below 1 needs a seed.
	Rate *float64 `yaml:"rate,omitempty"`
	// Seed makes a probabilistic fault pick the same requests on every run.
	Seed *int64 `yaml:"seed,omitempty"`
	// Status is the HTTP status an error fault answers, 400-599; default 500.
	Status int `yaml:"status,omitempty"`
	// Message is the message in an error fault's body.
	Message string `yaml:"message,omitempty"`
	// Latency is the delay a latency fault adds, up to 10m.
	Latency Duration `yaml:"latency,omitempty"`
	// Mode is how an outage shows: "503" (default) or "drop" (connections closed).
	Mode string `yaml:"mode,omitempty"`
	// StuckFor is how long a stuck fault holds a task before it goes to ERROR.
	StuckFor Duration `yaml:"stuckFor,omitempty"`
	// Resource is what a quota fault limits: instances, cores, ports, floatingip,
	// loadbalancer, images...
	Resource string `yaml:"resource,omitempty"`
	// Limit is the quota fault's limit, 0 or more.
	Limit *int `yaml:"limit,omitempty"`
	// ExpiresAfter switches the fault off by itself this long after it was switched on, so a
	// runner that dies never leaves the cloud broken. Required, at most MaxFaultExpiry.
	ExpiresAfter Duration `yaml:"expiresAfter"`
}

// ClearFault switches off faults switched on by earlier steps.
type ClearFault struct {
	// Name is the fault to switch off.
	Name string `yaml:"name,omitempty"`
	// All switches off every fault of the cloud.
	All bool `yaml:"all,omitempty"`
}

// MaxFaultExpiry bounds a fault's expiresAfter.
const MaxFaultExpiry = time.Hour

// faultTypes returns the kinds of fault fakecloud has (package fakecloud/faults).
func faultTypes() []string {
	return []string{faults.TypeError, faults.TypeLatency, faults.TypeOutage, faults.TypeStuck, faults.TypeQuota}
}

// faultServices returns the service names fakecloud's faults match (the catalog's types).
func faultServices() []string {
	return []string{"compute", "network", "load-balancer", "image", "baremetal", "identity", "*"}
}

// taskKinds returns the kinds of asynchronous task fakecloud runs, which stuck faults match:
// Octavia's and Nova's (exported by fakecloud/loadbalancer and fakecloud/compute), Neutron's
// syncs and Ironic's node steps.
func taskKinds() []string {
	return []string{
		"loadbalancer.create", "loadbalancer.update", "loadbalancer.delete",
		"compute.server.build", "compute.server.delete", "compute.server.action",
		"network.sync", "router.sync", "floatingip.sync", "port.sync", "security_group.sync",
		"node.verify", "node.clean", "node.deploy", "node.teardown", "node.inspect", "node.adopt", "node.power",
	}
}

// quotaResources returns the resources whose limit fakecloud lets a quota fault lower: Nova's,
// Neutron's (also with a plural s), Octavia's and Glance's.
func quotaResources() []string {
	return []string{
		"instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members", "metadata_items",
		"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule",
		"networks", "subnets", "ports", "routers", "floatingips", "security_groups", "security_group_rules",
		"loadbalancer", "listener", "pool", "healthmonitor", "member",
		"images",
	}
}

// Probabilistic reports whether the fault affects only a share of the requests.
func (f *Fault) Probabilistic() bool { return f.Rate != nil && *f.Rate > 0 && *f.Rate < 1 }

// Rule returns the fault as fakecloud's rule, switched on at now, with its seed.
func (f *Fault) Rule(now time.Time) faults.Rule {
	r := faults.Rule{
		Type: f.Type, Service: f.Service, Operation: f.Operation, Project: f.Project,
		Status: f.Status, Message: f.Message, Latency: f.Latency.Duration, Mode: f.Mode,
		StuckFor: f.StuckFor.Duration, Resource: f.Resource, Seed: f.Seed,
	}
	if f.Rate != nil {
		r.Rate = *f.Rate
	}
	if f.Limit != nil {
		r.Limit = *f.Limit
	}
	if f.ExpiresAfter.Duration > 0 {
		exp := now.Add(f.ExpiresAfter.Duration)
		r.Expires = &exp
	}
	return r
}

func (f *Fault) validate(v *validator, p fieldPath) {
	if v.inCleanup {
		v.errorf(p, "the cleanup may not switch a fault on")
	}
	if f.Name != "" {
		v.label(p.Key("name"), f.Name)
		if v.faults[f.Name] {
			v.errorf(p.Key("name"), "fault %q is already named by an earlier step", f.Name)
		}
		v.faults[f.Name] = true
	}
	switch {
	case f.ExpiresAfter.Duration <= 0:
		v.errorf(p.Key("expiresAfter"), "required: every fault expires by itself (e.g. expiresAfter: 10m), so a runner that dies never leaves the cloud broken")
	case f.ExpiresAfter.Duration > MaxFaultExpiry:
		v.errorf(p.Key("expiresAfter"), "at most %s, got %s", MaxFaultExpiry, f.ExpiresAfter)
	}
	if !slices.Contains(faultTypes(), f.Type) {
		v.errorf(p.Key("type"), "unknown fault type %q (want %s)", f.Type, strings.Join(faultTypes(), ", "))
		return
	}
	// Which fields each type takes; a field of another type is a mistake.
	only := func(set bool, key string, types ...string) {
		if set && !slices.Contains(types, f.Type) {
			v.errorf(p.Key(key), "does not apply to a %s fault (only to %s)", f.Type, strings.Join(types, ", "))
		}
	}
	only(f.Service != "", "service", faults.TypeError, faults.TypeLatency, faults.TypeOutage)
	only(f.Operation != "", "operation", faults.TypeError, faults.TypeLatency, faults.TypeOutage, faults.TypeStuck)
	only(f.Rate != nil, "rate", faults.TypeError, faults.TypeLatency)
	only(f.Seed != nil, "seed", faults.TypeError, faults.TypeLatency)
	only(f.Status != 0, "status", faults.TypeError)
	only(f.Message != "", "message", faults.TypeError)
	only(f.Latency.Duration != 0, "latency", faults.TypeLatency)
	only(f.Mode != "", "mode", faults.TypeOutage)
	only(f.StuckFor.Duration != 0, "stuckFor", faults.TypeStuck)
	only(f.Resource != "", "resource", faults.TypeQuota)
	only(f.Limit != nil, "limit", faults.TypeQuota)

	if f.Service != "" && !slices.Contains(faultServices(), f.Service) {
		v.errorf(p.Key("service"), "unknown service %q (want %s)", f.Service, strings.Join(faultServices(), ", "))
	}
	if f.Operation != "" {
		if _, err := path.Match(f.Operation, ""); err != nil {
			v.errorf(p.Key("operation"), "%q is not a valid glob: %v", f.Operation, err)
		}
	}
	if f.Rate != nil {
		switch r := *f.Rate; {
		case r <= 0 || r > 1:
			v.errorf(p.Key("rate"), "must be above 0 and at most 1, got %g", r)
		case r < 1 && f.Seed == nil:
			v.errorf(p.Key("seed"), "required: a fault with rate %g picks requests at random; give it a seed so that a run repeats", r)
		}
	}
	if f.Seed != nil && !f.Probabilistic() {
		v.errorf(p.Key("seed"), "only a fault with a rate below 1 draws at random")
	}

	switch f.Type {
	case faults.TypeError:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			v.errorf(p.Key("status"), "%d is not an HTTP error status (400-599)", f.Status)
		}
	case faults.TypeLatency:
		if f.Latency.Duration <= 0 || f.Latency.Duration > 10*time.Minute {
			v.errorf(p.Key("latency"), "required: a delay above 0 and at most 10m, got %s", f.Latency)
		}
	case faults.TypeOutage:
		if f.Mode != "" && f.Mode != "503" && f.Mode != "drop" {
			v.errorf(p.Key("mode"), "want 503 or drop, got %q", f.Mode)
		}
	case faults.TypeStuck:
		f.validateStuck(v, p)
	case faults.TypeQuota:
		if f.Resource == "" {
			v.errorf(p.Key("resource"), "required: the resource to limit, one of %s", strings.Join(quotaResources(), ", "))
		} else if !slices.Contains(quotaResources(), f.Resource) {
			v.errorf(p.Key("resource"), "fakecloud enforces no quota %q (want one of %s)", f.Resource, strings.Join(quotaResources(), ", "))
		}
		if f.Limit == nil {
			v.errorf(p.Key("limit"), "required: the limit, 0 or more")
		} else if *f.Limit < 0 {
			v.errorf(p.Key("limit"), "must be 0 or more, got %d", *f.Limit)
		}
	}
	// What passed here must pass fakecloud's own check too.
	if len(v.problemsAt(p)) == 0 {
		r := f.Rule(time.Now())
		if err := r.Validate(); err != nil {
			v.errorf(p, "fakecloud refuses this fault: %v", err)
		}
	}
}

func (f *Fault) validateStuck(v *validator, p fieldPath) {
	if f.StuckFor.Duration <= 0 {
		v.errorf(p.Key("stuckFor"), "required: how long tasks hang before they go to ERROR, e.g. 30s")
	} else if f.ExpiresAfter.Duration > 0 && f.ExpiresAfter.Duration <= f.StuckFor.Duration {
		v.errorf(p.Key("expiresAfter"), "must be longer than stuckFor (%s): a task held by an expired fault resumes instead of going to ERROR", f.StuckFor)
	}
	if f.Operation == "" {
		v.errorf(p.Key("operation"), "required: the task kind to hold, one of %s", strings.Join(taskKinds(), ", "))
		return
	}
	for _, k := range taskKinds() {
		if ok, _ := path.Match(f.Operation, k); ok {
			return
		}
	}
	v.errorf(p.Key("operation"), "%q matches no task kind of fakecloud (%s)", f.Operation, strings.Join(taskKinds(), ", "))
}

func (c *ClearFault) validate(v *validator, p fieldPath) {
	switch {
	case c.All && c.Name != "":
		v.errorf(p, "set name or all, not both")
	case !c.All && c.Name == "":
		v.errorf(p, "set name (a fault of an earlier step) or all: true")
	case c.Name != "" && !v.faults[c.Name]:
		v.errorf(p.Key("name"), "no earlier step switches on a fault named %q", c.Name)
	}
}
