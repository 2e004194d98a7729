package cloud

import (
	"context"
	"fmt"

	"github.com/kaas-sandbox/sandbox/fakecloud/baremetal"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// hostPool is a bare-metal backend that keeps a host per enrolled node.
type hostPool interface {
	EnsureHosts(ctx context.Context, nodes []baremetal.NodeSpec) error
}

// storeKinds maps a backend object type to the service and kind of the resource it stands for.
var storeKinds = map[string][2]string{
	"server":       {"compute", "server"},
	"network":      {"network", "network"},
	"router":       {"network", "router"},
	"loadbalancer": {loadbalancer.ServiceName, "loadbalancer"},
	"baremetal":    {"baremetal", "node"},
}

// reconcileWorld brings the backend's real objects back in line with the store, as fakecloud
// starts: objects of resources the store no longer has are removed, servers whose instance
// vanished go to ERROR, and every network, router, floating IP, port and load balancer is
// applied again (which makes missing ones anew). Each action is an event.
func (c *Cloud) reconcileWorld(ctx context.Context, w services.World) {
	log := c.cfg.Log
	objs, err := w.Inventory(ctx)
	if err != nil {
		log.Error("cannot list the backend's objects; not reconciling them", "err", err)
		return
	}
	known := map[[3]string]bool{}
	for _, r := range c.Resources() {
		known[[3]string{r.Service, r.Kind, r.ID}] = true
	}
	have := map[string]bool{} // server ids with a container
	for _, o := range objs {
		sk, ok := storeKinds[o.Type]
		if !ok || o.ID == "" {
			continue
		}
		if o.Type == "server" && o.Kind == "container" {
			have[o.ID] = true
		}
		if known[[3]string{sk[0], sk[1], o.ID}] {
			continue
		}
		if err := w.RemoveObject(ctx, o); err != nil {
			log.Error("removing an orphan", "object", o.Name, "err", err)
			continue
		}
		c.worldEvent(o.Type, o.ID, "orphan-removed", fmt.Sprintf("%s %s belonged to no %s in the store", o.Kind, o.Name, o.Type), "warning")
	}
	for _, id := range c.svc.compute.Instances() {
		if have[id] {
			continue
		}
		reason := "its instance (container) vanished while fakecloud was down; delete the server and create it again"
		if err := c.svc.compute.MarkLost(id, reason); err != nil {
			log.Error("marking a lost server", "server", id, "err", err)
			continue
		}
		c.worldEvent("server", id, "instance-lost", reason, "error")
	}
	if h, ok := c.cfg.Backends.BareMetal.(hostPool); ok {
		if err := h.EnsureHosts(ctx, c.svc.baremetal.NodeSpecs()); err != nil {
			log.Error("creating the bare-metal hosts", "err", err)
		}
	}
	if err := c.svc.network.Resync(); err != nil {
		log.Error("re-applying networks", "err", err)
	}
	go c.svc.loadbalancer.Resync(ctx)
	log.Info("backend reconciled with the store", "objects", len(objs))
}

func (c *Cloud) worldEvent(kind, id, action, detail, severity string) {
	_ = c.DB.Record(store.Event{Service: "backend", Kind: kind, ID: id, Action: action, Detail: detail, Severity: severity})
}
