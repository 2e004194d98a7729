package controlplane

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-api/util/conditions"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
)

// retryShort paces polling while pods start or the load balancer builds.
const retryShort = 5 * time.Second

// ownedConditions are the condition types the controller sets.
var ownedConditions = []string{
	controlplanev1.ReadyCondition, controlplanev1.AvailableCondition, controlplanev1.CertificatesReadyCondition,
	controlplanev1.EtcdReadyCondition, controlplanev1.APIServerReadyCondition, controlplanev1.ControllerManagerReadyCondition,
	controlplanev1.SchedulerReadyCondition, controlplanev1.EndpointReadyCondition, controlplanev1.AddonsReadyCondition,
	controlplanev1.VPNReadyCondition,
}

func setTrue(cp *controlplanev1.GcoreControlPlane, t string) {
	conditions.Set(cp, metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: controlplanev1.ReadyReason, ObservedGeneration: cp.Generation})
}

func setFalse(cp *controlplanev1.GcoreControlPlane, t, reason, format string, args ...any) {
	conditions.Set(cp, metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: fmt.Sprintf(format, args...), ObservedGeneration: cp.Generation})
}
