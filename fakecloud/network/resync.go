package network

import "github.com/kaas-sandbox/sandbox/fakecloud/store"

// Resync enqueues a backend sync of every network, router, floating IP and bound port, as
// after a restart of fakecloud: whatever the backend lost is made again.
func (s *Service) Resync() error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, n := range s.networks.List(nil) {
			if err := s.reconcile(tx, taskNetworkSync, n.ID, n.Project); err != nil {
				return err
			}
		}
		for _, r := range s.routers.List(nil) {
			if err := s.reconcile(tx, taskRouterSync, r.ID, r.Project); err != nil {
				return err
			}
		}
		for _, f := range s.fips.List(func(_ string, f *FloatingIP) bool { return f.PortID != "" }) {
			if err := s.reconcile(tx, taskFIPSync, f.ID, f.Project); err != nil {
				return err
			}
		}
		for _, p := range s.ports.List(func(_ string, p *Port) bool { return boundToDevice(p) }) {
			if err := s.reconcile(tx, taskPortSync, p.ID, p.Project); err != nil {
				return err
			}
		}
		return nil
	})
}
