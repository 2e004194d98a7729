package v1alpha1

// Condition types and reasons of GcoreCluster and GcoreMachine ("Ready" is Cluster API's).
const (
	// ReadyCondition summarises the object: True once everything below is.
	ReadyCondition = "Ready"

	// NetworkReadyCondition is True once the private network and its subnet exist.
	NetworkReadyCondition = "NetworkReady"
	// RouterReadyCondition is True once the router joins the subnet to the external network.
	RouterReadyCondition = "RouterReady"
	// SecurityGroupsReadyCondition is True once the workers' security group and rules exist.
	SecurityGroupsReadyCondition = "SecurityGroupsReady"

	// InstanceReadyCondition is True once the server is ACTIVE.
	InstanceReadyCondition = "InstanceReady"
)

// Condition reasons.
const (
	// ReadyReason: the condition holds.
	ReadyReason = "Ready"
	// CreatingReason: the resource is being made.
	CreatingReason = "Creating"
	// CloudErrorReason: a call to the cloud failed; the message names it, and it is retried.
	CloudErrorReason = "CloudError"
	// InvalidSpecReason: the spec names something the cloud does not have; fix the spec.
	InvalidSpecReason = "InvalidSpec"
	// WaitingForClusterReason: the cluster's infrastructure is not provisioned yet.
	WaitingForClusterReason = "WaitingForCluster"
	// WaitingForBootstrapDataReason: the bootstrap provider has not written the user-data yet.
	WaitingForBootstrapDataReason = "WaitingForBootstrapData"
	// InstanceBuildingReason: the server is in BUILD.
	InstanceBuildingReason = "InstanceBuilding"
	// InstanceErrorReason: the server is in ERROR; the controller deletes and recreates it.
	InstanceErrorReason = "InstanceError"
	// InstanceStoppedReason: the server is SHUTOFF; the controller starts it.
	InstanceStoppedReason = "InstanceStopped"
	// InstanceDeletedReason: the server disappeared from the cloud.
	InstanceDeletedReason = "InstanceDeleted"
	// DeletingReason: the resources are being deleted.
	DeletingReason = "Deleting"
)
