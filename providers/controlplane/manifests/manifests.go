// Package manifests builds the service-cluster objects of a hosted control plane: etcd as a
// StatefulSet with its Services, kube-apiserver as a Deployment behind a NodePort Service, and
// kube-controller-manager and kube-scheduler as Deployments, all in the Cluster's namespace.
//
// Build returns typed objects with TypeMeta set, ready for server-side apply. It reads nothing
// and writes nothing: the certificates come from a pki.Result, whose hashes go into a
// pod-template annotation so that reissued certificates roll the pods that mount them.
package manifests

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels and annotations on the objects.
const (
	// ComponentLabel says which control plane component an object belongs to.
	ComponentLabel = "app.kubernetes.io/component"
	// ManagedByLabel marks the objects as this provider's.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is ManagedByLabel's value.
	ManagedBy = "gcore-controlplane"
	// ConfigHashAnnotation, on pod templates, hashes the Secrets the pods mount.
	ConfigHashAnnotation = "controlplane.cluster.x-k8s.io/gcore-config-hash"
)

// Component is one part of the control plane.
type Component string

// The components, as ComponentLabel values.
const (
	// Etcd is the etcd cluster.
	Etcd Component = "etcd"
	// APIServer is kube-apiserver.
	APIServer Component = "apiserver"
	// ControllerManager is kube-controller-manager.
	ControllerManager Component = "controller-manager"
	// Scheduler is kube-scheduler.
	Scheduler Component = "scheduler"
)

// SelectorLabels are the stable labels selecting a component's pods of a cluster; the
// workloads' selectors are exactly these, so they can be used to list the pods or to fill
// a scale subresource's selector.
func SelectorLabels(cluster string, c Component) map[string]string {
	return map[string]string{clusterv1.ClusterNameLabel: cluster, ComponentLabel: string(c)}
}

// Labels are every label a component's objects and pods carry.
func Labels(cluster string, c Component) map[string]string {
	l := SelectorLabels(cluster, c)
	l[ManagedByLabel] = ManagedBy
	return l
}

// Objects are a control plane's objects in the service cluster. Names come from package names.
type Objects struct {
	// EtcdService is the headless Service giving etcd members their stable DNS names.
	EtcdService *corev1.Service
	// EtcdClientService is the ClusterIP Service kube-apiserver reaches etcd through.
	EtcdClientService *corev1.Service
	// Etcd is the etcd StatefulSet.
	Etcd *appsv1.StatefulSet
	// APIServerService is the NodePort Service the load balancer's members serve.
	APIServerService *corev1.Service
	// APIServer is the kube-apiserver Deployment.
	APIServer *appsv1.Deployment
	// ControllerManager is the kube-controller-manager Deployment.
	ControllerManager *appsv1.Deployment
	// Scheduler is the kube-scheduler Deployment.
	Scheduler *appsv1.Deployment
}

// All lists the objects in the order they are best applied: etcd first, then the apiserver,
// then its clients.
func (o *Objects) All() []client.Object {
	return []client.Object{o.EtcdService, o.EtcdClientService, o.Etcd, o.APIServerService, o.APIServer, o.ControllerManager, o.Scheduler}
}

// Build returns the objects of the control plane p describes, or an error naming what is
// wrong with p.
func Build(p Params) (*Objects, error) {
	v, err := p.complete()
	if err != nil {
		return nil, err
	}
	o := &Objects{
		EtcdService:       etcdHeadlessService(v),
		EtcdClientService: etcdClientService(v),
		APIServerService:  apiServerService(v),
	}
	if o.Etcd, err = etcdStatefulSet(v); err != nil {
		return nil, err
	}
	if o.APIServer, err = apiServerDeployment(v); err != nil {
		return nil, err
	}
	if o.ControllerManager, err = controllerManagerDeployment(v); err != nil {
		return nil, err
	}
	if o.Scheduler, err = schedulerDeployment(v); err != nil {
		return nil, err
	}
	return o, nil
}
