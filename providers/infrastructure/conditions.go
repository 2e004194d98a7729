package infrastructure

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/compute"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/networking"
)

// invalidSpecRetry is how long to wait before trying a spec the cloud refused again: the
// cloud may change (an image uploaded, a flavor added), so it is never terminal.
const invalidSpecRetry = time.Minute

func setTrue(obj conditions.Setter, t string) {
	conditions.Set(obj, metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: infrav1.ReadyReason})
}

func setFalse(obj conditions.Setter, t, reason, format string, args ...any) {
	conditions.Set(obj, metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// cloudFailure records err on condition t and says how to retry: an invalid spec is retried
// after invalidSpecRetry without an error (no hot backoff loop), anything else is returned so
// controller-runtime retries it with exponential backoff.
func cloudFailure(obj conditions.Setter, t string, err error) (ctrl.Result, error) {
	if errors.Is(err, networking.ErrInvalidSpec) || errors.Is(err, compute.ErrInvalidSpec) {
		setFalse(obj, t, infrav1.InvalidSpecReason, "%v", err)
		setFalse(obj, infrav1.ReadyCondition, infrav1.InvalidSpecReason, "%s: %v", t, err)
		return ctrl.Result{RequeueAfter: invalidSpecRetry}, nil
	}
	setFalse(obj, t, infrav1.CloudErrorReason, "%v (retrying)", err)
	setFalse(obj, infrav1.ReadyCondition, infrav1.CloudErrorReason, "%s: %v (retrying)", t, err)
	return ctrl.Result{}, err
}

// retryShort paces polling of cloud work in progress (a server building, a port in use).
const retryShort = 5 * time.Second
