package baremetal

import "context"

// NodeSpec is what a backend needs to know about a node to make it real.
type NodeSpec struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	ResourceClass string            `json:"resource_class"`
	InstanceUUID  string            `json:"instance_uuid"`
	Properties    map[string]any    `json:"properties"`
	InstanceInfo  map[string]any    `json:"instance_info"`
	MACs          []string          `json:"macs"` // the addresses of the node's ports
	Meta          map[string]string `json:"meta"` // what Nova passed to Claim (project_id, image_source...)
}

// Backend makes bare-metal nodes real. Every method must be idempotent: a task calling it runs
// again if fakecloud died before recording the result. Wrap an error with services.Permanent
// when retrying cannot help: the node then goes to its failure state at once.
type Backend interface {
	// Deploy provisions the node with its image and runs userData (cloud-init) on it; when it
	// returns nil the node is active and powered on.
	Deploy(ctx context.Context, node NodeSpec, userData []byte) error
	// Clean wipes the node (after an undeploy, or when it is provided): nothing of the last
	// instance may remain.
	Clean(ctx context.Context, node NodeSpec) error
	// SetPower powers the node on or off.
	SetPower(ctx context.Context, id string, on bool) error
}

// MemoryBackend is the backend of the memory cloud: nodes exist only as state, and every
// transition takes the simulated time of env.Timing.
type MemoryBackend struct{}

var _ Backend = MemoryBackend{}

// Deploy does nothing.
func (MemoryBackend) Deploy(context.Context, NodeSpec, []byte) error { return nil }

// Clean does nothing.
func (MemoryBackend) Clean(context.Context, NodeSpec) error { return nil }

// SetPower does nothing.
func (MemoryBackend) SetPower(context.Context, string, bool) error { return nil }
