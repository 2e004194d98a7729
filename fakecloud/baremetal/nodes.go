package baremetal

import (
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// unsortableNode are node fields Ironic refuses as sort keys.
var unsortableNode = map[string]bool{"driver_info": true, "driver_internal_info": true, "properties": true,
	"instance_info": true, "extra": true, "clean_step": true, "deploy_step": true, "service_step": true,
	"raid_config": true, "target_raid_config": true, "traits": true, "links": true, "ports": true,
	"portgroups": true, "states": true, "volume": true, "network_data": true}

// nodeFilter reads the list filters of GET /v1/nodes.
func nodeFilter(r *http.Request) (func(n *Node) bool, error) {
	q := r.URL.Query()
	var checks []func(n *Node) bool
	str := func(param string, get func(n *Node) string) {
		if q.Has(param) {
			want := q.Get(param)
			checks = append(checks, func(n *Node) bool { return get(n) == want })
		}
	}
	boolean := func(param string, get func(n *Node) bool) error {
		if !q.Has(param) {
			return nil
		}
		want, err := parseBool(param, q.Get(param))
		if err != nil {
			return err
		}
		checks = append(checks, func(n *Node) bool { return get(n) == want })
		return nil
	}
	if v := q.Get("instance_uuid"); v != "" {
		if !httpapi.IsUUID(v) {
			return nil, httpapi.BadRequest("Expected a UUID but received %s.", v)
		}
		v = strings.ToLower(v)
		checks = append(checks, func(n *Node) bool { return n.InstanceUUID == v })
	}
	if err := boolean("associated", func(n *Node) bool { return n.InstanceUUID != "" }); err != nil {
		return nil, err
	}
	if err := boolean("maintenance", func(n *Node) bool { return n.Maintenance }); err != nil {
		return nil, err
	}
	if err := boolean("retired", func(n *Node) bool { return n.Retired }); err != nil {
		return nil, err
	}
	str("provision_state", func(n *Node) string { return n.ProvisionState })
	str("driver", func(n *Node) string { return n.Driver })
	str("resource_class", func(n *Node) string { return n.ResourceClass })
	str("fault", func(n *Node) string { return n.Fault })
	str("owner", func(n *Node) string { return n.Owner })
	str("lessee", func(n *Node) string { return n.Lessee })
	str("chassis_uuid", func(n *Node) string { return n.ChassisUUID })
	str("parent_node", func(n *Node) string { return n.ParentNode })
	if q.Has("conductor_group") {
		want := strings.ToLower(q.Get("conductor_group"))
		checks = append(checks, func(n *Node) bool { return n.ConductorGroup == want })
	}
	if q.Has("shard") {
		want := strings.Split(q.Get("shard"), ",")
		checks = append(checks, func(n *Node) bool { return slices.Contains(want, n.Shard) })
	}
	if v := q.Get("description_contains"); v != "" {
		checks = append(checks, func(n *Node) bool { return strings.Contains(n.Description, v) })
	}
	return func(n *Node) bool {
		for _, c := range checks {
			if !c(n) {
				return false
			}
		}
		return true
	}, nil
}

func (s *Service) listNodes(detail bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := httpapi.PrincipalFrom(r.Context())
		lp, err := parseListParams(r, detail, nodeFields, nodeListFields, nodeFieldVersion, unsortableNode)
		if err != nil {
			return err
		}
		match, err := nodeFilter(r)
		if err != nil {
			return err
		}
		items := s.nodes.List(func(_ string, n *Node) bool { return sees(p, n) && match(n) })
		collection := "nodes"
		if detail {
			collection = "nodes/detail"
		}
		pageItems, next, err := page(r, lp, items,
			func(n *Node) string { return n.UUID },
			func(n *Node) string { return n.CreatedAt.Format("20060102150405.000000000") },
			func(n *Node) map[string]any { return nodeView(r, n, nil) }, collection)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(pageItems))
		for i := range pageItems {
			out[i] = nodeView(r, &pageItems[i], lp.fields)
		}
		body := map[string]any{"nodes": out}
		if next != "" {
			body["next"] = next
		}
		httpapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}

// fieldsParam reads ?fields= of a GET of one resource.
func fieldsParam(r *http.Request, all []string, version map[string]int) ([]string, error) {
	s := r.URL.Query().Get("fields")
	if s == "" {
		return nil, nil
	}
	var out, bad []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(all, f) || minor(r) < version[f] {
			bad = append(bad, f)
			continue
		}
		out = append(out, f)
	}
	if len(bad) > 0 {
		return nil, httpapi.BadRequest("Field(s) \"%s\" are not valid", strings.Join(bad, ", "))
	}
	return out, nil
}

func (s *Service) getNode(w http.ResponseWriter, r *http.Request) error {
	n, _, err := s.node(r)
	if err != nil {
		return err
	}
	fields, err := fieldsParam(r, nodeFields, nodeFieldVersion)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, nodeView(r, &n, fields))
	return nil
}

func (s *Service) createNode(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.PrincipalFrom(r.Context())
	if !p.IsAdmin() {
		return denied("baremetal:node:create")
	}
	var body map[string]any
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body == nil {
		return httpapi.BadRequest("Invalid input: a JSON object describing the node was expected.")
	}
	if _, ok := body["driver"]; !ok {
		return httpapi.BadRequest("'driver' is a required property")
	}
	t := now()
	n := Node{UUID: uuid.NewString(), DriverInfo: map[string]any{}, DriverInternalInfo: map[string]any{},
		Properties: map[string]any{}, InstanceInfo: map[string]any{}, Extra: map[string]any{},
		NetworkData: map[string]any{}, Traits: []string{}, CreatedAt: t, ProvisionUpdatedAt: &t}
	if minor(r) >= 11 {
		n.ProvisionState = StateEnroll
	} else {
		n.ProvisionState = StateAvailable
		n.PowerState = PowerOff
	}
	// driver first: the interfaces' defaults depend on it
	if err := setNodeField(&n, "driver", body["driver"]); err != nil {
		return err
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "driver" {
			continue
		}
		if !nodeCreatable[k] {
			return httpapi.BadRequest("Additional properties are not allowed ('%s' was unexpected)", k)
		}
		if err := fieldAllowed(r, k); err != nil {
			return err
		}
		if err := setNodeField(&n, k, body[k]); err != nil {
			return err
		}
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.nodes.Get(n.UUID); dup {
			return conflict("A node with UUID %s already exists.", n.UUID)
		}
		if err := s.checkUnique(&n); err != nil {
			return err
		}
		if err := s.nodes.Put(tx, n.UUID, n); err != nil {
			return err
		}
		s.emit(tx, "node", n.UUID, n.Owner, "created", n.ProvisionState)
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", base(r)+"/v1/nodes/"+n.UUID)
	httpapi.WriteJSON(w, http.StatusCreated, nodeView(r, &n, nil))
	return nil
}

// checkUnique refuses a name or instance already used by another node.
func (s *Service) checkUnique(n *Node) error {
	if n.Name != "" && s.nodes.Count(func(id string, o *Node) bool { return id != n.UUID && o.Name == n.Name }) > 0 {
		return conflict("A node with name %s already exists.", n.Name)
	}
	if n.InstanceUUID != "" {
		for _, o := range s.nodes.List(func(id string, o *Node) bool { return id != n.UUID && o.InstanceUUID == n.InstanceUUID }) {
			return conflict("Instance %s is already associated with a node, it cannot be associated with this other node %s", n.InstanceUUID, o.UUID)
		}
	}
	return nil
}

func (s *Service) patchNode(w http.ResponseWriter, r *http.Request) error {
	n, p, err := s.node(r)
	if err != nil {
		return err
	}
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if err := fieldAllowed(r, pointer(o.Path)[0]); err != nil {
			return err
		}
	}
	var out Node
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.nodes.Get(n.UUID)
		if !ok {
			return nodeNotFound(n.UUID)
		}
		doc := patchDoc(&cur)
		changed, err := nodePatch.apply(doc, ops)
		if err != nil {
			return err
		}
		before, _ := s.nodes.Get(n.UUID) // a separate copy to compare with
		keys := make([]string, 0, len(changed))
		for k := range changed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if slices.Contains(keys, "driver") { // interfaces' defaults follow the driver
			keys = append([]string{"driver"}, slices.DeleteFunc(keys, func(k string) bool { return k == "driver" })...)
		}
		for _, k := range keys {
			if (k == "owner" || k == "lessee") && !p.IsAdmin() {
				return denied("baremetal:node:update:" + k)
			}
			if err := setNodeField(&cur, k, doc[k]); err != nil {
				return err
			}
		}
		if reflect.DeepEqual(before, cur) {
			out = cur
			return nil
		}
		if transitional[cur.ProvisionState] {
			return nodeLocked(&cur)
		}
		if cur.InstanceUUID != before.InstanceUUID && before.InstanceUUID != "" && cur.InstanceUUID != "" {
			return conflict("Node %s is associated with instance %s.", cur.UUID, before.InstanceUUID)
		}
		if cur.ResourceClass != before.ResourceClass && before.ResourceClass != "" && !cur.Maintenance &&
			!slices.Contains([]string{StateEnroll, StateInspecting, StateManageable}, cur.ProvisionState) {
			return conflict("Node %s can not have resource_class updated unless it is in one of allowed (enroll, inspecting, manageable) states or in maintenance mode.", cur.UUID)
		}
		if !cur.Maintenance {
			cur.MaintenanceReason = ""
		}
		if err := s.checkUnique(&cur); err != nil {
			return err
		}
		t := now()
		cur.UpdatedAt = &t
		if err := s.nodes.Put(tx, cur.UUID, cur); err != nil {
			return err
		}
		s.emit(tx, "node", cur.UUID, cur.Owner, "updated", strings.Join(keys, ","))
		out = cur
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, nodeView(r, &out, nil))
	return nil
}

func (s *Service) deleteNode(w http.ResponseWriter, r *http.Request) error {
	n, p, err := s.node(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return denied("baremetal:node:delete")
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.nodes.Get(n.UUID)
		if !ok {
			return nodeNotFound(n.UUID)
		}
		if transitional[cur.ProvisionState] {
			return nodeLocked(&cur)
		}
		if cur.Protected {
			return httpapi.Errorf(http.StatusForbidden, "Forbidden", "Node %s is protected and cannot be undeployed, rebuilt or deleted", cur.UUID)
		}
		if cur.InstanceUUID != "" {
			return conflict("Node %s is associated with instance %s.", cur.UUID, cur.InstanceUUID)
		}
		if !cur.Maintenance && !slices.Contains(deleteAllowed, cur.ProvisionState) {
			return conflict("Can not delete node \"%s\" while it is in provision state \"%s\". Valid provision states to perform deletion are: \"%s\", or set the node into maintenance mode",
				cur.UUID, cur.ProvisionState, pyList(deleteAllowed))
		}
		for _, port := range s.ports.List(func(_ string, pt *Port) bool { return pt.NodeUUID == cur.UUID }) {
			if err := s.ports.Delete(tx, port.UUID); err != nil {
				return err
			}
			s.emit(tx, "port", port.UUID, cur.Owner, "deleted", port.Address)
		}
		if err := s.env.Tasks.Cancel(tx, "", cur.UUID); err != nil {
			return err
		}
		if err := s.nodes.Delete(tx, cur.UUID); err != nil {
			return err
		}
		s.emit(tx, "node", cur.UUID, cur.Owner, "deleted", "")
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func pyList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (s *Service) validateNode(w http.ResponseWriter, r *http.Request) error {
	n, _, err := s.node(r)
	if err != nil {
		return err
	}
	out := map[string]any{}
	for name := range interfaceNames {
		iface := n.Interfaces[name]
		kind := strings.TrimSuffix(name, "_interface")
		if strings.HasPrefix(iface, "no-") {
			out[kind] = map[string]any{"result": nil, "reason": kind + " not supported"}
		} else {
			out[kind] = map[string]any{"result": true}
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) getStates(w http.ResponseWriter, r *http.Request) error {
	n, _, err := s.node(r)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"console_enabled": false, "last_error": nullStr(n.LastError), "power_state": nullStr(n.PowerState),
		"provision_state": shownState(minor(r), n.ProvisionState), "provision_updated_at": fmtTime(n.ProvisionUpdatedAt),
		"raid_config": map[string]any{}, "target_power_state": nullStr(n.TargetPowerState),
		"target_provision_state": shownState(minor(r), n.TargetProvisionState), "target_raid_config": map[string]any{},
	})
	return nil
}
