// Package v1alpha1 holds the hosted control plane API (controlplane.cluster.x-k8s.io/v1alpha1):
// GcoreControlPlane runs a customer cluster's etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler as pods in the service cluster and publishes the apiserver through a cloud
// load balancer. The type follows Cluster API's v1beta2 ControlPlane contract.
// +kubebuilder:object:generate=true
// +groupName=controlplane.cluster.x-k8s.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "controlplane.cluster.x-k8s.io", Version: "v1alpha1"}

	// SchemeBuilder adds these types to a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds these types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
