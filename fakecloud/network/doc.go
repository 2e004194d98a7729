// Package network is fakecloud's Neutron (network API v2.0): networks, subnets, ports,
// routers, floating IPs, security groups and rules, tags, quotas and the extensions list,
// with OpenStack's status codes and error bodies (StyleNeutron). It also implements
// services.Ports, through which Nova and Octavia create and bind ports.
//
// State lives in store tables; IP and MAC allocation use an in-memory index (ipam.go) kept
// in step with the ports table inside each update, so creating a port never scans the
// ports. The Neutron API is synchronous: handlers answer from the store at once, and
// enqueue durable reconciliation tasks (tasks.go) that bring the Backend in line.
package network
