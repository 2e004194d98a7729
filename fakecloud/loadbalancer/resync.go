package loadbalancer

import (
	"context"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Resync applies the configuration of every settled load balancer to the backend again, as
// after a restart of fakecloud: a load balancer whose container vanished is made again.
// Pending ones are left to their tasks. Failures are logged as events; Resync goes on.
func (s *Service) Resync(ctx context.Context) {
	for _, lb := range s.lbs.List(func(_ string, v *LoadBalancer) bool {
		return !isPending(v.ProvisioningStatus) && v.ProvisioningStatus != StatusError
	}) {
		if err := s.backend.EnsureLoadBalancer(ctx, s.loadTree(lb).spec()); err != nil {
			s.log.Warn("re-applying a load balancer", "id", lb.ID, "err", err)
			_ = s.env.DB.Record(store.Event{Service: ServiceName, Kind: "loadbalancer", ID: lb.ID, Project: lb.ProjectID,
				Action: "backend-error", Detail: err.Error(), Severity: "error"})
		}
	}
}
