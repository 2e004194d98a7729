package network

import (
	"encoding/json"
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type networkFields struct {
	Name         *string         `json:"name"`
	Description  *string         `json:"description"`
	AdminStateUp *bool           `json:"admin_state_up"`
	Shared       *bool           `json:"shared"`
	External     *bool           `json:"router:external"`
	MTU          *flexInt        `json:"mtu"`
	PortSecurity *bool           `json:"port_security_enabled"`
	QoSPolicyID  json.RawMessage `json:"qos_policy_id"`
	ProjectID    string          `json:"project_id"`
	TenantID     string          `json:"tenant_id"`
	Tags         []string        `json:"tags"`
}

type networkBody struct {
	Network *networkFields `json:"network"`
}

func (s *Service) networkView(n Network) map[string]any {
	return map[string]any{
		"id": n.ID, "name": n.Name, "description": n.Description,
		"admin_state_up": n.AdminStateUp, "status": "ACTIVE",
		"subnets": nonNil(n.Subnets), "shared": n.Shared, "router:external": n.External,
		"project_id": n.Project, "tenant_id": n.Project,
		"mtu": n.MTU, "port_security_enabled": n.PortSecurity,
		"availability_zone_hints": []string{}, "availability_zones": []string{"nova"},
		"ipv4_address_scope": nil, "ipv6_address_scope": nil, "is_default": false,
		"l2_adjacency": true, "qos_policy_id": nullable(n.QoSPolicyID), "dns_domain": "",
		"tags": nonNil(n.Tags), "revision_number": n.Revision,
		"created_at": ts(n.Created), "updated_at": ts(n.Updated),
	}
}

// canSeeNetwork reports whether p sees n: its own, shared or external networks.
func canSeeNetwork(p *httpapi.Principal, n *Network) bool {
	return p.Sees(n.Project) || n.Shared || n.External
}

// visibleNetwork returns the network id if the caller sees it, else a 404.
func (s *Service) visibleNetwork(p *httpapi.Principal, id string) (Network, error) {
	n, ok := s.networks.Get(id)
	if !ok || !canSeeNetwork(p, &n) {
		return Network{}, httpapi.NotFound("Network", id)
	}
	return n, nil
}

var networkFilters = fieldsOfT[Network]{
	"id": func(v *Network) string { return v.ID }, "name": func(v *Network) string { return v.Name },
	"description": func(v *Network) string { return v.Description },
	"project_id":  func(v *Network) string { return v.Project }, "tenant_id": func(v *Network) string { return v.Project },
	"status": func(v *Network) string { return "ACTIVE" }, "shared": func(v *Network) string { return fmtBool(v.Shared) },
	"router:external":       func(v *Network) string { return fmtBool(v.External) },
	"admin_state_up":        func(v *Network) string { return fmtBool(v.AdminStateUp) },
	"port_security_enabled": func(v *Network) string { return fmtBool(v.PortSecurity) },
	"mtu":                   func(v *Network) string { return itoa(v.MTU) },
	"qos_policy_id":         func(v *Network) string { return v.QoSPolicyID },
}

func (s *Service) listNetworks(w http.ResponseWriter, r *http.Request) error {
	p := caller(r)
	m := newMatcher(r, networkFilters, func(v *Network) []string { return v.Tags })
	nets := s.networks.List(func(_ string, n *Network) bool { return canSeeNetwork(p, n) && m.match(n) })
	views := make([]map[string]any, len(nets))
	for i, n := range nets {
		views[i] = s.networkView(n)
	}
	return writeList(w, r, "networks", views)
}

func (s *Service) getNetwork(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Network")
	if err != nil {
		return err
	}
	n, err := s.visibleNetwork(caller(r), id)
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "network", s.networkView(n))
}

func (s *Service) createNetwork(w http.ResponseWriter, r *http.Request) error {
	return createResources(s, w, r, "network", "networks", true, s.stageNetwork, nil)
}

func (s *Service) stageNetwork(p *httpapi.Principal, b *networkFields) (staged, error) {
	project, err := owner(p, b.ProjectID, b.TenantID)
	if err != nil {
		return staged{}, err
	}
	if (b.Shared != nil && *b.Shared || b.External != nil) && !p.IsAdmin() {
		return staged{}, httpapi.Forbidden("(rule:create_network and (rule:create_network:shared and rule:create_network:router:external)) is disallowed by policy")
	}
	t := now()
	n := Network{ID: newID(), Project: project, AdminStateUp: true, MTU: s.cfg.MTU, PortSecurity: true, Subnets: []string{},
		Tags: []string{}, Revision: 1, Created: t, Updated: t}
	if err := applyNetwork(&n, b); err != nil {
		return staged{}, err
	}
	if b.Tags != nil {
		if err := checkTags(b.Tags); err != nil {
			return staged{}, err
		}
		n.Tags = dedupTags(b.Tags)
	}
	qosID, _, err := qosPolicyArg(b.QoSPolicyID)
	if err != nil {
		return staged{}, err
	}
	put := func(tx *store.Tx) error {
		if err := s.checkQuota(project, "network", 1); err != nil {
			return err
		}
		if qosID != "" {
			if err := s.checkQoSFor(project, p.IsAdmin(), qosID); err != nil {
				return err
			}
			n.QoSPolicyID = qosID
		}
		if _, err := s.ensureDefaultSG(tx, project); err != nil {
			return err
		}
		if err := s.networks.Put(tx, n.ID, n); err != nil {
			return err
		}
		s.emit(tx, "network", n.ID, project, "created", n.Name)
		return s.reconcile(tx, taskNetworkSync, n.ID, project)
	}
	return staged{put: put, view: func() map[string]any { return s.networkView(n) }}, nil
}

func applyNetwork(n *Network, b *networkFields) error {
	if b.Name != nil {
		if len(*b.Name) > 255 {
			return httpapi.BadRequest("Invalid input for name. Reason: '%s' exceeds maximum length of 255.", *b.Name)
		}
		n.Name = *b.Name
	}
	if b.Description != nil {
		if len(*b.Description) > 255 {
			return httpapi.BadRequest("Invalid input for description. Reason: exceeds maximum length of 255.")
		}
		n.Description = *b.Description
	}
	if b.AdminStateUp != nil {
		n.AdminStateUp = *b.AdminStateUp
	}
	if b.Shared != nil {
		n.Shared = *b.Shared
	}
	if b.External != nil {
		n.External = *b.External
	}
	if b.MTU != nil {
		if *b.MTU < 68 || *b.MTU > 9000 {
			return httpapi.BadRequest("Invalid input for mtu. Reason: '%d' is not in range 68 through 9000.", *b.MTU)
		}
		n.MTU = int(*b.MTU)
	}
	if b.PortSecurity != nil {
		n.PortSecurity = *b.PortSecurity
	}
	return nil
}

func (s *Service) updateNetwork(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Network")
	if err != nil {
		return err
	}
	var body networkBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if body.Network == nil {
		return httpapi.BadRequest("Resource body required: 'network'.")
	}
	b := body.Network
	p := caller(r)
	if b.ProjectID != "" || b.TenantID != "" {
		return httpapi.BadRequest("Cannot update read-only attribute project_id")
	}
	if (b.Shared != nil || b.External != nil) && !p.IsAdmin() {
		return httpapi.Forbidden("(rule:update_network and rule:update_network:shared) is disallowed by policy")
	}
	qosID, qosGiven, err := qosPolicyArg(b.QoSPolicyID)
	if err != nil {
		return err
	}
	var n Network
	err = s.env.DB.Update(func(tx *store.Tx) error {
		cur, err := s.visibleNetwork(p, id)
		if err != nil {
			return err
		}
		if !p.Sees(cur.Project) {
			return httpapi.Forbidden("update_network is disallowed by policy")
		}
		if qosID != "" {
			if err := s.checkQoSFor(cur.Project, p.IsAdmin(), qosID); err != nil {
				return err
			}
		}
		n, err = s.networks.Modify(tx, id, func(v *Network) error {
			if err := applyNetwork(v, b); err != nil {
				return err
			}
			if qosGiven {
				v.QoSPolicyID = qosID
			}
			v.Revision++
			v.Updated = now()
			return nil
		})
		if err != nil {
			return err
		}
		s.emit(tx, "network", id, n.Project, "updated", n.Name)
		return s.reconcile(tx, taskNetworkSync, id, n.Project)
	})
	if err != nil {
		return err
	}
	return writeOne(w, r, http.StatusOK, "network", s.networkView(n))
}

func (s *Service) deleteNetwork(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "Network")
	if err != nil {
		return err
	}
	p := caller(r)
	err = s.env.DB.Update(func(tx *store.Tx) error {
		n, err := s.visibleNetwork(p, id)
		if err != nil {
			return err
		}
		if !p.Sees(n.Project) {
			return httpapi.Forbidden("delete_network is disallowed by policy")
		}
		ports := s.ports.List(func(_ string, v *Port) bool { return v.NetworkID == id })
		for _, port := range ports {
			if port.DeviceOwner != OwnerDHCP {
				return httpapi.Errorf(http.StatusConflict, "NetworkInUse",
					"Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
			}
		}
		for _, port := range ports {
			if err := s.removePort(tx, port); err != nil {
				return err
			}
		}
		for _, sid := range n.Subnets {
			if err := s.subnets.Delete(tx, sid); err != nil {
				return err
			}
			s.ipam.dropSubnet(tx, sid)
			s.emit(tx, "subnet", sid, n.Project, "deleted", "")
		}
		if err := s.networks.Delete(tx, id); err != nil {
			return err
		}
		s.emit(tx, "network", id, n.Project, "deleted", n.Name)
		return s.reconcile(tx, taskNetworkSync, id, n.Project)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
