package baremetal

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Service is the Ironic v1 API.
type Service struct {
	env     services.Env
	backend Backend
	nodes   *store.Table[Node]
	ports   *store.Table[Port]
}

var (
	_ services.Service   = (*Service)(nil)
	_ services.BareMetal = (*Service)(nil)
)

// New creates the bare-metal service, its tables and task handlers. A nil backend is the
// memory backend.
func New(env services.Env, backend Backend) (*Service, error) {
	if backend == nil {
		backend = MemoryBackend{}
	}
	nodes, err := store.NewTable[Node](env.DB, "baremetal_nodes")
	if err != nil {
		return nil, err
	}
	ports, err := store.NewTable[Port](env.DB, "baremetal_ports")
	if err != nil {
		return nil, err
	}
	s := &Service{env: env, backend: backend, nodes: nodes, ports: ports}
	s.registerTasks()
	return s, nil
}

// Routes registers Ironic's routes under /baremetal.
func (s *Service) Routes() {
	rt := s.env.Router("baremetal", "/baremetal", httpapi.StyleIronic)
	// "GET " is the bare prefix (/baremetal): keystoneauth's discovery does not follow the
	// redirect ServeMux would answer with.
	rt.HandlePublic("GET ", "versions", s.root)
	rt.HandlePublic("GET /{$}", "versions", s.root)
	rt.HandlePublic("GET /v1", "versions", versioned(s.v1))
	rt.HandlePublic("GET /v1/{$}", "versions", versioned(s.v1))
	h := func(pattern, name string, fn httpapi.HandlerFunc) {
		rt.Handle(pattern, name, versioned(fn))
		// python-ironicclient asks for collections with a trailing slash ("/v1/nodes/?...")
		if !strings.Contains(pattern, "{") && !strings.HasSuffix(pattern, "/") {
			rt.Handle(pattern+"/{$}", name, versioned(fn))
		}
	}

	h("GET /v1/nodes", "node.list", s.listNodes(false))
	h("GET /v1/nodes/detail", "node.list", s.listNodes(true))
	h("POST /v1/nodes", "node.create", s.createNode)
	h("GET /v1/nodes/{node}", "node.get", s.getNode)
	h("PATCH /v1/nodes/{node}", "node.update", s.patchNode)
	h("DELETE /v1/nodes/{node}", "node.delete", s.deleteNode)
	h("GET /v1/nodes/{node}/states", "node.states", s.getStates)
	h("PUT /v1/nodes/{node}/states/provision", "node.provision", s.setProvision)
	h("PUT /v1/nodes/{node}/states/power", "node.power", s.setPower)
	h("PUT /v1/nodes/{node}/maintenance", "node.maintenance", s.setMaintenance(true))
	h("DELETE /v1/nodes/{node}/maintenance", "node.maintenance", s.setMaintenance(false))
	h("GET /v1/nodes/{node}/validate", "node.validate", s.validateNode)
	h("GET /v1/nodes/{node}/ports", "port.list", s.listNodePorts(false))
	h("GET /v1/nodes/{node}/ports/detail", "port.list", s.listNodePorts(true))

	h("GET /v1/ports", "port.list", s.listPorts(false))
	h("GET /v1/ports/detail", "port.list", s.listPorts(true))
	h("POST /v1/ports", "port.create", s.createPort)
	h("GET /v1/ports/{port}", "port.get", s.getPort)
	h("PATCH /v1/ports/{port}", "port.update", s.patchPort)
	h("DELETE /v1/ports/{port}", "port.delete", s.deletePort)

	h("GET /v1/drivers", "driver.list", s.listDrivers)
	h("GET /v1/drivers/{driver}", "driver.get", s.getDriver)
	h("GET /v1/drivers/{driver}/properties", "driver.properties", s.driverProperties)
}

// Resources lists every node and port, for `fakecloud state`.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	for _, n := range s.nodes.List(nil) {
		out = append(out, services.Resource{Service: "baremetal", Kind: "node", ID: n.UUID, Name: n.Name, Project: n.Owner, Status: n.ProvisionState})
	}
	for _, p := range s.ports.List(nil) {
		n, _ := s.nodes.Get(p.NodeUUID)
		out = append(out, services.Resource{Service: "baremetal", Kind: "port", ID: p.UUID, Name: p.Address, Project: n.Owner, Status: "ACTIVE"})
	}
	slices.SortFunc(out, func(a, b services.Resource) int {
		return strings.Compare(a.Project+"/"+a.Kind+"/"+a.ID, b.Project+"/"+b.Kind+"/"+b.ID)
	})
	return out
}

// sees reports whether p may see n: admins all nodes, others the nodes their project owns or
// leases.
func sees(p *httpapi.Principal, n *Node) bool {
	if p.IsAdmin() {
		return true
	}
	return p != nil && p.ProjectID != "" && (n.Owner == p.ProjectID || n.Lessee == p.ProjectID)
}

func nodeNotFound(ident string) error {
	return httpapi.Errorf(http.StatusNotFound, "NodeNotFound", "Node %s could not be found.", ident)
}

func denied(policy string) error {
	return httpapi.Errorf(http.StatusForbidden, "Forbidden", "Access was denied to the following resource: %s", policy)
}

func nodeLocked(n *Node) error {
	return httpapi.Errorf(http.StatusConflict, "NodeLocked",
		"Node %s is locked by host fakecloud, please retry after the current operation is completed.", n.UUID)
}

// findNode resolves a node identifier (UUID or logical name) without access checks.
func (s *Service) findNode(ident string) (Node, bool) {
	if httpapi.IsUUID(ident) {
		if n, ok := s.nodes.Get(strings.ToLower(ident)); ok {
			return n, true
		}
	}
	hits := s.nodes.List(func(_ string, n *Node) bool { return n.Name != "" && n.Name == ident })
	if len(hits) == 1 {
		return hits[0], true
	}
	return Node{}, false
}

// node returns the node named by the request's {node}, or Ironic's 404 when it does not
// exist or the caller may not see it.
func (s *Service) node(r *http.Request) (Node, *httpapi.Principal, error) {
	p := httpapi.PrincipalFrom(r.Context())
	ident := r.PathValue("node")
	n, ok := s.findNode(ident)
	if !ok || !sees(p, &n) {
		return Node{}, p, nodeNotFound(ident)
	}
	return n, p, nil
}

func (s *Service) emit(tx *store.Tx, kind, id, project, action, detail string) {
	sev := ""
	if action == "error" || strings.Contains(detail, "failed") || strings.HasPrefix(detail, StateError) {
		sev = "error"
	}
	tx.Emit(store.Event{Service: "baremetal", Kind: kind, ID: id, Project: project, Action: action, Detail: detail, Severity: sev})
}

func now() time.Time { return time.Now().UTC() }

// nodeLinks are a node's self and bookmark links.
func links(r *http.Request, collection, id string, sub ...string) []map[string]string {
	path := collection + "/" + id
	if len(sub) > 0 {
		path += "/" + strings.Join(sub, "/")
	}
	return []map[string]string{
		{"href": base(r) + "/v1/" + path, "rel": "self"},
		{"href": base(r) + "/" + path, "rel": "bookmark"},
	}
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func obj(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// nodeView renders a node as the API version of r shows it, restricted to fields (all when
// nil).
func nodeView(r *http.Request, n *Node, fields []string) map[string]any {
	full := map[string]any{
		"uuid": n.UUID, "name": nullStr(n.Name), "driver": n.Driver, "driver_info": maskDriverInfo(n.DriverInfo),
		"driver_internal_info": obj(n.DriverInternalInfo), "properties": obj(n.Properties),
		"instance_info": maskInstanceInfo(n.InstanceInfo), "instance_uuid": nullStr(n.InstanceUUID),
		"chassis_uuid": nullStr(n.ChassisUUID), "extra": obj(n.Extra), "console_enabled": false,
		"raid_config": map[string]any{}, "target_raid_config": map[string]any{}, "clean_step": map[string]any{},
		"deploy_step": map[string]any{}, "service_step": map[string]any{},
		"links": links(r, "nodes", n.UUID), "ports": links(r, "nodes", n.UUID, "ports"),
		"portgroups": links(r, "nodes", n.UUID, "portgroups"), "states": links(r, "nodes", n.UUID, "states"),
		"volume": links(r, "nodes", n.UUID, "volume"), "resource_class": nullStr(n.ResourceClass),
		"traits": traitsOrEmpty(n.Traits), "conductor_group": n.ConductorGroup, "parent_node": nullStr(n.ParentNode),
		"protected": n.Protected, "protected_reason": nullStr(n.ProtectedReason), "owner": nullStr(n.Owner),
		"lessee": nullStr(n.Lessee), "shard": nullStr(n.Shard), "description": nullStr(n.Description),
		"conductor": "fakecloud", "allocation_uuid": nil, "retired": n.Retired, "retired_reason": nullStr(n.RetiredReason),
		"network_data": obj(n.NetworkData), "automated_clean": n.AutomatedClean, "boot_mode": nil, "secure_boot": nil,
		"power_state": nullStr(n.PowerState), "target_power_state": nullStr(n.TargetPowerState),
		"provision_state": n.ProvisionState, "target_provision_state": nullStr(n.TargetProvisionState),
		"maintenance": n.Maintenance, "maintenance_reason": nullStr(n.MaintenanceReason), "fault": nullStr(n.Fault),
		"last_error": nullStr(n.LastError), "reservation": nil, "provision_updated_at": fmtTime(n.ProvisionUpdatedAt),
		"inspection_started_at": fmtTime(n.InspectionStartedAt), "inspection_finished_at": fmtTime(n.InspectionFinishedAt),
		"created_at": fmtTime(&n.CreatedAt), "updated_at": fmtTime(n.UpdatedAt),
	}
	for name := range interfaceNames {
		full[name] = n.Interfaces[name]
	}
	v := minor(r)
	full["provision_state"] = shownState(v, n.ProvisionState)
	full["target_provision_state"] = shownState(v, n.TargetProvisionState)
	if fields == nil {
		fields = nodeFields
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if need, ok := nodeFieldVersion[f]; ok && v < need {
			continue
		}
		if need, ok := interfaceNames[f]; ok && v < need {
			continue
		}
		if val, ok := full[f]; ok {
			out[f] = val
		}
	}
	return out
}

// shownState is a provision state as API version 1.<v> names it: before 1.2, "available"
// was NOSTATE, shown as null.
func shownState(v int, state string) any {
	if state == "" || (v < 2 && state == StateAvailable) {
		return nil
	}
	return state
}

func traitsOrEmpty(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// maskInstanceInfo hides the config drive, as Ironic does.
func maskInstanceInfo(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "configdrive" {
			v = "******"
		}
		out[k] = v
	}
	return out
}

// maskDriverInfo hides passwords in driver_info, as Ironic does.
func maskDriverInfo(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if strings.Contains(k, "password") {
			v = "******"
		}
		out[k] = v
	}
	return out
}

// NodeSpecs returns the backend's view of every node, sorted by name.
func (s *Service) NodeSpecs() []NodeSpec {
	nodes := s.nodes.List(nil)
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(a.Name+"/"+a.UUID, b.Name+"/"+b.UUID) })
	out := make([]NodeSpec, 0, len(nodes))
	for i := range nodes {
		out = append(out, s.spec(&nodes[i]))
	}
	return out
}

// spec builds the backend's view of a node.
func (s *Service) spec(n *Node) NodeSpec {
	var macs []string
	for _, p := range s.ports.List(func(_ string, p *Port) bool { return p.NodeUUID == n.UUID }) {
		macs = append(macs, p.Address)
	}
	slices.Sort(macs)
	return NodeSpec{ID: n.UUID, Name: n.Name, ResourceClass: n.ResourceClass, InstanceUUID: n.InstanceUUID,
		Properties: n.Properties, InstanceInfo: n.InstanceInfo, MACs: macs, Meta: n.Meta}
}
