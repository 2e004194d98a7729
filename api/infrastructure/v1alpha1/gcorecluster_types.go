package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// ClusterFinalizer lets the GcoreCluster controller delete the cloud resources it made before
// the object goes away.
const ClusterFinalizer = "gcorecluster.infrastructure.cluster.x-k8s.io"

// IdentityReference names the Secret, in the object's namespace, holding the cloud credentials:
// a clouds.yaml under the key "clouds.yaml" (and optionally a CA bundle under "cacert").
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

// NetworkSpec says how the cluster's private network is made.
type NetworkSpec struct {
	// cidr is the IPv4 range of the cluster's subnet, where the workers get their addresses.
	// With fakecloud's docker backend, networks of different clusters must not overlap.
	// +optional
	// +kubebuilder:default="10.6.0.0/24"
	// +kubebuilder:validation:MaxLength=43
	CIDR string `json:"cidr,omitempty"`

	// dnsNameservers are handed to the workers by DHCP.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	DNSNameservers []string `json:"dnsNameservers,omitempty"`
}

// GcoreClusterSpec is the desired state of a GcoreCluster.
type GcoreClusterSpec struct {
	// identityRef names the Secret with the clouds.yaml used to reach the cloud.
	// +required
	IdentityRef IdentityReference `json:"identityRef"`

	// network is the private network made for the cluster's workers.
	// +optional
	Network NetworkSpec `json:"network,omitempty,omitzero"`

	// externalNetworkID is the external (router:external) network the cluster's router uses as
	// its gateway. Empty means the only external network the project can see.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ExternalNetworkID string `json:"externalNetworkID,omitempty"`

	// controlPlaneEndpoint is the apiserver's address. The hosted control plane publishes it
	// itself, so this stays empty unless set by hand.
	// +optional
	ControlPlaneEndpoint clusterv1.APIEndpoint `json:"controlPlaneEndpoint,omitempty,omitzero"`
}

// SubnetStatus is a subnet the controller made.
type SubnetStatus struct {
	// id is the Neutron subnet ID.
	ID string `json:"id"`
	// cidr is its IPv4 range.
	CIDR string `json:"cidr"`
}

// NetworkStatus is the private network the controller made.
type NetworkStatus struct {
	// id is the Neutron network ID.
	ID string `json:"id"`
	// name is its name.
	Name string `json:"name"`
	// subnet is its IPv4 subnet.
	// +optional
	Subnet *SubnetStatus `json:"subnet,omitempty"`
}

// GcoreClusterInitializationStatus reports the cluster's provisioning as the CAPI contract asks.
// +kubebuilder:validation:MinProperties=1
type GcoreClusterInitializationStatus struct {
	// provisioned is true once the network, subnet, router and security groups exist.
	// +optional
	Provisioned *bool `json:"provisioned,omitempty"`
}

// GcoreClusterStatus is the observed state of a GcoreCluster.
type GcoreClusterStatus struct {
	// conditions: Ready, NetworkReady, RouterReady, SecurityGroupsReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// initialization is the CAPI contract's provisioning report.
	// +optional
	Initialization GcoreClusterInitializationStatus `json:"initialization,omitempty,omitzero"`

	// network is the private network, with its subnet.
	// +optional
	Network *NetworkStatus `json:"network,omitempty"`

	// routerID is the Neutron router joining the subnet to the external network.
	// +optional
	RouterID string `json:"routerID,omitempty"`

	// externalNetworkID is the external network in use.
	// +optional
	ExternalNetworkID string `json:"externalNetworkID,omitempty"`

	// workerSecurityGroupID is the security group every worker port gets.
	// +optional
	WorkerSecurityGroupID string `json:"workerSecurityGroupID,omitempty"`

	// failureDomains are the cloud's availability zones.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	FailureDomains []clusterv1.FailureDomain `json:"failureDomains,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=gcoreclusters,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",description="Cluster"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description="Network, router and security groups exist"
// +kubebuilder:printcolumn:name="Network",type="string",JSONPath=".status.network.id",description="Neutron network"
// +kubebuilder:printcolumn:name="Subnet",type="string",JSONPath=".status.network.subnet.cidr",description="Subnet CIDR"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreCluster is a customer cluster's share of the cloud: its private network and subnet, the
// router to the external network and the workers' security group.
type GcoreCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GcoreClusterSpec   `json:"spec,omitempty"`
	Status GcoreClusterStatus `json:"status,omitempty"`
}

// GetConditions returns the object's conditions.
func (c *GcoreCluster) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the object's conditions.
func (c *GcoreCluster) SetConditions(conditions []metav1.Condition) { c.Status.Conditions = conditions }

// +kubebuilder:object:root=true

// GcoreClusterList is a list of GcoreClusters.
type GcoreClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GcoreCluster{}, &GcoreClusterList{})
}
