package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// File is a file cloud-init writes before the node joins.
type File struct {
	// path is the file's absolute path.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^/`
	Path string `json:"path"`

	// content is the file's text.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	Content string `json:"content,omitempty"`

	// permissions in octal, e.g. "0644".
	// +optional
	// +kubebuilder:validation:Pattern=`^0?[0-7]{3}$`
	Permissions string `json:"permissions,omitempty"`

	// owner as user:group, e.g. root:root.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Owner string `json:"owner,omitempty"`
}

// GcoreConfigSpec is the desired state of a GcoreConfig: how the node joins.
type GcoreConfigSpec struct {
	// nodeLabels are put on the Node by its kubelet (labels kubelets may not set themselves,
	// such as node-role.kubernetes.io/*, are refused). Bare-metal machines get
	// node.kaas.sandbox/type=baremetal on top, virtual ones node.kaas.sandbox/type=vm.
	// +optional
	NodeLabels map[string]string `json:"nodeLabels,omitempty"`

	// nodeTaints are registered with the Node.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	NodeTaints []corev1.Taint `json:"nodeTaints,omitempty"`

	// kubeletExtraArgs are extra kubelet flags, without the leading "--".
	// +optional
	KubeletExtraArgs map[string]string `json:"kubeletExtraArgs,omitempty"`

	// files are written before the node joins.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Files []File `json:"files,omitempty"`

	// preJoinCommands run (as shell commands) before kubeadm join.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	PreJoinCommands []string `json:"preJoinCommands,omitempty"`

	// postJoinCommands run after kubeadm join.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	PostJoinCommands []string `json:"postJoinCommands,omitempty"`
}

// GcoreConfigInitializationStatus reports initialization as the CAPI contract asks.
// +kubebuilder:validation:MinProperties=1
type GcoreConfigInitializationStatus struct {
	// dataSecretCreated is true once the bootstrap data secret exists.
	// +optional
	DataSecretCreated *bool `json:"dataSecretCreated,omitempty"`
}

// GcoreConfigStatus is the observed state of a GcoreConfig.
type GcoreConfigStatus struct {
	// conditions: Ready, DataSecretAvailable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// initialization is the CAPI contract's initialization report.
	// +optional
	Initialization GcoreConfigInitializationStatus `json:"initialization,omitempty,omitzero"`

	// dataSecretName names the Secret holding the cloud-init user-data (key "value").
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DataSecretName *string `json:"dataSecretName,omitempty"`

	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=gcoreconfigs,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",description="Cluster"
// +kubebuilder:printcolumn:name="Data secret",type="boolean",JSONPath=".status.initialization.dataSecretCreated"
// +kubebuilder:printcolumn:name="Machine",type="string",JSONPath=".metadata.ownerReferences[?(@.kind==\"Machine\")].name"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreConfig makes one worker's cloud-init user-data: kubeadm join through the control
// plane's load balancer with a bootstrap token, the kubelet's provider ID read from the
// instance metadata.
type GcoreConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GcoreConfigSpec   `json:"spec,omitempty"`
	Status GcoreConfigStatus `json:"status,omitempty"`
}

// GetConditions returns the object's conditions.
func (c *GcoreConfig) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the object's conditions.
func (c *GcoreConfig) SetConditions(conditions []metav1.Condition) { c.Status.Conditions = conditions }

// +kubebuilder:object:root=true

// GcoreConfigList is a list of GcoreConfigs.
type GcoreConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreConfig `json:"items"`
}

// GcoreConfigTemplateResource is the part of a template copied into each GcoreConfig.
type GcoreConfigTemplateResource struct {
	// metadata is copied onto each config made from the template.
	// +optional
	ObjectMeta clusterv1.ObjectMeta `json:"metadata,omitempty,omitzero"`

	// spec is the configs' spec.
	// +optional
	Spec GcoreConfigSpec `json:"spec,omitempty"`
}

// GcoreConfigTemplateSpec is the desired state of a GcoreConfigTemplate.
type GcoreConfigTemplateSpec struct {
	// template is what each GcoreConfig is made of.
	// +required
	Template GcoreConfigTemplateResource `json:"template"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:path=gcoreconfigtemplates,scope=Namespaced,categories=cluster-api
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GcoreConfigTemplate is the template a MachineDeployment makes GcoreConfigs from.
type GcoreConfigTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GcoreConfigTemplateSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// GcoreConfigTemplateList is a list of GcoreConfigTemplates.
type GcoreConfigTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GcoreConfigTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GcoreConfig{}, &GcoreConfigList{}, &GcoreConfigTemplate{}, &GcoreConfigTemplateList{})
}
