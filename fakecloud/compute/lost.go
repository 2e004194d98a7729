package compute

import (
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Instances returns the ids of the servers whose backend instance must exist: virtual
// (not bare-metal) servers that are ACTIVE or SHUTOFF. BUILD and deleting servers are left
// to their tasks.
func (s *Service) Instances() []string {
	var out []string
	for _, srv := range s.servers.List(func(_ string, v *Server) bool {
		return v.ResourceClass == "" && v.TaskState != "deleting" && (v.Status == StatusActive || v.Status == StatusShutoff)
	}) {
		out = append(out, srv.ID)
	}
	return out
}

// MarkLost puts a server whose instance vanished behind fakecloud's back (its container was
// removed while fakecloud was down) into ERROR, with reason as its fault.
func (s *Service) MarkLost(id, reason string) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		srv, ok := s.servers.Get(id)
		if !ok || srv.Status == StatusError {
			return nil
		}
		now := time.Now().UTC()
		srv.Status, srv.VMState, srv.TaskState, srv.PowerState = StatusError, "error", "", PowerNoState
		srv.Fault = &Fault{Code: 500, Message: reason, Details: reason, Created: now}
		srv.Updated = now
		if err := s.servers.Put(tx, id, srv); err != nil {
			return err
		}
		tx.Emit(store.Event{Service: "compute", Kind: "server", ID: id, Project: srv.Project, Action: "status", Detail: StatusError + ": " + reason, Severity: "error"})
		return nil
	})
}
