package network

import (
	"net/http"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// extension is one entry of /v2.0/extensions.
type extension struct {
	Alias       string `json:"alias"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// extensions are the Neutron API extensions this service implements.
var extensions = []extension{
	{"allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"},
	{"binding", "Port Binding", "Expose port bindings of a virtual port to external application"},
	{"external-net", "Neutron external network", "Adds external network attribute to network resource."},
	{"ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"},
	{"extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"},
	{"filter-validation", "Filter parameters validation", "Provides validation on filter parameters."},
	{"fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"},
	{"network-mtu", "Network MTU", "Provides MTU attribute for a network resource."},
	{"network-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."},
	{"pagination", "Pagination support", "Extension that indicates that pagination is enabled."},
	{"port-security", "Port Security", "Provides port security"},
	{"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."},
	{"qos", "Quality of Service", "The Quality of Service extension."},
	{"quotas", "Quota management support", "Expose functions for quotas management per project"},
	{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"},
	{"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."},
	{"security-group", "security-group", "The security groups extension."},
	{"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"},
	{"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."},
	{"standard-attr-tag", "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip", "Enables to set tag on resources with standard attribute."},
	{"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."},
	{"stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"},
}

func extensionView(e extension) map[string]any {
	return map[string]any{"alias": e.Alias, "name": e.Name, "description": e.Description,
		"updated": "2024-01-01T00:00:00-00:00", "links": []any{}}
}

func (s *Service) listExtensions(w http.ResponseWriter, _ *http.Request) error {
	out := make([]map[string]any, len(extensions))
	for i, e := range extensions {
		out[i] = extensionView(e)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"extensions": out})
	return nil
}

func (s *Service) getExtension(w http.ResponseWriter, r *http.Request) error {
	alias := r.PathValue("alias")
	for _, e := range extensions {
		if e.Alias == alias {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"extension": extensionView(e)})
			return nil
		}
	}
	return httpapi.Errorf(http.StatusNotFound, "ExtensionNotFound", "Extension with alias %s does not exist", alias)
}
