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
	// VPNReadyCondition is True when every ready apiserver pod reaches a kubelet of the
	// customer cluster through the tunnel. It is not part of Ready: a control plane serves
	// before the cluster has a worker to run the tunnel's server on.
	VPNReadyCondition = "VPNReady"
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
	// WaitingForNodesReason: the customer cluster has no Ready Node to run the tunnel's server on.
	WaitingForNodesReason = "WaitingForNodes"
	// TunnelDownReason: the tunnel's server or load balancer is not ready, or an apiserver pod
	// does not reach a kubelet through it; the message says which.
	TunnelDownReason = "TunnelDown"
	// NetworkOverlapReason: a customer network overlaps a network of the service side, so the
	// tunnel cannot route it; the message names both ranges.
	NetworkOverlapReason = "NetworkOverlap"
)
