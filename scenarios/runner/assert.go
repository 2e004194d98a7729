package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/scenarios"
)

// cloudKinds maps Assert.NoDuplicates' names to the kinds of fakecloud's state.
var cloudKinds = map[string]string{
	scenarios.DuplicateLoadBalancers: "loadbalancer",
	scenarios.DuplicateServers:       "server",
	scenarios.DuplicateFloatingIPs:   "floatingip",
	scenarios.DuplicateNetworks:      "network",
	scenarios.DuplicateRouters:       "router",
}

// leakKinds are the kinds nothingLeft looks at.
var leakKinds = []string{"server", "port", "floatingip", "network", "subnet", "router", "security_group",
	"loadbalancer", "listener", "pool", "member", "healthmonitor", "server_group"}

// assert runs an assert step's checks, retrying within its interval.
func (r *run) assert(ctx context.Context, a *scenarios.Assert) error {
	var dups, leaks []string
	err := r.retry(ctx, a.Within, "assert", func() error {
		var errs []error
		dups, leaks = nil, nil
		if len(a.NoDuplicates) > 0 || a.NothingLeft {
			st, err := r.env.Cloud.State(ctx, "")
			if err != nil {
				return fmt.Errorf("reading fakecloud's state: %w", err)
			}
			if len(a.NoDuplicates) > 0 {
				if dups = duplicates(st, r.cluster, a.NoDuplicates); len(dups) > 0 {
					errs = append(errs, fmt.Errorf("duplicated in the cloud: %s", strings.Join(dups, ", ")))
				}
			}
			if a.NothingLeft {
				if leaks = leftovers(st, r.cluster, r.made); len(leaks) > 0 {
					errs = append(errs, fmt.Errorf("left in the cloud: %s", strings.Join(leaks, ", ")))
				}
			}
		}
		if a.Canary != "" {
			if err := r.checkCanary(ctx, a.Canary); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	r.res.Duplicates = append(r.res.Duplicates, dups...)
	r.res.Leaks = append(r.res.Leaks, leaks...)
	return err
}

// ofCluster reports whether a cloud resource belongs to the cluster: the providers name every
// resource they make after it ("k8s-<namespace>-<cluster>-apiserver", "<cluster>-md-0-...").
// Floating IPs are named by their address, so none is ever counted as the cluster's.
func ofCluster(name, cluster string) bool { return cluster != "" && strings.Contains(name, cluster) }

// duplicates lists the cluster's resources of the given kinds sharing a name.
func duplicates(st adminclient.State, cluster string, kinds []string) []string {
	want := map[string]bool{}
	for _, k := range kinds {
		want[cloudKinds[k]] = true
	}
	count := map[string][]string{}
	for _, res := range st.Resources {
		if want[res.Kind] && ofCluster(res.Name, cluster) {
			key := res.Kind + " " + res.Name
			count[key] = append(count[key], res.ID)
		}
	}
	var out []string
	for key, ids := range count {
		if len(ids) > 1 {
			sort.Strings(ids)
			out = append(out, fmt.Sprintf("%s x%d (%s)", key, len(ids), strings.Join(ids, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// leftovers lists the cloud resources still named after the cluster, or made while it lived
// (made, by id).
func leftovers(st adminclient.State, cluster string, made map[string]services.Resource) []string {
	kinds := leakKindSet()
	var out []string
	for _, res := range st.Resources {
		_, wasMade := made[res.ID]
		if kinds[res.Kind] && (ofCluster(res.Name, cluster) || wasMade) {
			out = append(out, fmt.Sprintf("%s %s (%s, %s)", res.Kind, res.Name, res.ID, res.Status))
		}
	}
	sort.Strings(out)
	return out
}

func leakKindSet() map[string]bool {
	kinds := map[string]bool{}
	for _, k := range leakKinds {
		kinds[k] = true
	}
	return kinds
}

// takeBaseline records the ids of the cloud's resources before the cluster is created.
func (r *run) takeBaseline(ctx context.Context) {
	st, err := r.env.Cloud.State(ctx, "")
	if err != nil {
		r.note("fakecloud's state before the cluster could not be read (%v): nothingLeft checks only the resources named after the cluster", err)
		return
	}
	r.baseline = map[string]bool{}
	for _, res := range st.Resources {
		r.baseline[res.ID] = true
	}
}

// noteMade records the resources the cluster made, as seen before its deletion.
func (r *run) noteMade(ctx context.Context) {
	if r.baseline == nil {
		return
	}
	st, err := r.env.Cloud.State(ctx, "")
	if err != nil {
		r.note("fakecloud's state before the deletion could not be read (%v): nothingLeft checks only the resources named after the cluster", err)
		return
	}
	for _, res := range madeBy(st, r.baseline, r.cluster) {
		r.made[res.ID] = res
	}
	r.progress.linef("  %d cloud resources made since the cluster's creation, checked by nothingLeft", len(r.made))
}

// madeBy returns the resources that appeared since the baseline and belong to the cluster:
// named after it, or an Octavia VIP port ("octavia-lb-<id>") of one of its load balancers.
// Unnamed resources (pool members, health monitors) are left out: another cluster made at the
// same time could own them, and their load balancer's deletion takes them along.
func madeBy(st adminclient.State, baseline map[string]bool, cluster string) []services.Resource {
	kinds := leakKindSet()
	lbs := map[string]bool{}
	for _, res := range st.Resources {
		if res.Kind == "loadbalancer" && ofCluster(res.Name, cluster) {
			lbs[res.ID] = true
		}
	}
	var out []services.Resource
	for _, res := range st.Resources {
		if !kinds[res.Kind] || baseline[res.ID] {
			continue
		}
		vip, isVIP := strings.CutPrefix(res.Name, "octavia-lb-")
		if ofCluster(res.Name, cluster) || (isVIP && lbs[vip]) {
			out = append(out, res)
		}
	}
	return out
}
