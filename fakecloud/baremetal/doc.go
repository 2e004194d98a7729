// Package baremetal is fakecloud's Ironic: the Bare Metal API v1 served under /baremetal.
//
// It keeps nodes with their provision state machine (enroll -> verifying -> manageable ->
// cleaning -> available -> deploying -> active -> deleting -> cleaning -> available, with
// deploy failed, clean failed, inspect failed and error on failures), power states,
// maintenance mode, ports (NICs by MAC address) and a small set of drivers, and negotiates
// microversions the way Ironic does (X-OpenStack-Ironic-API-Version, 406 outside the range).
//
// Asynchronous transitions are tasks of the durable task engine: they call the Backend (what
// makes a node real: the memory backend does nothing, the docker backend runs a host
// container) after env.Timing.NodeDeploy / NodeClean. Nova lands bare-metal servers on nodes
// through the services.BareMetal contract, which Service implements with Claim, Release and
// NodeFor.
//
// Resource classes: a node's resource_class (e.g. "baremetal.medium") is offered to Nova as
// the Placement custom resource class CustomResourceClass(rc) ("CUSTOM_BAREMETAL_MEDIUM": the
// name upper-cased, every character outside A-Z and 0-9 replaced by "_", prefixed with
// CUSTOM_), so a bare-metal flavor asks for resources:CUSTOM_BAREMETAL_MEDIUM=1. Claim accepts
// either spelling.
package baremetal
