// Package cloudinit renders the cloud-init user-data (#cloud-config) that joins a worker VM or
// bare-metal host to its hosted control plane: a kubeadm JoinConfiguration that discovers the
// cluster through the control plane's load balancer with a bootstrap token, a kubelet
// configuration patch for cgroup v1 hosts, the user's files, and a runcmd script that sets the
// kubelet's provider ID from the instance metadata, runs kubeadm join and leaves Cluster API's
// sentinel file behind.
//
// Rendering is pure and deterministic: the same Input always gives the same bytes.
package cloudinit
