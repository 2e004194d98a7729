// Package infrastructure is CAPGC, the infrastructure provider: the GcoreCluster controller
// makes a cluster's network, subnet, router and workers' security group; the GcoreMachine
// controller makes each worker's Nova server (on a hypervisor, or on an Ironic node with a
// bare-metal flavor). Both talk to the cloud only through gophercloud, retry every cloud error
// with backoff, and find what they made again by tags after a restart.
package infrastructure
