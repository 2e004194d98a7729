package v1alpha1

// Condition types of GcoreConfig ("Ready" is Cluster API's).
const (
	// ReadyCondition is True once the bootstrap data secret exists.
	ReadyCondition = "Ready"
	// DataSecretAvailableCondition is True once the bootstrap data secret exists.
	DataSecretAvailableCondition = "DataSecretAvailable"
)

// Condition reasons.
const (
	// ReadyReason: the condition holds.
	ReadyReason = "Ready"
	// WaitingForControlPlaneReason: the control plane is not initialized yet, so no node can join.
	WaitingForControlPlaneReason = "WaitingForControlPlane"
	// WaitingForClusterReason: the Cluster's infrastructure is not provisioned yet.
	WaitingForClusterReason = "WaitingForCluster"
	// TokenErrorReason: the bootstrap token could not be made in the customer cluster; retried.
	TokenErrorReason = "TokenError"
)
