package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
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
				if leaks = leftovers(st, r.cluster); len(leaks) > 0 {
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

// leftovers lists the cloud resources still named after the cluster.
func leftovers(st adminclient.State, cluster string) []string {
	kinds := map[string]bool{}
	for _, k := range leakKinds {
		kinds[k] = true
	}
	var out []string
	for _, res := range st.Resources {
		if kinds[res.Kind] && ofCluster(res.Name, cluster) {
			out = append(out, fmt.Sprintf("%s %s (%s, %s)", res.Kind, res.Name, res.ID, res.Status))
		}
	}
	sort.Strings(out)
	return out
}
