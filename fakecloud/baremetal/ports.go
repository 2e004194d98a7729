package baremetal

import (
	"net"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

var unsortablePort = map[string]bool{"local_link_connection": true, "internal_info": true, "extra": true, "links": true}

var portPatch = resourcePatch{
	patchable: map[string]bool{"address": true, "node_uuid": true, "portgroup_uuid": true, "extra": true,
		"local_link_connection": true, "pxe_enabled": true, "physical_network": true, "is_smartnic": true},
	internal:  map[string]bool{"uuid": true, "created_at": true, "updated_at": true, "links": true, "internal_info": true},
	mandatory: map[string]bool{"address": true, "node_uuid": true},
}

func portNotFound(id string) error {
	return httpapi.Errorf(http.StatusNotFound, "PortNotFound", "Port %s could not be found.", id)
}

// normalMAC validates a MAC address and returns it in Ironic's lower-case colon form.
func normalMAC(v any) (string, error) {
	s, ok := v.(string)
	hw, err := net.ParseMAC(s)
	if !ok || err != nil || len(hw) != 6 {
		return "", httpapi.BadRequest("Expected a MAC address but received %v.", v)
	}
	return hw.String(), nil
}

func portView(r *http.Request, p *Port, fields []string) map[string]any {
	full := map[string]any{
		"uuid": p.UUID, "address": p.Address, "node_uuid": p.NodeUUID, "portgroup_uuid": nullStr(p.PortgroupUUID),
		"local_link_connection": obj(p.LocalLinkConnection), "pxe_enabled": p.PXEEnabled,
		"physical_network": nullStr(p.PhysicalNetwork), "internal_info": obj(p.InternalInfo), "extra": obj(p.Extra),
		"is_smartnic": p.IsSmartNIC, "created_at": fmtTime(&p.CreatedAt), "updated_at": fmtTime(p.UpdatedAt),
		"links": links(r, "ports", p.UUID),
	}
	if fields == nil {
		fields = portFields
	}
	out := map[string]any{}
	for _, f := range fields {
		if need, ok := portFieldVersion[f]; ok && minor(r) < need {
			continue
		}
		out[f] = full[f]
	}
	return out
}

// port returns the port of the request's {port} if the caller sees its node.
func (s *Service) port(r *http.Request) (Port, *httpapi.Principal, error) {
	p := httpapi.PrincipalFrom(r.Context())
	id := r.PathValue("port")
	if !httpapi.IsUUID(id) {
		return Port{}, p, httpapi.BadRequest("Expected a UUID but received %s.", id)
	}
	pt, ok := s.ports.Get(strings.ToLower(id))
	if !ok {
		return Port{}, p, portNotFound(id)
	}
	if n, ok := s.nodes.Get(pt.NodeUUID); !ok || !sees(p, &n) {
		return Port{}, p, portNotFound(id)
	}
	return pt, p, nil
}

func (s *Service) listPorts(detail bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		nodeID := q.Get("node_uuid")
		if ident := q.Get("node"); ident != "" {
			n, ok := s.findNode(ident)
			if !ok {
				return nodeNotFound(ident)
			}
			nodeID = n.UUID
		}
		return s.writePorts(w, r, detail, nodeID, "ports")
	}
}

func (s *Service) listNodePorts(detail bool) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, _, err := s.node(r)
		if err != nil {
			return err
		}
		return s.writePorts(w, r, detail, n.UUID, "nodes/"+n.UUID+"/ports")
	}
}

func (s *Service) writePorts(w http.ResponseWriter, r *http.Request, detail bool, nodeID, collection string) error {
	p := httpapi.PrincipalFrom(r.Context())
	lp, err := parseListParams(r, detail, portFields, portListFields, portFieldVersion, unsortablePort)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	addr := ""
	if a := q.Get("address"); a != "" {
		if addr, err = normalMAC(a); err != nil {
			return err
		}
	}
	if detail {
		collection += "/detail"
	}
	visible := map[string]bool{}
	for _, n := range s.nodes.List(func(_ string, n *Node) bool { return sees(p, n) }) {
		visible[n.UUID] = true
	}
	items := s.ports.List(func(_ string, pt *Port) bool {
		return visible[pt.NodeUUID] && (nodeID == "" || pt.NodeUUID == nodeID) && (addr == "" || pt.Address == addr) &&
			(!q.Has("portgroup") || pt.PortgroupUUID == q.Get("portgroup"))
	})
	pageItems, next, err := page(r, lp, items, func(p *Port) string { return p.UUID },
		func(p *Port) string { return p.CreatedAt.Format("20060102150405.000000000") },
		func(p *Port) map[string]any { return portView(r, p, nil) }, collection)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(pageItems))
	for i := range pageItems {
		out[i] = portView(r, &pageItems[i], lp.fields)
	}
	body := map[string]any{"ports": out}
	if next != "" {
		body["next"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, body)
	return nil
}

func (s *Service) getPort(w http.ResponseWriter, r *http.Request) error {
	pt, _, err := s.port(r)
	if err != nil {
		return err
	}
	fields, err := fieldsParam(r, portFields, portFieldVersion)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, portView(r, &pt, fields))
	return nil
}

// setPortField validates and stores one port attribute.
func (s *Service) setPortField(pt *Port, key string, v any) error {
	var err error
	switch key {
	case "uuid":
		id, ok := v.(string)
		if !ok || !httpapi.IsUUID(id) {
			return httpapi.BadRequest("Expected a UUID but received %v.", v)
		}
		pt.UUID = strings.ToLower(id)
	case "address":
		pt.Address, err = normalMAC(v)
	case "node_uuid":
		id, ok := v.(string)
		if !ok || !httpapi.IsUUID(id) {
			return httpapi.BadRequest("Expected a UUID but received %v.", v)
		}
		if _, ok := s.nodes.Get(strings.ToLower(id)); !ok {
			return httpapi.BadRequest("Node %s could not be found.", id)
		}
		pt.NodeUUID = strings.ToLower(id)
	case "portgroup_uuid":
		if v != nil {
			return httpapi.BadRequest("Portgroup %v could not be found.", v)
		}
	case "extra", "local_link_connection":
		m, ok := v.(map[string]any)
		if v != nil && !ok {
			return invalid(key, v, "Wrong type. Expected 'dict', got '"+jsonType(v)+"'")
		}
		if key == "extra" {
			pt.Extra = m
		} else {
			pt.LocalLinkConnection = m
		}
	case "pxe_enabled", "is_smartnic":
		b, ok := v.(bool)
		if v != nil && !ok {
			return invalid(key, v, "Wrong type. Expected 'bool', got '"+jsonType(v)+"'")
		}
		if key == "pxe_enabled" {
			pt.PXEEnabled = b || v == nil
		} else {
			pt.IsSmartNIC = b
		}
	case "physical_network":
		str, ok := v.(string)
		if v != nil && (!ok || len(str) > 64) {
			return invalid(key, v, "Expected a string of at most 64 characters")
		}
		pt.PhysicalNetwork = str
	default:
		return httpapi.BadRequest("Additional properties are not allowed ('%s' was unexpected)", key)
	}
	return err
}

func (s *Service) macTaken(pt *Port) error {
	if s.ports.Count(func(id string, o *Port) bool { return id != pt.UUID && o.Address == pt.Address }) > 0 {
		return conflict("A port with MAC address %s already exists.", pt.Address)
	}
	return nil
}

func (s *Service) createPort(w http.ResponseWriter, r *http.Request) error {
	p := httpapi.PrincipalFrom(r.Context())
	if !p.IsAdmin() {
		return denied("baremetal:port:create")
	}
	var body map[string]any
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	for _, req := range []string{"address", "node_uuid"} {
		if _, ok := body[req]; !ok {
			return httpapi.BadRequest("'%s' is a required property", req)
		}
	}
	t := now()
	pt := Port{UUID: uuid.NewString(), PXEEnabled: true, LocalLinkConnection: map[string]any{},
		InternalInfo: map[string]any{}, Extra: map[string]any{}, CreatedAt: t}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if need, ok := portFieldVersion[k]; ok && minor(r) < need {
			return httpapi.Errorf(http.StatusNotAcceptable, "NotAcceptable", "Request not acceptable.")
		}
		if err := s.setPortField(&pt, k, body[k]); err != nil {
			return err
		}
	}
	var n Node
	err := s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.ports.Get(pt.UUID); dup {
			return conflict("A port with UUID %s already exists.", pt.UUID)
		}
		if err := s.macTaken(&pt); err != nil {
			return err
		}
		var ok bool
		if n, ok = s.nodes.Get(pt.NodeUUID); !ok {
			return httpapi.BadRequest("Node %s could not be found.", pt.NodeUUID)
		}
		if err := s.ports.Put(tx, pt.UUID, pt); err != nil {
			return err
		}
		s.emit(tx, "port", pt.UUID, n.Owner, "created", pt.Address)
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", base(r)+"/v1/ports/"+pt.UUID)
	httpapi.WriteJSON(w, http.StatusCreated, portView(r, &pt, nil))
	return nil
}

func (s *Service) patchPort(w http.ResponseWriter, r *http.Request) error {
	pt, p, err := s.port(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return denied("baremetal:port:update")
	}
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	var out Port
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, ok := s.ports.Get(pt.UUID)
		if !ok {
			return portNotFound(pt.UUID)
		}
		before, _ := s.ports.Get(pt.UUID)
		doc := map[string]any{"address": cur.Address, "node_uuid": cur.NodeUUID, "portgroup_uuid": nullStr(cur.PortgroupUUID),
			"extra": toJSON(obj(cur.Extra)), "local_link_connection": toJSON(obj(cur.LocalLinkConnection)),
			"pxe_enabled": cur.PXEEnabled, "physical_network": nullStr(cur.PhysicalNetwork), "is_smartnic": cur.IsSmartNIC}
		changed, err := portPatch.apply(doc, ops)
		if err != nil {
			return err
		}
		for k := range changed {
			if need, ok := portFieldVersion[k]; ok && minor(r) < need {
				return httpapi.Errorf(http.StatusNotAcceptable, "NotAcceptable", "Request not acceptable.")
			}
			if err := s.setPortField(&cur, k, doc[k]); err != nil {
				return err
			}
		}
		out = cur
		if reflect.DeepEqual(before, cur) {
			return nil
		}
		if err := s.macTaken(&cur); err != nil {
			return err
		}
		t := now()
		cur.UpdatedAt = &t
		out = cur
		if err := s.ports.Put(tx, cur.UUID, cur); err != nil {
			return err
		}
		n, _ := s.nodes.Get(cur.NodeUUID)
		s.emit(tx, "port", cur.UUID, n.Owner, "updated", cur.Address)
		return nil
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, portView(r, &out, nil))
	return nil
}

func (s *Service) deletePort(w http.ResponseWriter, r *http.Request) error {
	pt, p, err := s.port(r)
	if err != nil {
		return err
	}
	if !p.IsAdmin() {
		return denied("baremetal:port:delete")
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if err := s.ports.Delete(tx, pt.UUID); err != nil {
			return portNotFound(pt.UUID)
		}
		n, _ := s.nodes.Get(pt.NodeUUID)
		s.emit(tx, "port", pt.UUID, n.Owner, "deleted", pt.Address)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
