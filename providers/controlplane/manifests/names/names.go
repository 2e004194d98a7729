// Package names holds the names of the objects a hosted control plane is made of in the
// service cluster, and the DNS names they answer on. Both the manifests (which create the
// objects) and the PKI (whose certificates must carry those DNS names) take them from here.
package names

import (
	"fmt"
	"strings"
)

// MaxEtcdMembers is the largest etcd cluster the API allows. The etcd certificates name every
// member up to it, so resizing the cluster does not reissue them.
const MaxEtcdMembers = 5

// Ports the components listen on.
const (
	// APIServerPort is kube-apiserver's secure port, in the pods and on its Service.
	APIServerPort = 6443
	// EtcdClientPort is etcd's client port.
	EtcdClientPort = 2379
	// EtcdPeerPort is etcd's peer port.
	EtcdPeerPort = 2380
	// EtcdMetricsPort is etcd's plain-HTTP metrics and health port.
	EtcdMetricsPort = 2381
	// ControllerManagerPort is kube-controller-manager's secure (health) port.
	ControllerManagerPort = 10257
	// SchedulerPort is kube-scheduler's secure (health) port.
	SchedulerPort = 10259
)

// Etcd names the etcd StatefulSet and its headless Service.
func Etcd(cluster string) string { return cluster + "-etcd" }

// EtcdClient names the Service kube-apiserver reaches etcd through.
func EtcdClient(cluster string) string { return cluster + "-etcd-client" }

// EtcdMember names the pod of etcd member i (the StatefulSet's ordinal).
func EtcdMember(cluster string, i int) string { return fmt.Sprintf("%s-%d", Etcd(cluster), i) }

// EtcdMemberHost is the stable DNS name of etcd member i: <cluster>-etcd-<i>.<cluster>-etcd.<ns>.svc.
func EtcdMemberHost(cluster, namespace string, i int) string {
	return EtcdMember(cluster, i) + "." + ServiceHost(Etcd(cluster), namespace)
}

// APIServer names the kube-apiserver Deployment and its NodePort Service.
func APIServer(cluster string) string { return cluster + "-apiserver" }

// ControllerManager names the kube-controller-manager Deployment.
func ControllerManager(cluster string) string { return cluster + "-controller-manager" }

// Scheduler names the kube-scheduler Deployment.
func Scheduler(cluster string) string { return cluster + "-scheduler" }

// ServiceHost is the in-cluster DNS name of a Service: <service>.<ns>.svc.
func ServiceHost(service, namespace string) string {
	return service + "." + namespace + ".svc"
}

// ServiceDNSNames lists the names a Service answers on from inside its namespace and from
// elsewhere in the service cluster: <service>, <service>.<ns>, <service>.<ns>.svc.
func ServiceDNSNames(service, namespace string) []string {
	return []string{service, service + "." + namespace, ServiceHost(service, namespace)}
}

// APIServerURL is the address controller-manager and scheduler reach the apiserver on:
// https://<cluster>-apiserver.<ns>.svc:6443.
func APIServerURL(cluster, namespace string) string {
	return fmt.Sprintf("https://%s:%d", ServiceHost(APIServer(cluster), namespace), APIServerPort)
}

// EtcdClientURL is the address kube-apiserver reaches etcd on:
// https://<cluster>-etcd-client.<ns>.svc:2379.
func EtcdClientURL(cluster, namespace string) string {
	return fmt.Sprintf("https://%s:%d", ServiceHost(EtcdClient(cluster), namespace), EtcdClientPort)
}

// EtcdInitialCluster is etcd's --initial-cluster for a cluster of the given size:
// <member>=https://<member host>:2380, comma-separated.
func EtcdInitialCluster(cluster, namespace string, members int) string {
	parts := make([]string, 0, members)
	for i := range members {
		parts = append(parts, fmt.Sprintf("%s=https://%s:%d", EtcdMember(cluster, i), EtcdMemberHost(cluster, namespace, i), EtcdPeerPort))
	}
	return strings.Join(parts, ",")
}
