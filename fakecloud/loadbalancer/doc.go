// Package loadbalancer is fakecloud's Octavia v2: load balancers, listeners, pools, members,
// health monitors, quotas and providers, served under /load-balancer/v2.0/lbaas/... (and the
// /v2/lbaas, /v2.0 and /v2 aliases Octavia itself serves), with the version document at
// /load-balancer/.
//
// # State machine
//
// As in Octavia, every create, update or delete of a load balancer or of any of its children
// locks the whole tree: the load balancer goes PENDING_CREATE, PENDING_UPDATE or
// PENDING_DELETE, the child goes PENDING_*, and any further mutating call on that tree is a 409
// ("Invalid state PENDING_UPDATE of loadbalancer resource <id>" for the load balancer itself,
// "Load Balancer <id> is immutable and cannot be updated." for a child) until the task of the
// load balancer has run. That task (kinds loadbalancer.create, loadbalancer.update and
// loadbalancer.delete, after env.Timing.LoadBalancerBuild) hands the whole configuration to the
// Backend and then, in one store update, sets everything ACTIVE with operating statuses from
// the backend's member health; children in PENDING_DELETE vanish. A permanent backend error, a
// task that fails too often or a stuck fault puts the load balancer and its pending children
// into ERROR. An ERROR load balancer can be deleted; a failover or an update of it re-applies
// the configuration.
//
// # VIP
//
// The VIP is a Neutron port allocated through services.Ports.AttachPort (DeviceOwner
// "Octavia", DeviceID "lb-<id>", name "octavia-lb-<id>") in the update that creates the load
// balancer, and released with DetachPorts when it is deleted (a port the user gave with
// vip_port_id is unbound, not deleted).
//
// # Quotas
//
// Per-project limits come from PUT /quotas/{project} over Config.Quotas (Octavia's default:
// unlimited), lowered by env.Quotas fault limits on the resources "loadbalancer", "listener",
// "pool", "member" and "healthmonitor". Exceeding one is a 403 "Quota has been met for
// resources: Load Balancer".
//
// # Isolation
//
// Another project's object is a 403 "Policy does not allow this request to be performed.", as
// Octavia's policy check answers (where Nova and Neutron answer 404); lists show the caller's
// project only, and an admin's every project or the one asked with project_id.
//
// # Deviations from Octavia, on purpose
//
// An update (PUT) of a load balancer in ERROR is accepted and retries the configuration
// (Octavia only allows failover). L7 policies, flavors and availability zones are served as
// empty collections.
package loadbalancer
