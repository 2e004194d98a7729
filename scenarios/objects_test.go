package scenarios

import (
	"slices"
	"testing"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

// TestKnownConditions keeps the condition tables in step with the APIs that define them.
func TestKnownConditions(t *testing.T) {
	for kind, conds := range map[string][]string{
		"Cluster": {clusterv1.ClusterAvailableCondition, clusterv1.ClusterInfrastructureReadyCondition,
			clusterv1.ClusterControlPlaneInitializedCondition, clusterv1.ClusterControlPlaneAvailableCondition,
			clusterv1.ClusterWorkersAvailableCondition, clusterv1.ClusterWorkerMachinesReadyCondition,
			clusterv1.ClusterRemoteConnectionProbeCondition, clusterv1.ClusterDeletingCondition, clusterv1.PausedCondition},
		"MachineDeployment": {clusterv1.MachineDeploymentAvailableCondition, clusterv1.MachineDeploymentMachinesReadyCondition,
			clusterv1.MachineDeploymentMachinesUpToDateCondition, clusterv1.MachineDeploymentRollingOutCondition},
		"MachineSet": {clusterv1.MachineSetMachinesReadyCondition, clusterv1.MachineSetScalingUpCondition},
		"Machine": {clusterv1.MachineAvailableCondition, clusterv1.MachineReadyCondition, clusterv1.MachineUpToDateCondition,
			clusterv1.MachineNodeReadyCondition, clusterv1.MachineNodeHealthyCondition, clusterv1.MachineInfrastructureReadyCondition},
		"GcoreControlPlane": {controlplanev1.ReadyCondition, controlplanev1.AvailableCondition, controlplanev1.CertificatesReadyCondition,
			controlplanev1.EtcdReadyCondition, controlplanev1.APIServerReadyCondition, controlplanev1.ControllerManagerReadyCondition,
			controlplanev1.SchedulerReadyCondition, controlplanev1.EndpointReadyCondition, controlplanev1.AddonsReadyCondition,
			controlplanev1.VPNReadyCondition},
		"GcoreCluster": {infrav1.ReadyCondition, infrav1.NetworkReadyCondition, infrav1.RouterReadyCondition,
			infrav1.SecurityGroupsReadyCondition},
		"GcoreMachine": {infrav1.ReadyCondition, infrav1.InstanceReadyCondition},
		"GcoreConfig":  {bootstrapv1.ReadyCondition, bootstrapv1.DataSecretAvailableCondition},
	} {
		info, ok := KnownKind(kind)
		if !ok {
			t.Errorf("kind %s is not known", kind)
			continue
		}
		for _, c := range conds {
			if !slices.Contains(info.Conditions, c) {
				t.Errorf("%s: condition %s is missing", kind, c)
			}
		}
	}
}

func TestManagerDeployments(t *testing.T) {
	for _, p := range []string{ProviderCore, ProviderInfrastructure, ProviderControlPlane, ProviderBootstrap} {
		if d, ok := (&KillManager{Provider: p}).Deployment(); !ok || d.Namespace == "" || d.Name == "" {
			t.Errorf("provider %s: %+v, %v", p, d, ok)
		}
	}
}
