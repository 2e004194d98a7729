package v1alpha1

// Condition types of GcoreControlPlane ("Ready" and "Available" are Cluster API's).
const (
	// ReadyCondition is True when every component below is.
	ReadyCondition = "Ready"
	// AvailableCondition is True when the apiserver answers through the load balancer.
	AvailableCondition = "Available"
	// CertificatesReadyCondition is True once the cluster's PKI secrets exist.
	CertificatesReadyCondition = "CertificatesReady"
	// EtcdReadyCondition is True when every etcd member is ready.
	EtcdReadyCondition = "EtcdReady"
	// APIServerReadyCondition is True when every apiserver pod is ready.
	APIServerReadyCondition = "APIServerReady"
	// ControllerManagerReadyCondition is True when kube-controller-manager is ready.
	ControllerManagerReadyCondition = "ControllerManagerReady"
	// SchedulerReadyCondition is True when kube-scheduler is ready.
	SchedulerReadyCondition = "SchedulerReady"
	// EndpointReadyCondition is True when the load balancer publishes the apiserver.
	EndpointReadyCondition = "EndpointReady"
	// AddonsReadyCondition is True once the join objects, CNI, kube-proxy and CoreDNS are
	// applied in the customer cluster.
	AddonsReadyCondition = "AddonsReady"
)

// Condition reasons.
const (
	// ReadyReason: the condition holds.
	ReadyReason = "Ready"
	// ProvisioningReason: being made, nothing wrong yet.
	ProvisioningReason = "Provisioning"
	// ScalingReason: fewer pods ready than asked for.
	ScalingReason = "Scaling"
	// UpgradingReason: pods are rolling to a new version.
	UpgradingReason = "Upgrading"
	// CloudErrorReason: a call to the cloud failed; the message names it, and it is retried.
	CloudErrorReason = "CloudError"
	// WaitingForClusterReason: the Cluster or its infrastructure is not ready yet.
	WaitingForClusterReason = "WaitingForCluster"
	// WaitingForAPIServerReason: the apiserver does not answer yet.
	WaitingForAPIServerReason = "WaitingForAPIServer"
	// DeletingReason: the control plane is being deleted.
	DeletingReason = "Deleting"
)
