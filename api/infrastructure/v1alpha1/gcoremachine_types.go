package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// MachineFinalizer lets the GcoreMachine controller delete the server before the object goes.
const MachineFinalizer = "gcoremachine.infrastructure.cluster.x-k8s.io"

// MachineType says what kind of host backs a machine.
// +kubebuilder:validation:Enum=vm;baremetal
type MachineType string

const (
	// MachineTypeVM is a Nova server on a hypervisor.
	MachineTypeVM MachineType = "vm"
	// MachineTypeBareMetal is a Nova server on an Ironic node (a bare-metal flavor).
	MachineTypeBareMetal MachineType = "baremetal"
)

// ImageSpec picks the Glance image. Exactly one of name and kubeVersion may be set; with
// neither, the image whose kube_version property equals the Machine's version is used.
// +kubebuilder:validation:XValidation:rule="!(has(self.name) && has(self.kubeVersion))",message="set image.name or image.kubeVersion, not both"
type ImageSpec struct {
	// name is the image's name in Glance.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name string `json:"name,omitempty"`

	// kubeVersion picks the image whose kube_version property has this value, e.g. v1.37.2.
	// +optional
	// +kubebuilder:validation:Pattern=`^v\d+\.\d+\.\d+$`
	KubeVersion string `json:"kubeVersion,omitempty"`
}

// GcoreMachineSpec is the desired state of a GcoreMachine.
type GcoreMachineSpec struct {
	// providerID is openstack:///<server-uuid>, set by the controller once the server exists.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	ProviderID string `json:"providerID,omitempty"`

	// type is vm (a Nova server) or baremetal (a Nova server on an Ironic node, which needs a
	// bare-metal flavor).
	// +optional
	// +kubebuilder:default=vm
	Type MachineType `json:"type,omitempty"`

	// flavor is the Nova flavor's name, e.g. g1.medium or bm1.medium.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Flavor string `json:"flavor"`

	// image picks the Glance image.
	// +optional
	Image ImageSpec `json:"image,omitempty,omitzero"`

	// serverGroupID puts the server into this Nova server group (anti-affinity, for instance).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ServerGroupID string `json:"serverGroupID,omitempty"`

	// sshKeyName is a Nova key pair to inject.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	SSHKeyName string `json:"sshKeyName,omitempty"`
}

// GcoreMachineInitializationStatus reports provisioning as the CAPI contract asks.
// +kubebuilder:validation:MinProperties=1
type GcoreMachineInitializationStatus struct {
	// provisioned is true once the server is ACTIVE with an address.
	// +optional
	Provisioned *bool `json:"provisioned,omitempty"`
}

// GcoreMachineStatus is the observed state of a GcoreMachine.
type GcoreMachineStatus struct {
	// conditions: Ready, InstanceReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// initialization is the CAPI contract's provisioning report.
	// +optional
	Initialization GcoreMachineInitializationStatus `json:"initialization,omitempty,omitzero"`

	// instanceID is the Nova server's UUID.
	// +optional
	InstanceID string `json:"instanceID,omitempty"`

	// instanceState is the server's Nova status (BUILD, ACTIVE, ERROR...).
	// +optional
	InstanceState string `json:"instanceState,omitempty"`

	// portID is the Neutron port on the cluster's subnet.
	// +optional
	PortID string `json:"portID,omitempty"`

	// addresses are the server's addresses.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Addresses []clusterv1.MachineAddress `json:"addresses,omitempty"`

	// failureDomain is the availability zone the server landed in.
	// +optional
	FailureDomain string `json:"failureDomain,omitempty"`

	// lastFailedServer is the last server that went to ERROR before the machine was
	// provisioned; it was deleted, and its replacement is made no sooner than a few seconds
	// after the failure (the failure stays visible, a failing cloud is not hammered).
	// +optional
	LastFailedServer *FailedServer `json:"lastFailedServer,omitempty"`
}

// FailedServer records a server that failed to build and was replaced.
type FailedServer struct {
	// id is the failed server's UUID.
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`

	// fault is Nova's fault message for it, when it gave one.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Fault string `json:"fault,omitempty"`

	// failedAt is when the controller found it in ERROR.
	FailedAt metav1.Time `json:"failedAt"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=gcoremachines,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",description="Cluster"
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="State",type="string",JSONPath=".status.instanceState",description="Nova status"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="ProviderID",type="string",JSONPath=".spec.providerID"
// +kubebuilder:printcolumn:name="Machine",type="string",JSONPath=".metadata.ownerReferences[?(@.kind==\"Machine\")].name"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreMachine is one worker: a Nova server, or a bare-metal server through Nova and Ironic.
type GcoreMachine struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GcoreMachineSpec   `json:"spec,omitempty"`
	Status GcoreMachineStatus `json:"status,omitempty"`
}

// GetConditions returns the object's conditions.
func (m *GcoreMachine) GetConditions() []metav1.Condition { return m.Status.Conditions }

// SetConditions replaces the object's conditions.
func (m *GcoreMachine) SetConditions(conditions []metav1.Condition) { m.Status.Conditions = conditions }

// +kubebuilder:object:root=true

// GcoreMachineList is a list of GcoreMachines.
type GcoreMachineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreMachine `json:"items"`
}

// GcoreMachineTemplateResource is the part of a template copied into each GcoreMachine.
type GcoreMachineTemplateResource struct {
	// metadata is copied onto each machine made from the template.
	// +optional
	ObjectMeta clusterv1.ObjectMeta `json:"metadata,omitempty,omitzero"`

	// spec is the machines' spec.
	// +required
	Spec GcoreMachineSpec `json:"spec"`
}

// GcoreMachineTemplateSpec is the desired state of a GcoreMachineTemplate.
type GcoreMachineTemplateSpec struct {
	// template is what each GcoreMachine is made of.
	// +required
	Template GcoreMachineTemplateResource `json:"template"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=gcoremachinetemplates,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.template.spec.type"
// +kubebuilder:printcolumn:name="Flavor",type="string",JSONPath=".spec.template.spec.flavor"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreMachineTemplate is the template a MachineDeployment makes GcoreMachines from.
type GcoreMachineTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GcoreMachineTemplateSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// GcoreMachineTemplateList is a list of GcoreMachineTemplates.
type GcoreMachineTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreMachineTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GcoreMachine{}, &GcoreMachineList{}, &GcoreMachineTemplate{}, &GcoreMachineTemplateList{})
}
