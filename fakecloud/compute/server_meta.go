package compute

import (
	"net/http"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// serverSubRoutes registers a server's metadata, addresses, interfaces and tags.
func (s *Service) serverSubRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/servers/{id}/metadata", "server.metadata.list", h(s.getMetadata))
	rt.Handle("POST /v2.1/servers/{id}/metadata", "server.metadata.update", h(func(c *call) error { return s.setMetadata(c, false) }))
	rt.Handle("PUT /v2.1/servers/{id}/metadata", "server.metadata.replace", h(func(c *call) error { return s.setMetadata(c, true) }))
	rt.Handle("GET /v2.1/servers/{id}/metadata/{key}", "server.metadata.get", h(s.getMetadatum))
	rt.Handle("PUT /v2.1/servers/{id}/metadata/{key}", "server.metadata.set", h(s.setMetadatum))
	rt.Handle("DELETE /v2.1/servers/{id}/metadata/{key}", "server.metadata.delete", h(s.deleteMetadatum))
	rt.Handle("GET /v2.1/servers/{id}/ips", "server.ips", h(s.listIPs))
	rt.Handle("GET /v2.1/servers/{id}/ips/{network}", "server.ips", h(s.listIPs))
	rt.Handle("GET /v2.1/servers/{id}/os-interface", "server.interface.list", h(s.listInterfaces))
	rt.Handle("GET /v2.1/servers/{id}/os-interface/{port}", "server.interface.get", h(s.listInterfaces))
	rt.Handle("GET /v2.1/servers/{id}/os-instance-actions", "server.actions.list", h(s.listActions))
	rt.Handle("GET /v2.1/servers/{id}/os-instance-actions/{req}", "server.actions.get", h(s.listActions))
	rt.Handle("GET /v2.1/servers/{id}/tags", "server.tags.list", h(s.listTags))
	rt.Handle("PUT /v2.1/servers/{id}/tags", "server.tags.replace", h(s.replaceTags))
	rt.Handle("DELETE /v2.1/servers/{id}/tags", "server.tags.clear", h(s.clearTags))
	rt.Handle("GET /v2.1/servers/{id}/tags/{tag}", "server.tag.check", h(s.checkTag))
	rt.Handle("PUT /v2.1/servers/{id}/tags/{tag}", "server.tag.add", h(s.addTag))
	rt.Handle("DELETE /v2.1/servers/{id}/tags/{tag}", "server.tag.delete", h(s.deleteTag))
}

// modifyServer changes a server the caller sees, refusing locked and deleting servers.
func (s *Service) modifyServer(c *call, fn func(v *Server) error) (Server, error) {
	id := c.r.PathValue("id")
	if _, err := s.lookupServer(c, id); err != nil {
		return Server{}, err
	}
	var out Server
	err := s.env.DB.Update(func(tx *store.Tx) error {
		var err error
		out, err = s.servers.Modify(tx, id, func(v *Server) error {
			if v.Locked && !c.p.IsAdmin() {
				return httpapi.Conflict("Instance %s is locked", id)
			}
			if v.TaskState == "deleting" {
				return httpapi.Conflict("Cannot 'update' instance %s while it is in task_state deleting", id)
			}
			if err := fn(v); err != nil {
				return err
			}
			v.Updated = time.Now().UTC()
			return nil
		})
		if err != nil {
			return err
		}
		emit(tx, "server", id, out.Project, "updated", "")
		return nil
	})
	if err != nil {
		return out, httpapi.AsError(err)
	}
	return out, nil
}

func metadataBody(md map[string]string) map[string]any {
	if md == nil {
		md = map[string]string{}
	}
	return map[string]any{"metadata": md}
}

func (s *Service) getMetadata(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, metadataBody(srv.Metadata))
}

func (s *Service) setMetadata(c *call, replace bool) error {
	var body struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if body.Metadata == nil {
		return httpapi.BadRequest("Invalid input for field/attribute metadata. 'metadata' is a required property")
	}
	srv, err := s.modifyServer(c, func(v *Server) error {
		md := body.Metadata
		if !replace {
			md = cloneMap(v.Metadata)
			if md == nil {
				md = map[string]string{}
			}
			for k, val := range body.Metadata {
				md[k] = val
			}
		}
		if err := s.validateMetadata(v.Project, md); err != nil {
			return err
		}
		v.Metadata = md
		return nil
	})
	if err != nil {
		return err
	}
	if replace {
		return c.json(http.StatusOK, metadataBody(body.Metadata))
	}
	return c.json(http.StatusOK, metadataBody(srv.Metadata))
}

func metaNotFound() error {
	return httpapi.Errorf(http.StatusNotFound, "MetadataNotFound", "Metadata item was not found")
}

func (s *Service) getMetadatum(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	key := c.r.PathValue("key")
	v, ok := srv.Metadata[key]
	if !ok {
		return metaNotFound()
	}
	return c.json(http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
}

func (s *Service) setMetadatum(c *call) error {
	var body struct {
		Meta map[string]string `json:"meta"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	key := c.r.PathValue("key")
	if _, ok := body.Meta[key]; !ok || len(body.Meta) != 1 {
		return httpapi.BadRequest("Request body and URI mismatch")
	}
	_, err := s.modifyServer(c, func(v *Server) error {
		md := cloneMap(v.Metadata)
		if md == nil {
			md = map[string]string{}
		}
		md[key] = body.Meta[key]
		if err := s.validateMetadata(v.Project, md); err != nil {
			return err
		}
		v.Metadata = md
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"meta": body.Meta})
}

func (s *Service) deleteMetadatum(c *call) error {
	key := c.r.PathValue("key")
	_, err := s.modifyServer(c, func(v *Server) error {
		if _, ok := v.Metadata[key]; !ok {
			return metaNotFound()
		}
		delete(v.Metadata, key)
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) listIPs(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	addrs := addressesOf(srv.Ports)
	for _, list := range addrs {
		for _, a := range list {
			delete(a, "OS-EXT-IPS:type")
			delete(a, "OS-EXT-IPS-MAC:mac_addr")
		}
	}
	if n := c.r.PathValue("network"); n != "" {
		list, ok := addrs[n]
		if !ok {
			return httpapi.Errorf(http.StatusNotFound, "NetworkNotFound", "There's no such network %s", n)
		}
		return c.json(http.StatusOK, map[string]any{n: list})
	}
	return c.json(http.StatusOK, map[string]any{"addresses": addrs})
}

func (s *Service) listInterfaces(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	want := c.r.PathValue("port")
	out := []map[string]any{}
	for _, p := range srv.Ports {
		if want != "" && p.ID != want {
			continue
		}
		ips := []map[string]string{}
		for _, ip := range p.FixedIPs {
			ips = append(ips, map[string]string{"subnet_id": ip.SubnetID, "ip_address": ip.IPAddress})
		}
		out = append(out, map[string]any{"port_state": "ACTIVE", "fixed_ips": ips, "port_id": p.ID, "net_id": p.NetworkID, "mac_addr": p.MACAddress})
	}
	if want != "" {
		if len(out) == 0 {
			return httpapi.Errorf(http.StatusNotFound, "PortNotFound", "Port %s is not attached", want)
		}
		return c.json(http.StatusOK, map[string]any{"interfaceAttachment": out[0]})
	}
	return c.json(http.StatusOK, map[string]any{"interfaceAttachments": out})
}

func (c *call) tagsAllowed() error {
	if !c.mv.AtLeast(26) {
		return httpapi.Errorf(http.StatusNotFound, "NotFound", "The resource could not be found.")
	}
	return nil
}

func (s *Service) listTags(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	tags := srv.Tags
	if tags == nil {
		tags = []string{}
	}
	return c.json(http.StatusOK, map[string]any{"tags": tags})
}

func (s *Service) replaceTags(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	if body.Tags == nil {
		return httpapi.BadRequest("Invalid input for field/attribute tags. 'tags' is a required property")
	}
	if err := validateTags(body.Tags); err != nil {
		return err
	}
	tags := slices.Compact(slices.Sorted(slices.Values(body.Tags)))
	if _, err := s.modifyServer(c, func(v *Server) error { v.Tags = tags; return nil }); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"tags": tags})
}

func (s *Service) clearTags(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	if _, err := s.modifyServer(c, func(v *Server) error { v.Tags = nil; return nil }); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) checkTag(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	tag := c.r.PathValue("tag")
	if !slices.Contains(srv.Tags, tag) {
		return httpapi.Errorf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found.", tag)
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) addTag(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	tag := c.r.PathValue("tag")
	if err := validateTags([]string{tag}); err != nil {
		return err
	}
	existed := false
	_, err := s.modifyServer(c, func(v *Server) error {
		if slices.Contains(v.Tags, tag) {
			existed = true
			return nil
		}
		if len(v.Tags) >= 50 {
			return httpapi.BadRequest("The number of tags exceeded the per-server limit 50")
		}
		v.Tags = slices.Sorted(slices.Values(append(v.Tags, tag)))
		return nil
	})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", c.base+"/v2.1/servers/"+c.r.PathValue("id")+"/tags/"+tag)
	if existed {
		c.w.WriteHeader(http.StatusNoContent)
	} else {
		c.w.WriteHeader(http.StatusCreated)
	}
	return nil
}

func (s *Service) deleteTag(c *call) error {
	if err := c.tagsAllowed(); err != nil {
		return err
	}
	tag := c.r.PathValue("tag")
	_, err := s.modifyServer(c, func(v *Server) error {
		if !slices.Contains(v.Tags, tag) {
			return httpapi.Errorf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found.", tag)
		}
		v.Tags = slices.DeleteFunc(v.Tags, func(t string) bool { return t == tag })
		return nil
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// listActions serves os-instance-actions: the list, newest first, or one action with its
// (single, simulated) event.
func (s *Service) listActions(c *call) error {
	srv, err := s.lookupServer(c, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	want := c.r.PathValue("req")
	body := func(a InstanceAction) map[string]any {
		start := a.Start.UTC().Format("2006-01-02T15:04:05.000000")
		b := map[string]any{"action": a.Action, "instance_uuid": srv.ID, "request_id": a.RequestID, "user_id": a.UserID,
			"project_id": a.Project, "start_time": start, "message": nil}
		if c.mv.AtLeast(58) {
			b["updated_at"] = start
		}
		if want != "" {
			result := "Success"
			if srv.Status == StatusError && a.Action == "create" {
				result = "Error"
				b["message"] = "Error"
			}
			ev := map[string]any{"event": "compute_" + a.Action + "_instance", "start_time": start, "finish_time": start, "result": result}
			if c.mv.AtLeast(62) {
				ev["host"] = srv.Host
				ev["hostId"] = srv.HostID
			}
			if c.p.IsAdmin() {
				ev["traceback"] = nil
			}
			b["events"] = []any{ev}
		}
		return b
	}
	if want != "" {
		for _, a := range srv.Actions {
			if a.RequestID == want {
				return c.json(http.StatusOK, map[string]any{"instanceAction": body(a)})
			}
		}
		return httpapi.Errorf(http.StatusNotFound, "InstanceActionNotFound", "Action for request_id %s on instance %s not found", want, srv.ID)
	}
	out := make([]any, 0, len(srv.Actions))
	for i := len(srv.Actions) - 1; i >= 0; i-- {
		out = append(out, body(srv.Actions[i]))
	}
	return c.json(http.StatusOK, map[string]any{"instanceActions": out})
}
