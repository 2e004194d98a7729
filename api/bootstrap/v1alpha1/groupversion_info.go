// Package v1alpha1 holds the bootstrap API (bootstrap.cluster.x-k8s.io/v1alpha1): GcoreConfig
// and GcoreConfigTemplate make the cloud-init user-data that joins a worker to its hosted
// control plane through the load balancer. The types follow Cluster API's v1beta2
// BootstrapConfig contract.
// +kubebuilder:object:generate=true
// +groupName=bootstrap.cluster.x-k8s.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "bootstrap.cluster.x-k8s.io", Version: "v1alpha1"}

	// SchemeBuilder adds these types to a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds these types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
