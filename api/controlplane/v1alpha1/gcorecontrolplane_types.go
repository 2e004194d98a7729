package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// ControlPlaneFinalizer lets the controller delete the load balancer before the object goes.
const ControlPlaneFinalizer = "gcorecontrolplane.controlplane.cluster.x-k8s.io"

// IdentityReference names the Secret, in the object's namespace, holding the cloud credentials:
// a clouds.yaml under the key "clouds.yaml".
type IdentityReference struct {
	// name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// cloudName is the entry of clouds.yaml to use.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	CloudName string `json:"cloudName"`
}

// EtcdSpec shapes the control plane's etcd.
type EtcdSpec struct {
	// replicas is the number of etcd members: 1 or 3 (odd, for quorum).
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Enum=1;3;5
	Replicas int32 `json:"replicas,omitempty"`

	// storageSize is each member's persistent volume.
	// +optional
	// +kubebuilder:default="1Gi"
	StorageSize resource.Quantity `json:"storageSize,omitempty,omitzero"`

	// storageClassName is the volumes' StorageClass; empty means the service cluster's default.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClassName string `json:"storageClassName,omitempty"`
}

// ComponentResources are the compute resources of each control plane component's container.
type ComponentResources struct {
	// etcd is each etcd member's.
	// +optional
	Etcd corev1.ResourceRequirements `json:"etcd,omitempty,omitzero"`
	// apiServer is each kube-apiserver replica's.
	// +optional
	APIServer corev1.ResourceRequirements `json:"apiServer,omitempty,omitzero"`
	// controllerManager is kube-controller-manager's.
	// +optional
	ControllerManager corev1.ResourceRequirements `json:"controllerManager,omitempty,omitzero"`
	// scheduler is kube-scheduler's.
	// +optional
	Scheduler corev1.ResourceRequirements `json:"scheduler,omitempty,omitzero"`
}

// LoadBalancerSpec says how the apiserver is published.
type LoadBalancerSpec struct {
	// externalNetworkID is the network the load balancer's VIP is on. Empty means the only
	// external network the project can see.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ExternalNetworkID string `json:"externalNetworkID,omitempty"`
}

// GcoreControlPlaneSpec is the desired state of a GcoreControlPlane.
type GcoreControlPlaneSpec struct {
	// version is the Kubernetes version, e.g. v1.37.2. It may move up one minor at a time.
	// +required
	// +kubebuilder:validation:Pattern=`^v\d+\.\d+\.\d+$`
	Version string `json:"version"`

	// replicas is the number of kube-apiserver pods, spread over the service cluster's nodes.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Replicas *int32 `json:"replicas,omitempty"`

	// etcd shapes the etcd cluster.
	// +optional
	Etcd EtcdSpec `json:"etcd,omitempty,omitzero"`

	// resources are the components' requests and limits.
	// +optional
	Resources ComponentResources `json:"resources,omitempty,omitzero"`

	// identityRef names the Secret with the clouds.yaml used to make the load balancer.
	// +required
	IdentityRef IdentityReference `json:"identityRef"`

	// loadBalancer says how the apiserver is published.
	// +optional
	LoadBalancer LoadBalancerSpec `json:"loadBalancer,omitempty,omitzero"`

	// controlPlaneEndpoint is the load balancer's public address; the controller sets it and
	// Cluster API copies it to the Cluster.
	// +optional
	ControlPlaneEndpoint clusterv1.APIEndpoint `json:"controlPlaneEndpoint,omitempty,omitzero"`
}

// GcoreControlPlaneInitializationStatus reports initialization as the CAPI contract asks.
// +kubebuilder:validation:MinProperties=1
type GcoreControlPlaneInitializationStatus struct {
	// controlPlaneInitialized is true once the apiserver answers through the load balancer and
	// the objects workers need to join exist in the cluster.
	// +optional
	ControlPlaneInitialized *bool `json:"controlPlaneInitialized,omitempty"`
}

// VPNStatus is the tunnel's published address.
type VPNStatus struct {
	// loadBalancerID is the Octavia load balancer publishing the tunnel's server.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	LoadBalancerID string `json:"loadBalancerID,omitempty"`

	// address is that load balancer's VIP, which the apiserver pods' clients dial.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Address string `json:"address,omitempty"`
}

// GcoreControlPlaneStatus is the observed state of a GcoreControlPlane.
type GcoreControlPlaneStatus struct {
	// conditions: Ready, Available, EtcdReady, APIServerReady, ControllerManagerReady,
	// SchedulerReady, EndpointReady, AddonsReady, and VPNReady (not part of Ready).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// initialization is the CAPI contract's initialization report.
	// +optional
	Initialization GcoreControlPlaneInitializationStatus `json:"initialization,omitempty,omitzero"`

	// version is the oldest version any apiserver pod runs.
	// +optional
	Version string `json:"version,omitempty"`

	// replicas is the number of apiserver pods.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of apiserver pods that are ready.
	// +optional
	ReadyReplicas *int32 `json:"readyReplicas,omitempty"`

	// availableReplicas is the number of apiserver pods available.
	// +optional
	AvailableReplicas *int32 `json:"availableReplicas,omitempty"`

	// upToDateReplicas is the number of apiserver pods running the desired version.
	// +optional
	UpToDateReplicas *int32 `json:"upToDateReplicas,omitempty"`

	// etcdReadyReplicas is the number of etcd members that are ready.
	// +optional
	EtcdReadyReplicas *int32 `json:"etcdReadyReplicas,omitempty"`

	// selector selects the apiserver pods (for the scale subresource).
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Selector string `json:"selector,omitempty"`

	// externalManagedControlPlane is always true: the control plane has no Machines, which
	// tells Cluster API (as for AKS, EKS, GKE) that worker Nodes may be deleted with their
	// Machines although no control plane Machine exists.
	// +optional
	ExternalManagedControlPlane *bool `json:"externalManagedControlPlane,omitempty"`

	// loadBalancerID is the Octavia load balancer publishing the apiserver.
	// +optional
	LoadBalancerID string `json:"loadBalancerID,omitempty"`

	// vpn is the reverse tunnel from the apiserver pods into the customer cluster.
	// +optional
	VPN VPNStatus `json:"vpn,omitempty,omitzero"`

	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:path=gcorecontrolplanes,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",description="Cluster"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Initialized",type="boolean",JSONPath=".status.initialization.controlPlaneInitialized"
// +kubebuilder:printcolumn:name="Version",type="string",JSONPath=".spec.version",description="Desired Kubernetes version"
// +kubebuilder:printcolumn:name="Replicas",type="integer",JSONPath=".status.replicas",description="apiserver pods"
// +kubebuilder:printcolumn:name="Updated",type="integer",JSONPath=".status.upToDateReplicas",description="apiserver pods at the desired version"
// +kubebuilder:printcolumn:name="Endpoint",type="string",JSONPath=".spec.controlPlaneEndpoint.host"
// +kubebuilder:printcolumn:name="VPN",type="string",JSONPath=".status.conditions[?(@.type==\"VPNReady\")].status",description="The tunnel into the customer cluster works"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreControlPlane is a customer cluster's hosted control plane: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as pods in the Cluster's namespace of the service
// cluster, the apiserver published through a cloud load balancer.
type GcoreControlPlane struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GcoreControlPlaneSpec   `json:"spec,omitempty"`
	Status GcoreControlPlaneStatus `json:"status,omitempty"`
}

// GetConditions returns the object's conditions.
func (c *GcoreControlPlane) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the object's conditions.
func (c *GcoreControlPlane) SetConditions(conditions []metav1.Condition) {
	c.Status.Conditions = conditions
}

// +kubebuilder:object:root=true

// GcoreControlPlaneList is a list of GcoreControlPlanes.
type GcoreControlPlaneList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreControlPlane `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GcoreControlPlane{}, &GcoreControlPlaneList{})
}
