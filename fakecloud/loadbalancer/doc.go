// Package loadbalancer is fakecloud's Octavia v2: load balancers, listeners, pools, members,
// health monitors, quotas and providers, served under /load-balancer/v2.0/lbaas/... (and the
// /v2, /v2.0 and un-prefixed aliases Octavia itself serves).
//
// State machine. As in Octavia, every create, update or delete of a load balancer or of any of
// its children locks the whole tree: the load balancer goes PENDING_CREATE, PENDING_UPDATE or
// PENDING_DELETE, the child goes PENDING_*, and any further mutating call on that tree is a 409
// until a task of the engine (after env.Timing.LoadBalancerBuild) has applied the whole
// configuration through the Backend and set everything ACTIVE (children in PENDING_DELETE
// vanish). A permanent backend failure, a task that fails too often, or a stuck fault puts the
// load balancer and its pending children into ERROR; an ERROR load balancer can be deleted, and
// a failover or an update of it re-applies the configuration.
//
// The VIP is a Neutron port allocated through services.Ports with DeviceOwner "Octavia" and
// DeviceID "lb-<id>", released when the load balancer is deleted.
//
// Deviations from Octavia, on purpose: an update (PUT) of a load balancer in ERROR is accepted
// and retries the configuration (Octavia only allows failover); l7policies, flavors and
// availability zones are not served.
package loadbalancer
