// Package webhooks holds the defaulting and validating admission webhooks of the bootstrap
// API: GcoreConfig and GcoreConfigTemplate.
package webhooks

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
)

// SetupWebhooks registers the GcoreConfig and GcoreConfigTemplate webhooks with mgr.
func SetupWebhooks(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &bootstrapv1.GcoreConfig{}).
		WithDefaulter(GcoreConfig{}).
		WithValidator(GcoreConfig{}).
		Complete(); err != nil {
		return fmt.Errorf("setting up the GcoreConfig webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &bootstrapv1.GcoreConfigTemplate{}).
		WithDefaulter(GcoreConfigTemplate{}).
		WithValidator(GcoreConfigTemplate{}).
		Complete(); err != nil {
		return fmt.Errorf("setting up the GcoreConfigTemplate webhooks: %w", err)
	}
	return nil
}

// +kubebuilder:webhook:verbs=create;update,path=/mutate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfig,mutating=true,failurePolicy=fail,sideEffects=None,groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigs,versions=v1alpha1,name=default.gcoreconfig.bootstrap.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:verbs=create;update,path=/validate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfig,mutating=false,failurePolicy=fail,sideEffects=None,groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigs,versions=v1alpha1,name=validation.gcoreconfig.bootstrap.cluster.x-k8s.io,admissionReviewVersions=v1

// GcoreConfig defaults and validates GcoreConfigs.
type GcoreConfig struct{}

var (
	_ admission.Defaulter[*bootstrapv1.GcoreConfig] = GcoreConfig{}
	_ admission.Validator[*bootstrapv1.GcoreConfig] = GcoreConfig{}
)

// Default implements admission.Defaulter.
func (GcoreConfig) Default(_ context.Context, c *bootstrapv1.GcoreConfig) error {
	DefaultSpec(&c.Spec)
	return nil
}

// ValidateCreate implements admission.Validator.
func (GcoreConfig) ValidateCreate(_ context.Context, c *bootstrapv1.GcoreConfig) (admission.Warnings, error) {
	return nil, invalid("GcoreConfig", c.Name, ValidateSpec(&c.Spec, field.NewPath("spec")))
}

// ValidateUpdate implements admission.Validator.
func (GcoreConfig) ValidateUpdate(_ context.Context, _, c *bootstrapv1.GcoreConfig) (admission.Warnings, error) {
	return nil, invalid("GcoreConfig", c.Name, ValidateSpec(&c.Spec, field.NewPath("spec")))
}

// ValidateDelete implements admission.Validator; deletes are always allowed.
func (GcoreConfig) ValidateDelete(context.Context, *bootstrapv1.GcoreConfig) (admission.Warnings, error) {
	return nil, nil
}

// +kubebuilder:webhook:verbs=create;update,path=/mutate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfigtemplate,mutating=true,failurePolicy=fail,sideEffects=None,groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigtemplates,versions=v1alpha1,name=default.gcoreconfigtemplate.bootstrap.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:verbs=create;update,path=/validate-bootstrap-cluster-x-k8s-io-v1alpha1-gcoreconfigtemplate,mutating=false,failurePolicy=fail,sideEffects=None,groups=bootstrap.cluster.x-k8s.io,resources=gcoreconfigtemplates,versions=v1alpha1,name=validation.gcoreconfigtemplate.bootstrap.cluster.x-k8s.io,admissionReviewVersions=v1

// GcoreConfigTemplate defaults and validates GcoreConfigTemplates: their spec.template.spec
// the same way as a GcoreConfig's spec.
type GcoreConfigTemplate struct{}

var (
	_ admission.Defaulter[*bootstrapv1.GcoreConfigTemplate] = GcoreConfigTemplate{}
	_ admission.Validator[*bootstrapv1.GcoreConfigTemplate] = GcoreConfigTemplate{}
)

// Default implements admission.Defaulter.
func (GcoreConfigTemplate) Default(_ context.Context, t *bootstrapv1.GcoreConfigTemplate) error {
	DefaultSpec(&t.Spec.Template.Spec)
	return nil
}

// ValidateCreate implements admission.Validator.
func (GcoreConfigTemplate) ValidateCreate(_ context.Context, t *bootstrapv1.GcoreConfigTemplate) (admission.Warnings, error) {
	return nil, invalid("GcoreConfigTemplate", t.Name, validateTemplate(t))
}

// ValidateUpdate implements admission.Validator.
func (GcoreConfigTemplate) ValidateUpdate(_ context.Context, _, t *bootstrapv1.GcoreConfigTemplate) (admission.Warnings, error) {
	return nil, invalid("GcoreConfigTemplate", t.Name, validateTemplate(t))
}

// ValidateDelete implements admission.Validator; deletes are always allowed.
func (GcoreConfigTemplate) ValidateDelete(context.Context, *bootstrapv1.GcoreConfigTemplate) (admission.Warnings, error) {
	return nil, nil
}

func validateTemplate(t *bootstrapv1.GcoreConfigTemplate) field.ErrorList {
	return ValidateSpec(&t.Spec.Template.Spec, field.NewPath("spec", "template", "spec"))
}

// DefaultSpec fills in defaults: kubelet flags written with a leading "--" lose it (unless
// that would collide with the same flag written without), files without permissions get 0644
// (cloud-init's own default, made visible).
func DefaultSpec(spec *bootstrapv1.GcoreConfigSpec) {
	for _, name := range sortedKeys(spec.KubeletExtraArgs) {
		trimmed := strings.TrimPrefix(name, "--")
		if trimmed == name || trimmed == "" {
			continue
		}
		if _, exists := spec.KubeletExtraArgs[trimmed]; exists {
			continue
		}
		spec.KubeletExtraArgs[trimmed] = spec.KubeletExtraArgs[name]
		delete(spec.KubeletExtraArgs, name)
	}
	for i := range spec.Files {
		if spec.Files[i].Permissions == "" {
			spec.Files[i].Permissions = "0644"
		}
	}
}

func invalid(kind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(bootstrapv1.GroupVersion.WithKind(kind).GroupKind(), name, errs)
}
