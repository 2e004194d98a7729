// Package compute is fakecloud's Nova (compute API v2.1 with microversions 2.1 to 2.96):
// servers and their actions, metadata, addresses and tags; flavors with access lists and
// extra specs; key pairs; server groups; availability zones; hypervisors; quotas and limits.
//
// Servers are built by the durable task engine: a create stores the server in BUILD and, in
// the same update, a build task that calls the Backend after env.Timing.ServerBuild and sets
// ACTIVE (or ERROR with a fault). Ports come from Neutron through services.Ports, images from
// Glance through services.Images, and a flavor with an extra spec "resources:CUSTOM_<CLASS>"
// lands the server on an Ironic node through services.BareMetal. The scheduler simulates
// Config.Hypervisors hypervisors per availability zone, so that server groups' affinity and
// anti-affinity policies are honoured, or refused with "No valid host was found".
package compute
