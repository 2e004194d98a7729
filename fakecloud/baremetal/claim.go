package baremetal

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// CustomResourceClass returns the Placement custom resource class Nova sees for an Ironic
// resource class: "baremetal.medium" -> "CUSTOM_BAREMETAL_MEDIUM" (upper-cased, every
// character outside A-Z and 0-9 replaced by "_", prefixed with "CUSTOM_" unless already).
// A bare-metal flavor asks for it with the extra spec resources:CUSTOM_BAREMETAL_MEDIUM=1.
func CustomResourceClass(rc string) string {
	up := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, rc)
	if strings.HasPrefix(up, "CUSTOM_") {
		return up
	}
	return "CUSTOM_" + up
}

// info is the services.NodeInfo of a node.
func info(n *Node) services.NodeInfo {
	props := map[string]string{}
	for k, v := range n.Properties {
		props[k] = fmt.Sprint(v)
	}
	return services.NodeInfo{ID: n.UUID, Name: n.Name, ResourceClass: n.ResourceClass, ProvisionState: n.ProvisionState,
		PowerState: n.PowerState, InstanceUUID: n.InstanceUUID, Properties: props}
}

// Claim reserves an available, non-maintenance node of resourceClass (an Ironic class such as
// "baremetal.medium", or its Placement name CUSTOM_BAREMETAL_MEDIUM) for instanceID and starts
// deploying it with userData. meta is kept for the backend and may carry project_id (whose
// faults then stall the deploy), image_source and display_name, which go to instance_info.
// Claiming again for the same instance returns its node. With no node free it returns a 409
// *httpapi.Error ("No valid host was found").
func (s *Service) Claim(tx *store.Tx, resourceClass, instanceID string, userData []byte, meta map[string]string) (services.NodeInfo, error) {
	if n, ok := s.nodeFor(instanceID); ok {
		return info(&n), nil
	}
	want := CustomResourceClass(resourceClass)
	free := s.nodes.List(func(_ string, n *Node) bool {
		return n.ProvisionState == StateAvailable && !n.Maintenance && !n.Retired && n.InstanceUUID == "" && n.TargetPowerState == "" &&
			n.ResourceClass != "" && CustomResourceClass(n.ResourceClass) == want
	})
	if len(free) == 0 {
		return services.NodeInfo{}, httpapi.Errorf(http.StatusConflict, "NoValidHost",
			"No valid host was found: no available bare-metal node of class %s", resourceClass)
	}
	slices.SortFunc(free, func(a, b Node) int { return strings.Compare(a.Name+"/"+a.UUID, b.Name+"/"+b.UUID) })
	n := free[0]
	n.InstanceUUID = instanceID
	n.UserData = userData
	n.Meta = map[string]string{}
	if n.InstanceInfo == nil {
		n.InstanceInfo = map[string]any{}
	}
	for k, v := range meta {
		n.Meta[k] = v
		switch k {
		case "image_source", "display_name", "root_gb", "project_id":
			n.InstanceInfo[k] = v
		}
	}
	if err := s.transition(tx, &n, "active"); err != nil {
		return services.NodeInfo{}, err
	}
	if err := s.nodes.Put(tx, n.UUID, n); err != nil {
		return services.NodeInfo{}, err
	}
	s.emit(tx, "node", n.UUID, n.Owner, "claimed", "instance "+instanceID)
	return info(&n), nil
}

// Release undeploys the node held by instanceID (active -> deleting -> cleaning -> available);
// the node keeps instance_uuid until its tear-down ends. Releasing an instance that holds no
// node, or whose node is already being torn down, does nothing.
func (s *Service) Release(tx *store.Tx, instanceID string) error {
	n, ok := s.nodeFor(instanceID)
	if !ok {
		return nil
	}
	switch n.ProvisionState {
	case StateDeleting, StateCleaning, StateAvailable, StateManageable, StateEnroll:
		if n.ProvisionState == StateDeleting || n.ProvisionState == StateCleaning {
			return nil
		}
		n.InstanceUUID = "" // never deployed: only the association remains
		n.UserData, n.ConfigDrive, n.Meta = nil, nil, nil
		n.InstanceInfo = map[string]any{}
	case StateDeploying:
		// the deploy is abandoned: tear down what it may have done
		if err := s.begin(tx, &n, StateDeleting, StateAvailable, stepTeardown, s.short()); err != nil {
			return err
		}
	default:
		n.Protected = false
		if err := s.transition(tx, &n, "deleted"); err != nil {
			return err
		}
	}
	if err := s.nodes.Put(tx, n.UUID, n); err != nil {
		return err
	}
	s.emit(tx, "node", n.UUID, n.Owner, "released", "instance "+instanceID)
	return nil
}

// NodeFor returns the node held by instanceID.
func (s *Service) NodeFor(instanceID string) (services.NodeInfo, bool) {
	n, ok := s.nodeFor(instanceID)
	if !ok {
		return services.NodeInfo{}, false
	}
	return info(&n), true
}

func (s *Service) nodeFor(instanceID string) (Node, bool) {
	if instanceID == "" {
		return Node{}, false
	}
	hits := s.nodes.List(func(_ string, n *Node) bool { return n.InstanceUUID == instanceID })
	if len(hits) == 0 {
		return Node{}, false
	}
	return hits[0], true
}
