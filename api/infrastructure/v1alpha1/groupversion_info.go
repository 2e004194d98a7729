// Package v1alpha1 holds the CAPGC infrastructure API (infrastructure.cluster.x-k8s.io/v1alpha1):
// GcoreCluster (the customer's network, router and security groups), GcoreMachine and
// GcoreMachineTemplate (a Nova server or, with type baremetal, an Ironic node). The types follow
// Cluster API's v1beta2 InfraCluster and InfraMachine contracts.
// +kubebuilder:object:generate=true
// +groupName=infrastructure.cluster.x-k8s.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "infrastructure.cluster.x-k8s.io", Version: "v1alpha1"}

	// SchemeBuilder adds these types to a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds these types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
