package services

import "context"

// RealObject is something a backend made real outside fakecloud (a docker container or
// network), named by the OpenStack resource it stands for.
type RealObject struct {
	Type string // "server", "network", "router", "loadbalancer", "baremetal"
	ID   string // the OpenStack id
	Name string // the backend's own name (the docker name)
	Kind string // the backend's kind of object ("container", "network")
}

// DevicePortsUser is implemented by backends that need the ports of a device, such as the
// instance deployed on a bare-metal node; package cloud hands them Neutron's lookup.
type DevicePortsUser interface {
	UseDevicePorts(lookup func(deviceID string) []PortInfo)
}

// World is implemented by backends that make real objects. On start, fakecloud compares
// them with its store: objects of deleted resources are removed, resources whose objects
// vanished are made again or marked ERROR.
type World interface {
	// Inventory lists every object this fakecloud instance made.
	Inventory(ctx context.Context) ([]RealObject, error)
	// RemoveObject removes one object; a missing one is not an error.
	RemoveObject(ctx context.Context, o RealObject) error
}
