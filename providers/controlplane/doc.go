// Package controlplane is the hosted control plane provider: the GcoreControlPlane controller
// runs a customer cluster's etcd, kube-apiserver, kube-controller-manager and kube-scheduler as
// pods in the Cluster's namespace of the service cluster, publishes the apiserver through an
// Octavia load balancer (its VIP becomes the controlPlaneEndpoint), keeps the PKI in Cluster
// API's secret conventions, leaves inside the customer cluster what kubeadm init would have left
// for workers to join, installs the CNI, kube-proxy and CoreDNS, and rolls upgrades one
// component at a time (etcd, then apiserver, then controller-manager and scheduler).
package controlplane
