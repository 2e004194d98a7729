// Package network is fakecloud's Neutron (network API v2.0): networks, subnets, ports,
// routers, floating IPs, security groups and rules, tags, quotas and the extensions list,
// with OpenStack's status codes and error bodies (StyleNeutron). It also implements
// services.Ports (and compute's optional AutoNetwork), through which Nova and Octavia
// create and bind ports.
//
// State lives in store tables. IP and MAC allocation, and the port indexes used by list
// filters (device_id, name, network_id, device_owner, mac_address, fixed IP), are kept in
// memory (ipam.go): rebuilt from the ports table on start and changed inside the same store
// update as the ports, with tx.OnRollback undoing them when the update fails, so creating a
// port never scans the ports and the common filters never scan them either.
//
// Neutron's API is synchronous: handlers answer from the store at once and enqueue durable
// reconciliation tasks (tasks.go) that bring the Backend in line, retried across restarts.
// The memory backend makes nothing real, so with it no task is enqueued.
//
// Where the real service and the brief differ, this package follows the real Neutron: an
// overlapping subnet is a 400 (InvalidInput), and only DHCP ports are deleted with their
// network (router interfaces make the delete a 409 NetworkInUse).
package network
