package baremetal

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Provision actions (the "target" of PUT /v1/nodes/{node}/states/provision).
var provisionTargets = []string{"active", "deleted", "rebuild", "manage", "provide", "inspect", "abort",
	"clean", "adopt", "rescue", "unrescue", "service", "unhold"}

// provisionBody is the body of PUT /v1/nodes/{node}/states/provision.
type provisionBody struct {
	Target         *string          `json:"target"`
	ConfigDrive    any              `json:"configdrive"`
	CleanSteps     []map[string]any `json:"clean_steps"`
	DeploySteps    []map[string]any `json:"deploy_steps"`
	ServiceSteps   []map[string]any `json:"service_steps"`
	RescuePassword *string          `json:"rescue_password"`
	DisableRamdisk *bool            `json:"disable_ramdisk"`
	Runbook        *string          `json:"runbook"`
}

// userDataOf extracts the user data of a config drive given as a JSON object (API 1.56+):
// user_data as a string is used as it is, any other JSON value is encoded. A config drive given
// as a string (a gzipped, base64-encoded ISO image or a URL) carries no user data fakecloud can
// read.
func userDataOf(cd any) ([]byte, error) {
	switch t := cd.(type) {
	case nil, string:
		return nil, nil
	case map[string]any:
		for k := range t {
			if !slices.Contains([]string{"meta_data", "network_data", "user_data", "vendor_data"}, k) {
				return nil, httpapi.BadRequest("Invalid configdrive: unexpected key '%s'; expected meta_data, network_data, user_data or vendor_data.", k)
			}
		}
		switch u := t["user_data"].(type) {
		case nil:
			return nil, nil
		case string:
			return []byte(u), nil
		default:
			return json.Marshal(u)
		}
	}
	return nil, httpapi.BadRequest("Invalid configdrive: expected a string or a JSON object.")
}

func (s *Service) setProvision(w http.ResponseWriter, r *http.Request) error {
	n, _, err := s.node(r)
	if err != nil {
		return err
	}
	var body provisionBody
	if err := httpapi.DecodeStrict(r, &body); err != nil {
		return err
	}
	if body.Target == nil {
		return httpapi.BadRequest("Invalid input for field/attribute target. Value: 'None'. Mandatory field missing.")
	}
	target := *body.Target
	if !slices.Contains(provisionTargets, target) {
		return httpapi.BadRequest("Invalid input for field/attribute target. Value: '%s'. Value should be one of: %s",
			target, strings.Join(provisionTargets, ", "))
	}
	if body.ConfigDrive != nil && target != "active" && target != "rebuild" {
		return httpapi.BadRequest("Adding a config drive is only supported when setting provision state to active or rebuild")
	}
	if _, isObj := body.ConfigDrive.(map[string]any); isObj && minor(r) < 56 {
		return httpapi.BadRequest("Invalid configdrive: a JSON object requires API version 1.56 or later.")
	}
	if target == "clean" && len(body.CleanSteps) == 0 {
		return httpapi.BadRequest("\"clean_steps\" is required when setting target provision state to clean")
	}
	if len(body.CleanSteps) > 0 && target != "clean" && target != "provide" && target != "manage" {
		return httpapi.BadRequest("\"clean_steps\" is only valid when setting target provision state to clean")
	}
	userData, err := userDataOf(body.ConfigDrive)
	if err != nil {
		return err
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.nodes.Get(n.UUID)
		if !ok {
			return nodeNotFound(n.UUID)
		}
		if cur.TargetPowerState != "" {
			return nodeLocked(&cur)
		}
		if target == "active" || target == "rebuild" {
			cur.UserData = userData
			cur.ConfigDrive = body.ConfigDrive
			if body.ConfigDrive != nil {
				if cur.InstanceInfo == nil {
					cur.InstanceInfo = map[string]any{}
				}
				cur.InstanceInfo["configdrive"] = "******"
			}
		}
		if err := s.transition(tx, &cur, target); err != nil {
			return err
		}
		return s.nodes.Put(tx, cur.UUID, cur)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", base(r)+"/v1/nodes/"+n.UUID+"/states")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// step is a kind of asynchronous provisioning work, run by a task of kind "node.<step>".
type step string

const (
	stepVerify   step = "verify"
	stepClean    step = "clean"
	stepDeploy   step = "deploy"
	stepTeardown step = "teardown"
	stepInspect  step = "inspect"
	stepAdopt    step = "adopt"
	stepPower    step = "power"
)

func (st step) kind() string { return "node." + string(st) }

// short is the duration of the quick transitions (verify, inspect, adopt, tear down, power).
func (s *Service) short() time.Duration { return s.env.Timing.NodeClean / 4 }

// begin puts n into the transitional state toward target and enqueues the step that ends it.
func (s *Service) begin(tx *store.Tx, n *Node, state, target string, st step, delay time.Duration) error {
	if err := s.cancelProvisioning(tx, n); err != nil {
		return err
	}
	project := n.Owner
	if p := n.Meta["project_id"]; p != "" {
		project = p
	}
	t, err := s.env.Tasks.Enqueue(tx, st.kind(), n.UUID, project, delay, nil)
	if err != nil {
		return err
	}
	s.setState(tx, n, state, target)
	n.Task = t.ID
	n.LastError = ""
	return nil
}

// cancelProvisioning cancels the pending provisioning tasks of n (not a power change).
func (s *Service) cancelProvisioning(tx *store.Tx, n *Node) error {
	for _, st := range []step{stepVerify, stepClean, stepDeploy, stepTeardown, stepInspect, stepAdopt} {
		if err := s.env.Tasks.Cancel(tx, st.kind(), n.UUID); err != nil {
			return err
		}
	}
	n.Task = ""
	return nil
}

// setState records a provision state change and its event.
func (s *Service) setState(tx *store.Tx, n *Node, state, target string) {
	t := now()
	n.ProvisionState = state
	n.TargetProvisionState = target
	n.ProvisionUpdatedAt = &t
	n.UpdatedAt = &t
	detail := state
	if target != "" {
		detail += " -> " + target
	}
	s.emit(tx, "node", n.UUID, n.Owner, "status", detail)
}

// transition starts a provision action on n (which the caller stores), or returns Ironic's
// error for an action the node's state does not allow.
func (s *Service) transition(tx *store.Tx, n *Node, action string) error {
	st := n.ProvisionState
	invalid := func() error {
		return httpapi.BadRequest("The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".", action, n.UUID, st)
	}
	notInMaintenance := func(op string) error {
		if n.Maintenance {
			return conflict("The %s operation can't be performed on node %s because it's in maintenance mode.", op, n.UUID)
		}
		return nil
	}
	notProtected := func() error {
		if n.Protected {
			return httpapi.Errorf(http.StatusForbidden, "Forbidden", "Node %s is protected and cannot be undeployed, rebuilt or deleted", n.UUID)
		}
		return nil
	}
	in := func(states ...string) bool { return slices.Contains(states, st) }
	switch action {
	case "manage":
		switch {
		case in(StateEnroll):
			return s.begin(tx, n, StateVerifying, StateManageable, stepVerify, s.short())
		case in(StateAvailable, StateCleanFailed, StateInspectFail, StateAdoptFailed):
			s.setState(tx, n, StateManageable, "")
			return nil
		}
	case "provide":
		if in(StateManageable) {
			if err := notInMaintenance("provide"); err != nil {
				return err
			}
			if n.Retired {
				return httpapi.BadRequest("Cannot provide node %s: it is retired.", n.UUID)
			}
			if n.AutomatedClean != nil && !*n.AutomatedClean {
				s.setState(tx, n, StateAvailable, "")
				return nil
			}
			return s.begin(tx, n, StateCleaning, StateAvailable, stepClean, s.env.Timing.NodeClean)
		}
	case "active", "rebuild":
		if (action == "active" && in(StateAvailable, StateDeployFailed)) || (action == "rebuild" && in(StateActive, StateDeployFailed, StateError)) {
			if err := notInMaintenance("provisioning"); err != nil {
				return err
			}
			if action == "rebuild" {
				if err := notProtected(); err != nil {
					return err
				}
			}
			return s.begin(tx, n, StateDeploying, StateActive, stepDeploy, s.env.Timing.NodeDeploy)
		}
	case "deleted":
		if in(StateActive, StateDeployFailed, StateError) {
			if err := notProtected(); err != nil {
				return err
			}
			return s.begin(tx, n, StateDeleting, StateAvailable, stepTeardown, s.short())
		}
	case "clean":
		if in(StateManageable) {
			if err := notInMaintenance("clean"); err != nil {
				return err
			}
			return s.begin(tx, n, StateCleaning, StateManageable, stepClean, s.env.Timing.NodeClean)
		}
	case "inspect":
		if in(StateManageable, StateInspectFail) {
			if err := notInMaintenance("inspection"); err != nil {
				return err
			}
			t := now()
			n.InspectionStartedAt = &t
			return s.begin(tx, n, StateInspecting, StateManageable, stepInspect, s.short())
		}
	case "adopt":
		if in(StateManageable, StateAdoptFailed) {
			return s.begin(tx, n, StateAdopting, StateActive, stepAdopt, s.short())
		}
	case "abort":
		var failed string
		switch st {
		case StateDeploying:
			failed = StateDeployFailed
		case StateCleaning:
			failed = StateCleanFailed
		case StateInspecting:
			failed = StateInspectFail
		case StateVerifying:
			failed = StateEnroll
		}
		if failed != "" {
			if err := s.cancelProvisioning(tx, n); err != nil {
				return err
			}
			n.Task = ""
			n.LastError = "By request, the " + strings.TrimSuffix(st, "ing") + " operation was aborted"
			s.setState(tx, n, failed, "")
			return nil
		}
	}
	return invalid()
}

// powerBody is the body of PUT /v1/nodes/{node}/states/power.
type powerBody struct {
	Target  *string `json:"target"`
	Timeout *int    `json:"timeout"`
}

var powerTargets = []string{"power on", "power off", "rebooting", "soft power off", "soft rebooting"}

func (s *Service) setPower(w http.ResponseWriter, r *http.Request) error {
	n, _, err := s.node(r)
	if err != nil {
		return err
	}
	var body powerBody
	if err := httpapi.DecodeStrict(r, &body); err != nil {
		return err
	}
	if body.Target == nil || !slices.Contains(powerTargets, *body.Target) {
		v := "None"
		if body.Target != nil {
			v = *body.Target
		}
		return httpapi.BadRequest("Invalid input for field/attribute target. Value: '%s'. Value should be one of: %s", v, strings.Join(powerTargets, ", "))
	}
	if body.Timeout != nil && *body.Timeout < 1 {
		return httpapi.BadRequest("Invalid timeout value %d. Timeout must be a positive integer.", *body.Timeout)
	}
	on := *body.Target == "power on" || strings.HasSuffix(*body.Target, "rebooting")
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.nodes.Get(n.UUID)
		if !ok {
			return nodeNotFound(n.UUID)
		}
		if transitional[cur.ProvisionState] || cur.TargetPowerState != "" {
			return nodeLocked(&cur)
		}
		want := PowerOff
		if on {
			want = PowerOn
		}
		t, err := s.env.Tasks.Enqueue(tx, stepPower.kind(), cur.UUID, cur.Owner, s.short(), map[string]string{"power": want})
		if err != nil {
			return err
		}
		cur.TargetPowerState = want
		cur.PowerTask = t.ID
		ts := now()
		cur.UpdatedAt = &ts
		s.emit(tx, "node", cur.UUID, cur.Owner, "power", *body.Target)
		return s.nodes.Put(tx, cur.UUID, cur)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", base(r)+"/v1/nodes/"+n.UUID+"/states")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// setMaintenance sets (PUT, with an optional {"reason": ...}) or clears (DELETE) maintenance.
func (s *Service) setMaintenance(on bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, _, err := s.node(r)
		if err != nil {
			return err
		}
		reason := ""
		if on && r.Body != nil {
			data, err := io.ReadAll(io.LimitReader(r.Body, httpapi.MaxBody+1))
			if err != nil {
				return httpapi.BadRequest("Could not read the request body: %v", err)
			}
			if len(data) > httpapi.MaxBody {
				return httpapi.Errorf(http.StatusRequestEntityTooLarge, "RequestTooLarge", "Request is too large.")
			}
			if strings.TrimSpace(string(data)) != "" {
				var body struct {
					Reason *string `json:"reason"`
				}
				if err := json.Unmarshal(data, &body); err != nil {
					return httpapi.BadRequest("Invalid maintenance request: %v", err)
				}
				if body.Reason != nil {
					reason = *body.Reason
				}
				if len(reason) > 255 {
					return httpapi.BadRequest("Invalid maintenance reason: at most 255 characters are allowed.")
				}
			}
		}
		err = s.env.DB.Update(func(tx *store.Tx) error {
			cur, err := s.nodes.Modify(tx, n.UUID, func(v *Node) error {
				v.Maintenance = on
				v.MaintenanceReason = reason
				if !on {
					v.Fault = ""
				}
				t := now()
				v.UpdatedAt = &t
				return nil
			})
			if err != nil {
				return err
			}
			action := "maintenance-on"
			if !on {
				action = "maintenance-off"
			}
			s.emit(tx, "node", cur.UUID, cur.Owner, action, reason)
			return nil
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
}
