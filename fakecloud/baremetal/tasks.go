package baremetal

import (
	"context"
	"fmt"

	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
	"github.com/kaas-sandbox/sandbox/fakecloud/tasks"
)

// stepHandler runs the tasks of one provisioning step.
type stepHandler struct {
	s    *Service
	step step
}

func (s *Service) registerTasks() {
	for _, st := range []step{stepVerify, stepClean, stepDeploy, stepTeardown, stepInspect, stepAdopt, stepPower} {
		s.env.Tasks.Register(st.kind(), stepHandler{s: s, step: st})
	}
}

// current reports whether t still drives its node (an abort or a newer action replaces it).
func (h stepHandler) current(n *Node, t tasks.Task) bool {
	if h.step == stepPower {
		return n.PowerTask == t.ID
	}
	return n.Task == t.ID
}

// Run calls the backend, then records the step's outcome and finishes the task in one update.
func (h stepHandler) Run(ctx context.Context, t tasks.Task) error {
	s := h.s
	n, ok := s.nodes.Get(t.ResourceID)
	if !ok || !h.current(&n, t) {
		return nil // deleted, aborted or superseded: nothing left to do
	}
	var err error
	switch h.step {
	case stepDeploy:
		err = s.backend.Deploy(ctx, s.spec(&n), n.UserData)
	case stepClean:
		err = s.backend.Clean(ctx, s.spec(&n))
	case stepTeardown:
		err = s.backend.SetPower(ctx, n.UUID, false)
	case stepAdopt:
		err = s.backend.SetPower(ctx, n.UUID, true)
	case stepPower:
		err = s.backend.SetPower(ctx, n.UUID, t.Args["power"] == PowerOn)
	}
	if err != nil {
		if services.IsPermanent(err) {
			return h.Fail(ctx, t, err.Error())
		}
		return fmt.Errorf("%s of node %s: %w", h.step, n.UUID, err)
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.nodes.Get(t.ResourceID)
		if !ok || !h.current(&cur, t) {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		if err := h.complete(tx, &cur, t); err != nil {
			return err
		}
		if err := s.nodes.Put(tx, cur.UUID, cur); err != nil {
			return err
		}
		return s.env.Tasks.Finish(tx, t.ID)
	})
}

// complete moves n to the state its step leads to.
func (h stepHandler) complete(tx *store.Tx, n *Node, t tasks.Task) error {
	s := h.s
	if h.step != stepPower {
		n.Task = ""
	}
	switch h.step {
	case stepVerify:
		if n.PowerState == "" {
			n.PowerState = PowerOff
		}
		s.setState(tx, n, StateManageable, "")
	case stepClean:
		target := n.TargetProvisionState
		if target == "" {
			target = StateAvailable
		}
		n.PowerState = PowerOff
		s.setState(tx, n, target, "")
	case stepDeploy:
		n.PowerState = PowerOn
		n.LastError = ""
		s.setState(tx, n, StateActive, "")
	case stepAdopt:
		n.PowerState = PowerOn
		s.setState(tx, n, StateActive, "")
	case stepInspect:
		ts := now()
		n.InspectionFinishedAt = &ts
		s.setState(tx, n, StateManageable, "")
	case stepTeardown:
		n.PowerState = PowerOff
		n.InstanceUUID = ""
		n.InstanceInfo = map[string]any{}
		n.UserData, n.ConfigDrive, n.Meta = nil, nil, nil
		if n.AutomatedClean != nil && !*n.AutomatedClean {
			s.setState(tx, n, StateAvailable, "")
			return nil
		}
		return s.begin(tx, n, StateCleaning, StateAvailable, stepClean, s.env.Timing.NodeClean)
	case stepPower:
		n.PowerTask = ""
		n.PowerState = t.Args["power"]
		n.TargetPowerState = ""
		s.emit(tx, "node", n.UUID, n.Owner, "power", n.PowerState)
	}
	return nil
}

// Fail puts the node into the failure state of its step with reason as last_error.
func (h stepHandler) Fail(_ context.Context, t tasks.Task, reason string) error {
	s := h.s
	return s.env.DB.Update(func(tx *store.Tx) error {
		n, ok := s.nodes.Get(t.ResourceID)
		if !ok || !h.current(&n, t) {
			return s.env.Tasks.Finish(tx, t.ID)
		}
		n.LastError = reason
		switch h.step {
		case stepPower:
			n.PowerTask = ""
			n.TargetPowerState = ""
			s.emit(tx, "node", n.UUID, n.Owner, "power", "failed: "+reason)
		case stepVerify:
			n.Task = ""
			s.setState(tx, &n, StateEnroll, "")
		case stepClean:
			n.Task = ""
			n.Maintenance = true
			n.Fault = "clean failure"
			n.MaintenanceReason = reason
			s.setState(tx, &n, StateCleanFailed, "")
		case stepDeploy:
			n.Task = ""
			s.setState(tx, &n, StateDeployFailed, StateActive)
		case stepTeardown:
			n.Task = ""
			s.setState(tx, &n, StateError, StateAvailable)
		case stepInspect:
			n.Task = ""
			s.setState(tx, &n, StateInspectFail, StateManageable)
		case stepAdopt:
			n.Task = ""
			s.setState(tx, &n, StateAdoptFailed, StateActive)
		}
		s.emit(tx, "node", n.UUID, n.Owner, "error", reason)
		if err := s.nodes.Put(tx, n.UUID, n); err != nil {
			return err
		}
		return s.env.Tasks.Finish(tx, t.ID)
	})
}
