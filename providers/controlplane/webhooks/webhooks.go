// Package webhooks holds the defaulting and validating admission webhooks of
// GcoreControlPlane: pinned versions only, upgrades one minor at a time, never down, and
// etcd's size fixed once the cluster exists.
package webhooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/versions"
)

// Defaults of a GcoreControlPlane.
const (
	DefaultReplicas     = 2
	DefaultEtcdReplicas = 3
	DefaultEtcdStorage  = "1Gi"
)

// SetupWebhooks registers the GcoreControlPlane webhooks, and the check of the networks of
// Clusters whose control plane is one (ClusterNetworks), with mgr's webhook server.
// addressAnnotations name Node annotations holding more addresses of a service-cluster node.
func SetupWebhooks(mgr ctrl.Manager, addressAnnotations ...string) error {
	l, err := versions.Load()
	if err != nil {
		return err
	}
	v := ControlPlane{Versions: l}
	if err := ctrl.NewWebhookManagedBy(mgr, &controlplanev1.GcoreControlPlane{}).WithDefaulter(v).WithValidator(v).Complete(); err != nil {
		return fmt.Errorf("GcoreControlPlane webhooks: %w", err)
	}
	cn := ClusterNetworks{Reader: mgr.GetAPIReader(), AddressAnnotations: addressAnnotations}
	if err := ctrl.NewWebhookManagedBy(mgr, &clusterv1.Cluster{}).WithValidator(cn).Complete(); err != nil {
		return fmt.Errorf("the Cluster networks webhook: %w", err)
	}
	return nil
}

// +kubebuilder:webhook:path=/mutate-controlplane-cluster-x-k8s-io-v1alpha1-gcorecontrolplane,mutating=true,failurePolicy=fail,sideEffects=None,groups=controlplane.cluster.x-k8s.io,resources=gcorecontrolplanes,verbs=create;update,versions=v1alpha1,name=default.gcorecontrolplane.controlplane.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-controlplane-cluster-x-k8s-io-v1alpha1-gcorecontrolplane,mutating=false,failurePolicy=fail,sideEffects=None,groups=controlplane.cluster.x-k8s.io,resources=gcorecontrolplanes,verbs=create;update,versions=v1alpha1,name=validation.gcorecontrolplane.controlplane.cluster.x-k8s.io,admissionReviewVersions=v1

// ControlPlane defaults and validates GcoreControlPlanes against the pinned versions.
type ControlPlane struct {
	Versions versions.List
}

// Default fills replicas and etcd's shape.
func (ControlPlane) Default(_ context.Context, cp *controlplanev1.GcoreControlPlane) error {
	if cp.Spec.Replicas == nil {
		cp.Spec.Replicas = ptr.To[int32](DefaultReplicas)
	}
	if cp.Spec.Etcd.Replicas == 0 {
		cp.Spec.Etcd.Replicas = DefaultEtcdReplicas
	}
	if cp.Spec.Etcd.StorageSize.IsZero() {
		cp.Spec.Etcd.StorageSize = resource.MustParse(DefaultEtcdStorage)
	}
	return nil
}

// ValidateCreate checks the version is one the sandbox has images for.
func (w ControlPlane) ValidateCreate(_ context.Context, cp *controlplanev1.GcoreControlPlane) (admission.Warnings, error) {
	return nil, invalid(cp.Name, w.validateSpec(&cp.Spec))
}

// ValidateUpdate also checks the upgrade path and what cannot change.
func (w ControlPlane) ValidateUpdate(_ context.Context, oldCP, newCP *controlplanev1.GcoreControlPlane) (admission.Warnings, error) {
	errs := w.validateSpec(&newCP.Spec)
	spec := field.NewPath("spec")
	if msg := upgradeProblem(oldCP.Spec.Version, newCP.Spec.Version); msg != "" {
		errs = append(errs, field.Forbidden(spec.Child("version"), msg))
	}
	if oldCP.Spec.Etcd.Replicas != 0 && newCP.Spec.Etcd.Replicas != oldCP.Spec.Etcd.Replicas {
		errs = append(errs, field.Forbidden(spec.Child("etcd", "replicas"), "etcd membership cannot be resized in place"))
	}
	if !oldCP.Spec.Etcd.StorageSize.IsZero() && newCP.Spec.Etcd.StorageSize.Cmp(oldCP.Spec.Etcd.StorageSize) != 0 {
		errs = append(errs, field.Forbidden(spec.Child("etcd", "storageSize"), "etcd volumes cannot be resized"))
	}
	if oldCP.Spec.Etcd.StorageClassName != newCP.Spec.Etcd.StorageClassName {
		errs = append(errs, field.Forbidden(spec.Child("etcd", "storageClassName"), "etcd volumes cannot move to another storage class"))
	}
	if oldCP.Spec.ControlPlaneEndpoint.IsValid() && newCP.Spec.ControlPlaneEndpoint != oldCP.Spec.ControlPlaneEndpoint {
		errs = append(errs, field.Forbidden(spec.Child("controlPlaneEndpoint"), "set by the controller from the load balancer; it cannot change"))
	}
	return nil, invalid(newCP.Name, errs)
}

// ValidateDelete allows every deletion.
func (ControlPlane) ValidateDelete(context.Context, *controlplanev1.GcoreControlPlane) (admission.Warnings, error) {
	return nil, nil
}

func (w ControlPlane) validateSpec(s *controlplanev1.GcoreControlPlaneSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if _, ok := w.Versions.Find(s.Version); !ok {
		errs = append(errs, field.NotSupported(p.Child("version"), s.Version, w.Versions.Versions()))
	}
	if s.Replicas != nil && (*s.Replicas < 1 || *s.Replicas > 5) {
		errs = append(errs, field.Invalid(p.Child("replicas"), *s.Replicas, "between 1 and 5 apiserver pods"))
	}
	switch s.Etcd.Replicas {
	case 0, 1, 3, 5:
	default:
		errs = append(errs, field.NotSupported(p.Child("etcd", "replicas"), s.Etcd.Replicas, []string{"1", "3", "5"}))
	}
	if s.IdentityRef.Name == "" || s.IdentityRef.CloudName == "" {
		errs = append(errs, field.Required(p.Child("identityRef"), "name the clouds.yaml Secret and its cloud, used to make the apiserver's load balancer"))
	}
	return errs
}

// upgradeProblem explains why moving from oldV to newV is refused, or returns "".
func upgradeProblem(oldV, newV string) string {
	if oldV == newV || oldV == "" {
		return ""
	}
	om, oerr := minorOf(oldV)
	nm, nerr := minorOf(newV)
	if oerr != nil || nerr != nil {
		return "" // the version check reports malformed versions
	}
	switch {
	case nm < om:
		return fmt.Sprintf("downgrading from %s to %s is not supported", oldV, newV)
	case nm > om+1:
		return fmt.Sprintf("upgrading from %s to %s skips v1.%d: upgrade one minor at a time, to a v1.%d release first", oldV, newV, om+1, om+1)
	}
	return ""
}

func minorOf(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("%q is not vX.Y.Z", v)
	}
	return strconv.Atoi(parts[1])
}

func invalid(name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(controlplanev1.GroupVersion.WithKind("GcoreControlPlane").GroupKind(), name, errs)
}
