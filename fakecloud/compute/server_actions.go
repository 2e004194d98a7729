package compute

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// serverAction serves POST /servers/{id}/action: os-start, os-stop, reboot, forceDelete,
// lock, unlock and os-getConsoleOutput.
func (s *Service) serverAction(c *call) error {
	var body map[string]json.RawMessage
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if len(body) != 1 {
		return httpapi.BadRequest("Exactly one action is expected in the request body.")
	}
	var name string
	var arg json.RawMessage
	for name, arg = range body {
	}
	id := c.r.PathValue("id")
	srv, err := s.lookupServer(c, id)
	if err != nil {
		return err
	}
	switch name {
	case "os-start":
		return s.powerAction(c, id, "start", ActionStart)
	case "os-stop":
		return s.powerAction(c, id, "stop", ActionStop)
	case "reboot":
		var r struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(arg, &r); err != nil || (r.Type != "SOFT" && r.Type != "HARD" && r.Type != "soft" && r.Type != "hard") {
			return httpapi.BadRequest("Invalid input for field/attribute type. Value: %s. is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", arg)
		}
		if r.Type == "HARD" || r.Type == "hard" {
			return s.powerAction(c, id, "reboot", ActionRebootHard)
		}
		return s.powerAction(c, id, "reboot", ActionRebootSoft)
	case "forceDelete":
		if err := s.startDelete(c, id); err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	case "lock", "unlock":
		err := s.env.DB.Update(func(tx *store.Tx) error {
			_, err := s.servers.Modify(tx, id, func(v *Server) error {
				v.Locked = name == "lock"
				v.Updated = time.Now().UTC()
				v.record(c, name)
				return nil
			})
			if err == nil {
				emit(tx, "server", id, srv.Project, name, "")
			}
			return err
		})
		if err != nil {
			return httpapi.AsError(err)
		}
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	case "os-getConsoleOutput":
		return c.json(http.StatusOK, map[string]string{"output": ""})
	}
	return httpapi.BadRequest("There is no such action: %s", name)
}

// powerAction validates the state of a server for start, stop or reboot, sets its task state
// and enqueues the transition.
func (s *Service) powerAction(c *call, id, verb, action string) error {
	err := s.env.DB.Update(func(tx *store.Tx) error {
		srv, ok := s.servers.Get(id)
		if !ok {
			return httpapi.NotFound("Instance", id)
		}
		if srv.Locked && !c.p.IsAdmin() {
			return httpapi.Conflict("Instance %s is locked", id)
		}
		if srv.TaskState != "" {
			return httpapi.Conflict("Cannot '%s' instance %s while it is in task_state %s", verb, id, srv.TaskState)
		}
		okState := false
		switch action {
		case ActionStart:
			okState = srv.VMState == "stopped"
		case ActionStop:
			okState = srv.VMState == "active" || srv.VMState == "error"
		case ActionRebootSoft:
			okState = srv.VMState == "active"
		case ActionRebootHard:
			okState = srv.VMState == "active" || srv.VMState == "stopped" || srv.VMState == "error"
		}
		if !okState {
			return httpapi.Conflict("Cannot '%s' instance %s while it is in vm_state %s", verb, id, srv.VMState)
		}
		switch action {
		case ActionStart:
			srv.TaskState = "powering-on"
		case ActionStop:
			srv.TaskState = "powering-off"
		case ActionRebootSoft:
			srv.TaskState, srv.Status = "rebooting", StatusReboot
		case ActionRebootHard:
			srv.TaskState, srv.Status = "rebooting_hard", StatusHardReboot
		}
		srv.Updated = time.Now().UTC()
		srv.record(c, verb)
		if err := s.servers.Put(tx, id, srv); err != nil {
			return err
		}
		if _, err := s.env.Tasks.Enqueue(tx, TaskServerAction, id, srv.Project, s.actionDelay(), map[string]string{"action": action}); err != nil {
			return err
		}
		emit(tx, "server", id, srv.Project, "status", srv.Status+" ("+srv.TaskState+")")
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

// actionDelay is how long a simulated start, stop or reboot takes.
func (s *Service) actionDelay() time.Duration { return s.env.Timing.ServerBuild / 2 }
