// Package apiserverlb publishes a hosted kube-apiserver through an Octavia load balancer: a
// VIP on the external network, a TCP listener on the apiserver's port, and a pool whose members
// are the service cluster's nodes on the apiserver Service's node port. It keeps the VIP when
// it has to replace a load balancer that Octavia left in ERROR, so the cluster's endpoint never
// changes.
package apiserverlb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Member is one backend: a service-cluster node on the apiserver's node port.
type Member struct {
	Address string
	Port    int
}

// Spec is the load balancer wanted.
type Spec struct {
	Name         string
	Tag          string // finds the load balancer again
	VIPNetworkID string
	VIPAddress   string // keep this VIP (empty on first creation)
	Port         int    // the listener's port, the apiserver's
	Members      []Member
	// Description is the load balancer's description; default "kube-apiserver of <Name>".
	Description string
	// KeepMembers leaves an ACTIVE load balancer's members as they are (for a caller that
	// does not know them yet); a new load balancer gets Members.
	KeepMembers bool
}

// Status is what the cloud reports.
type Status struct {
	ID                 string
	VIP                string
	ProvisioningStatus string // ACTIVE, PENDING_*, ERROR
	OperatingStatus    string // ONLINE, DEGRADED, ERROR, OFFLINE, NO_MONITOR
}

// Active reports whether the load balancer is provisioned.
func (s Status) Active() bool { return s.ProvisioningStatus == "ACTIVE" }

// Service acts on one project's Octavia.
type Service struct {
	Client *gophercloud.ServiceClient
}

// Find returns the load balancer carrying tag, or nil.
func (s Service) Find(ctx context.Context, tag string) (*loadbalancers.LoadBalancer, error) {
	pages, err := loadbalancers.List(s.Client, loadbalancers.ListOpts{Tags: []string{tag}}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking for the load balancer tagged %s: %w", tag, err)
	}
	all, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return nil, fmt.Errorf("reading load balancers: %w", err)
	}
	for i := range all {
		if all[i].ProvisioningStatus != "DELETED" && all[i].ProvisioningStatus != "PENDING_DELETE" {
			return &all[i], nil
		}
	}
	return nil, nil
}

// Ensure makes the load balancer (in one request, with its listener, pool, monitor and
// members) or, once it is ACTIVE, brings its members in line. A load balancer in ERROR is
// deleted; the next call makes a new one on the same VIP.
func (s Service) Ensure(ctx context.Context, spec Spec) (Status, error) {
	lb, err := s.Find(ctx, spec.Tag)
	if err != nil {
		return Status{}, err
	}
	if lb == nil {
		lb, err = s.create(ctx, spec)
		if err != nil {
			return Status{}, err
		}
	}
	st := Status{ID: lb.ID, VIP: lb.VipAddress, ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus}
	switch lb.ProvisioningStatus {
	case "ERROR":
		if err := s.delete(ctx, lb.ID); err != nil {
			return st, fmt.Errorf("load balancer %s is in ERROR and could not be deleted for a new one: %w", lb.ID, err)
		}
		return st, fmt.Errorf("load balancer %s went to ERROR: deleted it, a new one on VIP %s follows", lb.ID, lb.VipAddress)
	case "ACTIVE":
		if spec.KeepMembers {
			return st, nil
		}
		return st, s.syncMembers(ctx, lb, spec)
	}
	return st, nil // PENDING_*: wait
}

// The members' health monitor: a TCP connect to the apiserver's node port, which kube-proxy
// refuses until an apiserver pod is ready. A new control plane's apiserver starts after the
// load balancer, so its member is down at first: one passing check brings it up (a 5 s delay
// and two checks held the first requests of every new cluster for ~10 s); three failing ones,
// 6 s, take it out.
const (
	monitorDelay   = 2
	monitorTimeout = 2
	monitorRise    = 1
	monitorFall    = 3
)

func (s Service) create(ctx context.Context, spec Spec) (*loadbalancers.LoadBalancer, error) {
	members := make([]pools.CreateMemberOpts, 0, len(spec.Members))
	for _, m := range spec.Members {
		members = append(members, pools.CreateMemberOpts{Address: m.Address, ProtocolPort: m.Port})
	}
	desc := spec.Description
	if desc == "" {
		desc = "kube-apiserver of " + spec.Name
	}
	opts := loadbalancers.CreateOpts{
		Name: spec.Name, Description: desc, VipNetworkID: spec.VIPNetworkID, VipAddress: spec.VIPAddress,
		Tags: []string{spec.Tag},
		Listeners: []listeners.CreateOpts{{
			Name: spec.Name, Protocol: listeners.ProtocolTCP, ProtocolPort: spec.Port,
			DefaultPool: &pools.CreateOpts{
				Name: spec.Name, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin, Members: members,
				Monitor: &monitors.CreateOpts{Type: monitors.TypeTCP, Delay: monitorDelay, Timeout: monitorTimeout, MaxRetries: monitorRise, MaxRetriesDown: monitorFall},
			},
		}},
	}
	lb, err := loadbalancers.Create(ctx, s.Client, opts).Extract()
	if err != nil {
		return nil, fmt.Errorf("creating load balancer %s: %w", spec.Name, err)
	}
	return lb, nil
}

// syncMembers replaces the pool's members when they differ from the spec's.
func (s Service) syncMembers(ctx context.Context, lb *loadbalancers.LoadBalancer, spec Spec) error {
	if len(lb.Pools) == 0 {
		return fmt.Errorf("load balancer %s has no pool: delete it and a new one is made", lb.ID)
	}
	poolID := lb.Pools[0].ID
	pages, err := pools.ListMembers(s.Client, poolID, pools.ListMembersOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing the members of pool %s: %w", poolID, err)
	}
	have, err := pools.ExtractMembers(pages)
	if err != nil {
		return fmt.Errorf("reading the members of pool %s: %w", poolID, err)
	}
	key := func(a string, p int) string { return fmt.Sprintf("%s:%d", a, p) }
	var got, want []string
	for _, m := range have {
		got = append(got, key(m.Address, m.ProtocolPort))
	}
	opts := make([]pools.BatchUpdateMemberOpts, 0, len(spec.Members))
	for _, m := range spec.Members {
		want = append(want, key(m.Address, m.Port))
		opts = append(opts, pools.BatchUpdateMemberOpts{Address: m.Address, ProtocolPort: m.Port})
	}
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return nil
	}
	if err := pools.BatchUpdateMembers(ctx, s.Client, poolID, opts).ExtractErr(); err != nil {
		return fmt.Errorf("setting the members of pool %s to %s: %w", poolID, strings.Join(want, ", "), err)
	}
	return nil
}

// Delete removes the load balancer carrying tag with everything under it. It returns true
// once none is left.
func (s Service) Delete(ctx context.Context, tag string) (bool, error) {
	lb, err := s.Find(ctx, tag)
	if err != nil || lb == nil {
		return lb == nil && err == nil, err
	}
	if strings.HasPrefix(lb.ProvisioningStatus, "PENDING_") {
		return false, nil
	}
	return false, s.delete(ctx, lb.ID)
}

func (s Service) delete(ctx context.Context, id string) error {
	err := loadbalancers.Delete(ctx, s.Client, id, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr()
	var e gophercloud.ErrUnexpectedResponseCode
	if err != nil && errors.As(err, &e) && (e.Actual == http.StatusNotFound || e.Actual == http.StatusConflict) {
		return nil // gone already, or busy: the next call looks again
	}
	if err != nil {
		return fmt.Errorf("deleting load balancer %s: %w", id, err)
	}
	return nil
}
