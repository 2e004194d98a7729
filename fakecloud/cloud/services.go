package cloud

import "github.com/kaas-sandbox/sandbox/fakecloud/services"

// Backends are what make resources real: the memory backend (nothing but timers) or the docker
// backend. A nil field takes the service's memory backend.
type Backends struct{}

// buildServices constructs every service beside Keystone and wires their contracts.
func (c *Cloud) buildServices(env services.Env) error {
	return nil
}

// seedServices creates each service's defaults (flavors, images, the external network,
// bare-metal nodes) when they do not exist yet.
func (c *Cloud) seedServices() error {
	return nil
}
