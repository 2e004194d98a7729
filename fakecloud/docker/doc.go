// Package docker is fakecloud's docker backend: it makes the resources of the OpenStack API
// real on this machine, with the topology of a production region.
//
//   - A Neutron network is a docker bridge network of its own, internal (no route to the host
//     or to other docker networks) and without an address on the host side; the external
//     network is the docker network "public", the sandbox's Internet, with the host as its
//     gateway.
//   - A router is a small container with a leg on each of its subnets (holding the subnet's
//     gateway address) and one on "public"; it SNATs the private side and DNATs floating IPs.
//   - A Nova server is a container from the node image its Glance image names, booted with
//     systemd, whose user-data runs with the real cloud-init of the image (a NoCloud seed).
//   - Security group ingress rules are enforced at each server's port, before any NAT inside.
//   - An Octavia load balancer is an HAProxy container (Octavia's own amphora).
//   - Bare-metal hosts are a pool of bigger, labelled containers deployed and cleaned by Ironic.
//
// Every container and network carries labels naming the fakecloud instance, the project, the
// resource type and its OpenStack id (see Labels), so `docker ps` tells what is what and Down
// removes all of it. Each Neutron subnet keeps a small block of its highest addresses for the
// backend (see ReservedBlock): Neutron never hands them out.
package docker
