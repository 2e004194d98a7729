package scenarios

import (
	"slices"
	"strings"
)

// Expect waits until the objects it picks are in a state: a condition with a status (and
// optionally a reason and a message), a field with a value, or a count of objects.
type Expect struct {
	// Object picks the objects.
	Object ObjectRef `yaml:"object"`
	// Match is all (default: every object the selector picks) or any (one is enough).
	Match string `yaml:"match,omitempty"`
	// Count, when set, is how many objects the selector (or name: 0 or 1) must pick.
	Count *int `yaml:"count,omitempty"`

	// Condition is a condition type of the object's status, e.g. Available or EndpointReady.
	Condition string `yaml:"condition,omitempty"`
	// Status is the condition's status: True (default), False or Unknown.
	Status string `yaml:"status,omitempty"`
	// Reason, when set, is the condition's reason, e.g. CloudError.
	Reason string `yaml:"reason,omitempty"`
	// MessageContains, when set, is text the condition's message holds, e.g. the cloud's
	// error while a fault holds.
	MessageContains string `yaml:"messageContains,omitempty"`

	// FieldPath is a field of the object, as ".status.version".
	FieldPath string `yaml:"fieldPath,omitempty"`
	// Equals is the value FieldPath must have.
	Equals string `yaml:"equals,omitempty"`

	// Within is how long to wait: an interval's name (spec.intervals or a default one) or a
	// duration such as 2m.
	Within string `yaml:"within"`
	// StableFor, when set, is how long the state must then hold without a break.
	StableFor Duration `yaml:"stableFor,omitempty"`
}

// Condition statuses.
const (
	StatusTrue    = "True"
	StatusFalse   = "False"
	StatusUnknown = "Unknown"
)

// Match values.
const (
	MatchAll = "all"
	MatchAny = "any"
)

// StatusOrDefault is the expected condition status, True when not set.
func (e *Expect) StatusOrDefault() string {
	if e.Status == "" {
		return StatusTrue
	}
	return e.Status
}

// Probe checks the customer cluster the way its user would.
type Probe struct {
	// APIServer asks the customer cluster's API, through its load balancer, whether it is
	// ready.
	APIServer *APIServerProbe `yaml:"apiServer,omitempty"`
	// Logs reads a pod's logs, which kube-apiserver fetches from the kubelet through the tunnel.
	Logs *LogsProbe `yaml:"logs,omitempty"`
	// Within, when set, retries until the probe succeeds, at most this long (an interval's name
	// or a duration); otherwise it is tried once.
	Within string `yaml:"within,omitempty"`
}

// APIServerProbe is a GET on the customer cluster's API.
type APIServerProbe struct {
	// Path is the path to get; default /readyz.
	Path string `yaml:"path,omitempty"`
}

// LogsProbe is `kubectl logs` against the customer cluster.
type LogsProbe struct {
	// Namespace is the pod's namespace; default kube-system.
	Namespace string `yaml:"namespace,omitempty"`
	// Name picks a pod by name.
	Name string `yaml:"name,omitempty"`
	// Selector picks the first pod with these labels, e.g. {k8s-app: kube-proxy}.
	Selector map[string]string `yaml:"selector,omitempty"`
	// Container is the container whose logs to read; default the pod's only one.
	Container string `yaml:"container,omitempty"`
}

// WriteCanary writes a ConfigMap into the customer cluster (so into its hosted etcd) holding a
// random value; an assert step later checks it is still there with that value.
type WriteCanary struct {
	// Name is the ConfigMap's name, unique among the scenario's canaries.
	Name string `yaml:"name"`
	// Namespace is the ConfigMap's namespace; default "default".
	Namespace string `yaml:"namespace,omitempty"`
}

// Assert checks the cloud and the clusters. Every check it sets must hold.
type Assert struct {
	// NoDuplicates lists resource kinds of which the cluster must not own two with the same
	// name in the cloud (what a create retried after a lost answer leaves behind):
	// loadbalancers, servers, floatingips, networks, routers.
	NoDuplicates []string `yaml:"noDuplicates,omitempty"`
	// NothingLeft checks that nothing of the cluster is left in the cloud: servers, ports,
	// floating IPs, networks, routers, security groups, load balancers.
	NothingLeft bool `yaml:"nothingLeft,omitempty"`
	// Canary names a canary an earlier writeCanary step wrote: it must still be there, with
	// its value.
	Canary string `yaml:"canary,omitempty"`
	// Within, when set, retries until every check holds, at most this long; otherwise they are
	// checked once.
	Within string `yaml:"within,omitempty"`
}

// Resource kinds of Assert.NoDuplicates.
const (
	DuplicateLoadBalancers = "loadbalancers"
	DuplicateServers       = "servers"
	DuplicateFloatingIPs   = "floatingips"
	DuplicateNetworks      = "networks"
	DuplicateRouters       = "routers"
)

func duplicateKinds() []string {
	return []string{DuplicateLoadBalancers, DuplicateServers, DuplicateFloatingIPs, DuplicateNetworks, DuplicateRouters}
}

func (e *Expect) validate(v *validator, p fieldPath) {
	info := e.Object.validate(v, p.Key("object"))
	v.within(p.Key("within"), e.Within, true)
	if e.StableFor.Duration < 0 {
		v.errorf(p.Key("stableFor"), "must not be negative")
	} else if iv, ok := v.s.Interval(e.Within); ok && e.StableFor.Duration >= iv.Timeout.Duration {
		v.errorf(p.Key("stableFor"), "%s does not fit in within (%s)", e.StableFor, iv.Timeout)
	}
	switch e.Match {
	case "", MatchAll:
	case MatchAny:
		if len(e.Object.Selector) == 0 {
			v.errorf(p.Key("match"), "applies only to an object picked by a selector")
		}
	default:
		v.errorf(p.Key("match"), "want %s or %s, got %q", MatchAll, MatchAny, e.Match)
	}
	if e.Count != nil {
		switch {
		case *e.Count < 0:
			v.errorf(p.Key("count"), "must be 0 or more, got %d", *e.Count)
		case e.Object.Name != "" && *e.Count > 1:
			v.errorf(p.Key("count"), "an object picked by name is there or not: want 0 or 1, got %d", *e.Count)
		}
	}
	switch {
	case e.Condition != "" && e.FieldPath != "":
		v.errorf(p, "set condition or fieldPath, not both")
	case e.Condition == "" && e.FieldPath == "" && e.Count == nil:
		v.errorf(p, "set condition, fieldPath or count: what to wait for")
	}
	if e.Condition != "" {
		if len(info.Conditions) > 0 && !slices.Contains(info.Conditions, e.Condition) {
			v.errorf(p.Key("condition"), "%s has no condition %q (it has %s)", e.Object.Kind, e.Condition, strings.Join(info.Conditions, ", "))
		}
	} else {
		for key, set := range map[string]bool{"status": e.Status != "", "reason": e.Reason != "", "messageContains": e.MessageContains != ""} {
			if set {
				v.errorf(p.Key(key), "applies only with condition")
			}
		}
	}
	switch e.Status {
	case "", StatusTrue, StatusFalse, StatusUnknown:
	default:
		v.errorf(p.Key("status"), "want True, False or Unknown, got %q", e.Status)
	}
	if e.FieldPath != "" {
		if !strings.HasPrefix(e.FieldPath, ".") || strings.HasSuffix(e.FieldPath, ".") || strings.Contains(e.FieldPath, "..") {
			v.errorf(p.Key("fieldPath"), "want a field path such as .status.version, got %q", e.FieldPath)
		}
		if e.Equals == "" {
			v.errorf(p.Key("equals"), "required with fieldPath: the value to wait for")
		}
	} else if e.Equals != "" {
		v.errorf(p.Key("equals"), "applies only with fieldPath")
	}
}

func (pr *Probe) validate(v *validator, p fieldPath) {
	v.needCluster(p)
	v.within(p.Key("within"), pr.Within, false)
	switch {
	case pr.APIServer != nil && pr.Logs != nil:
		v.errorf(p, "set apiServer or logs, not both")
	case pr.APIServer == nil && pr.Logs == nil:
		v.errorf(p, "set apiServer: {} or logs")
	case pr.APIServer != nil:
		if pth := pr.APIServer.Path; pth != "" && !strings.HasPrefix(pth, "/") {
			v.errorf(p.Key("apiServer").Key("path"), "want an absolute path such as /readyz, got %q", pth)
		}
	default:
		v.target(p.Key("logs"), "", pr.Logs.Namespace, pr.Logs.Name, pr.Logs.Selector, true)
	}
}

func (w *WriteCanary) validate(v *validator, p fieldPath) {
	v.needCluster(p)
	if w.Name == "" {
		v.errorf(p.Key("name"), "required: the canary's name")
	} else {
		v.objectName(p.Key("name"), w.Name)
		if v.canaries[w.Name] {
			v.errorf(p.Key("name"), "canary %q is already written by an earlier step", w.Name)
		}
		v.canaries[w.Name] = true
	}
	if w.Namespace != "" {
		v.label(p.Key("namespace"), w.Namespace)
	}
}

func (a *Assert) validate(v *validator, p fieldPath) {
	v.within(p.Key("within"), a.Within, false)
	if len(a.NoDuplicates) == 0 && !a.NothingLeft && a.Canary == "" {
		v.errorf(p, "set noDuplicates, nothingLeft or canary: what to check")
	}
	seen := map[string]bool{}
	for i, k := range a.NoDuplicates {
		switch {
		case !slices.Contains(duplicateKinds(), k):
			v.errorf(p.Key("noDuplicates").Index(i), "unknown resource kind %q (want %s)", k, strings.Join(duplicateKinds(), ", "))
		case seen[k]:
			v.errorf(p.Key("noDuplicates").Index(i), "%s is listed twice", k)
		}
		seen[k] = true
	}
	if a.Canary != "" && !v.canaries[a.Canary] {
		v.errorf(p.Key("canary"), "no earlier writeCanary step writes a canary named %q", a.Canary)
	}
}
