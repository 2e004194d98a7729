package compute

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// bareMetalDeployTimeout bounds how long a bare-metal server waits for its node.
const bareMetalDeployTimeout = 30 * time.Minute

// setError puts a server into ERROR with a fault and finishes the task, in one update.
func (s *Service) setError(taskID, id string, code int, msg string) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		srv, ok := s.servers.Get(id)
		if ok {
			now := time.Now().UTC()
			srv.Status, srv.VMState, srv.TaskState, srv.PowerState = StatusError, "error", "", PowerNoState
			srv.Fault = &Fault{Code: code, Message: msg, Details: msg, Created: now}
			srv.Updated = now
			if err := s.servers.Put(tx, id, srv); err != nil {
				return err
			}
			tx.Emit(store.Event{Service: "compute", Kind: "server", ID: id, Project: srv.Project, Action: "status", Detail: StatusError + ": " + msg, Severity: "error"})
		}
		return s.env.Tasks.Finish(tx, taskID)
	})
}

// spec is what the backend gets to build srv.
func (s *Service) spec(srv *Server) ServerSpec {
	ud, _ := decodeUserData(srv.UserData)
	return ServerSpec{
		ID: srv.ID, Name: srv.Name, Hostname: srv.Hostname, Project: srv.Project, UserID: srv.UserID,
		Image: srv.Image, Flavor: srv.Flavor, UserData: ud, Metadata: srv.Metadata, Ports: srv.Ports,
		AvailabilityZone: srv.AZ, Host: srv.Host, KeyName: srv.KeyName, PublicKey: srv.PublicKey,
		ConfigDrive: srv.ConfigDrive,
	}
}

// buildHandler takes a server from BUILD to ACTIVE (or ERROR).
type buildHandler struct{ s *Service }

// Run builds the server through the backend (or waits for its bare-metal node).
func (h buildHandler) Run(ctx context.Context, t tasks.Task) error {
	s := h.s
	srv, ok := s.servers.Get(t.ResourceID)
	if !ok || srv.Status != StatusBuild || srv.TaskState == "deleting" {
		return nil
	}
	if srv.ScheduleError != "" {
		return s.setError(t.ID, srv.ID, 500, srv.ScheduleError)
	}
	if srv.ResourceClass != "" {
		return h.bareMetal(t, &srv)
	}
	if err := s.backend.CreateServer(ctx, s.spec(&srv)); err != nil {
		if services.IsPermanent(err) {
			return s.setError(t.ID, srv.ID, 500, "Build of instance "+srv.ID+" aborted: "+err.Error())
		}
		return fmt.Errorf("creating server %s: %w", srv.ID, err)
	}
	if cur, ok := s.servers.Get(srv.ID); !ok || cur.TaskState == "deleting" {
		// Deleted while the backend was building it: the delete may have run before the
		// server existed, so remove what the build made.
		if err := s.backend.DeleteServer(ctx, srv.ID); err != nil {
			s.env.Log.Warn("removing a server deleted during its build", "server", srv.ID, "err", err)
		}
		return nil
	}
	return s.setActive(t.ID, srv.ID)
}

// bareMetal waits for Ironic to deploy the server's node, re-enqueueing itself while the
// node deploys (polling does not count as a failed attempt).
func (h buildHandler) bareMetal(t tasks.Task, srv *Server) error {
	s := h.s
	if s.metal == nil {
		return s.setError(t.ID, srv.ID, 500, noValidHost)
	}
	node, ok := s.metal.NodeFor(srv.ID)
	if !ok {
		return s.setError(t.ID, srv.ID, 500, "Build of instance "+srv.ID+" aborted: its bare-metal node was released")
	}
	switch node.ProvisionState {
	case "active":
		return s.setActive(t.ID, srv.ID)
	case "deploy failed", "error", "clean failed":
		return s.setError(t.ID, srv.ID, 500, fmt.Sprintf("Build of instance %s aborted: Failed to provision instance %s: node %s is %s", srv.ID, srv.ID, node.ID, node.ProvisionState))
	}
	if time.Since(srv.Created) > bareMetalDeployTimeout {
		return s.setError(t.ID, srv.ID, 500, fmt.Sprintf("Build of instance %s aborted: timed out waiting for node %s to deploy", srv.ID, node.ID))
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		if _, err := s.env.Tasks.Enqueue(tx, TaskServerBuild, srv.ID, srv.Project, s.cfg.BareMetalPoll, nil); err != nil {
			return err
		}
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

func (s *Service) setActive(taskID, id string) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		srv, ok := s.servers.Get(id)
		if ok && srv.Status == StatusBuild && srv.TaskState != "deleting" {
			now := time.Now().UTC()
			srv.Status, srv.VMState, srv.TaskState, srv.PowerState = StatusActive, "active", "", PowerRunning
			srv.Progress = 100
			srv.LaunchedAt = &now
			srv.Updated = now
			if err := s.servers.Put(tx, id, srv); err != nil {
				return err
			}
			emit(tx, "server", id, srv.Project, "status", StatusActive)
		}
		return s.env.Tasks.Finish(tx, taskID)
	})
}

// Fail puts the server into ERROR with reason as its fault.
func (h buildHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	return h.s.setError(t.ID, t.ResourceID, 500, reason)
}

// deleteHandler destroys a server: the backend's copy, its ports, its bare-metal node, its
// group membership and finally its row.
type deleteHandler struct{ s *Service }

// Run deletes the server.
func (h deleteHandler) Run(ctx context.Context, t tasks.Task) error {
	s := h.s
	srv, ok := s.servers.Get(t.ResourceID)
	if !ok {
		return nil
	}
	if srv.ResourceClass == "" {
		if err := s.backend.DeleteServer(ctx, srv.ID); err != nil {
			if services.IsPermanent(err) {
				return s.setError(t.ID, srv.ID, 500, "Deleting instance "+srv.ID+" failed: "+err.Error())
			}
			return fmt.Errorf("deleting server %s: %w", srv.ID, err)
		}
	}
	counted := false
	err := s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.servers.Get(srv.ID)
		if !ok {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		if s.ports != nil {
			if err := s.ports.DetachPorts(tx, cur.ID); err != nil {
				return fmt.Errorf("detaching the ports of server %s: %w", cur.ID, err)
			}
		}
		if cur.ResourceClass != "" && s.metal != nil && cur.HypervisorHostname != "" {
			if err := s.metal.Release(tx, cur.ID); err != nil {
				return fmt.Errorf("releasing the node of server %s: %w", cur.ID, err)
			}
		}
		if cur.Group != "" {
			if g, ok := s.groups.Get(cur.Group); ok {
				g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == cur.ID })
				if err := s.groups.Put(tx, g.ID, g); err != nil {
					return err
				}
			}
		}
		if err := s.servers.Delete(tx, cur.ID); err != nil {
			return err
		}
		emit(tx, "server", cur.ID, cur.Project, "deleted", "")
		tx.AfterCommit(func() { s.indexName(cur.Name, cur.ID, false) })
		if err := s.env.Tasks.Finish(tx, t.ID); err != nil {
			return err
		}
		s.addUsage(cur.Project, -1, -cur.Flavor.quotaCores(), -cur.Flavor.quotaRAM())
		counted = true
		return nil
	})
	if err != nil && counted {
		s.addUsage(srv.Project, 1, srv.Flavor.quotaCores(), srv.Flavor.quotaRAM())
	}
	return err
}

// Fail puts the server into ERROR with reason as its fault.
func (h deleteHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	return h.s.setError(t.ID, t.ResourceID, 500, reason)
}

// actionHandler completes a start, stop or reboot.
type actionHandler struct{ s *Service }

// Run performs the action through the backend and sets the resulting state.
func (h actionHandler) Run(ctx context.Context, t tasks.Task) error {
	s := h.s
	action := t.Args["action"]
	srv, ok := s.servers.Get(t.ResourceID)
	if !ok || srv.TaskState == "deleting" {
		return nil
	}
	if srv.ResourceClass == "" {
		if err := s.backend.ServerAction(ctx, srv.ID, action); err != nil {
			if services.IsPermanent(err) {
				return s.setError(t.ID, srv.ID, 500, "Action "+action+" on instance "+srv.ID+" failed: "+err.Error())
			}
			return fmt.Errorf("%s of server %s: %w", action, srv.ID, err)
		}
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.servers.Get(srv.ID)
		if ok && cur.TaskState != "deleting" {
			switch action {
			case ActionStop:
				cur.Status, cur.VMState, cur.PowerState = StatusShutoff, "stopped", PowerShutdown
			default:
				cur.Status, cur.VMState, cur.PowerState = StatusActive, "active", PowerRunning
			}
			cur.TaskState = ""
			cur.Fault = nil
			cur.Updated = time.Now().UTC()
			if err := s.servers.Put(tx, cur.ID, cur); err != nil {
				return err
			}
			emit(tx, "server", cur.ID, cur.Project, "status", cur.Status)
		}
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

// Fail puts the server into ERROR with reason as its fault.
func (h actionHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	return h.s.setError(t.ID, t.ResourceID, 500, reason)
}
