// Package webhooks holds the defaulting and validating admission webhooks of the
// infrastructure API: GcoreCluster, GcoreMachine and GcoreMachineTemplate. Errors name the
// field and say what is accepted.
package webhooks

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

// DefaultCIDR is the cluster subnet used when a GcoreCluster names none.
const DefaultCIDR = "10.6.0.0/24"

// SetupWebhooks registers the webhooks of the infrastructure API with mgr's webhook server.
// addressAnnotations name the service cluster's Node annotations holding more addresses of a
// node (its address on the external network), which a hosted cluster's node network must not
// overlap either.
func SetupWebhooks(mgr ctrl.Manager, addressAnnotations ...string) error {
	cluster := Cluster{Reader: mgr.GetAPIReader(), AddressAnnotations: addressAnnotations}
	if err := ctrl.NewWebhookManagedBy(mgr, &infrav1.GcoreCluster{}).WithDefaulter(cluster).WithValidator(cluster).Complete(); err != nil {
		return fmt.Errorf("GcoreCluster webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &infrav1.GcoreMachine{}).WithDefaulter(Machine{}).WithValidator(Machine{}).Complete(); err != nil {
		return fmt.Errorf("GcoreMachine webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &infrav1.GcoreMachineTemplate{}).WithDefaulter(MachineTemplate{}).WithValidator(MachineTemplate{}).Complete(); err != nil {
		return fmt.Errorf("GcoreMachineTemplate webhooks: %w", err)
	}
	return nil
}

// +kubebuilder:webhook:path=/mutate-infrastructure-cluster-x-k8s-io-v1alpha1-gcorecluster,mutating=true,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoreclusters,verbs=create;update,versions=v1alpha1,name=default.gcorecluster.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-infrastructure-cluster-x-k8s-io-v1alpha1-gcorecluster,mutating=false,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoreclusters,verbs=create;update,versions=v1alpha1,name=validation.gcorecluster.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1

// Cluster defaults and validates GcoreClusters.
type Cluster struct {
	// Reader reads Clusters and the service cluster's networks (nil: the node network is not
	// checked against them).
	Reader client.Reader
	// TransferCIDR is the tunnel's own network; empty means vpn.DefaultTransferCIDR.
	TransferCIDR string
	// AddressAnnotations name Node annotations holding more addresses of a node.
	AddressAnnotations []string
}

// Default fills the subnet CIDR.
func (Cluster) Default(_ context.Context, c *infrav1.GcoreCluster) error {
	if c.Spec.Network.CIDR == "" {
		c.Spec.Network.CIDR = DefaultCIDR
	}
	return nil
}

// ValidateCreate checks the network settings.
func (w Cluster) ValidateCreate(ctx context.Context, c *infrav1.GcoreCluster) (admission.Warnings, error) {
	errs := validateClusterSpec(&c.Spec)
	if len(errs) == 0 {
		more, err := w.tunnelNetworks(ctx, c)
		if err != nil {
			return nil, err
		}
		errs = more
	}
	return nil, invalid(c.Name, "GcoreCluster", errs)
}

// ValidateUpdate also refuses changes to what cannot change once the network exists.
func (w Cluster) ValidateUpdate(ctx context.Context, oldC, newC *infrav1.GcoreCluster) (admission.Warnings, error) {
	errs := validateClusterSpec(&newC.Spec)
	if len(errs) == 0 && newC.Spec.Network.CIDR != oldC.Spec.Network.CIDR {
		more, err := w.tunnelNetworks(ctx, newC)
		if err != nil {
			return nil, err
		}
		errs = more
	}
	spec := field.NewPath("spec")
	if oldC.Spec.Network.CIDR != "" && newC.Spec.Network.CIDR != oldC.Spec.Network.CIDR {
		errs = append(errs, field.Forbidden(spec.Child("network", "cidr"), "the subnet cannot change once made: create a new cluster instead"))
	}
	if oldC.Spec.ExternalNetworkID != "" && newC.Spec.ExternalNetworkID != oldC.Spec.ExternalNetworkID {
		errs = append(errs, field.Forbidden(spec.Child("externalNetworkID"), "the router's external network cannot change"))
	}
	if oldC.Spec.ControlPlaneEndpoint.IsValid() && newC.Spec.ControlPlaneEndpoint != oldC.Spec.ControlPlaneEndpoint {
		errs = append(errs, field.Forbidden(spec.Child("controlPlaneEndpoint"), "the endpoint cannot change once set"))
	}
	return nil, invalid(newC.Name, "GcoreCluster", errs)
}

// ValidateDelete allows every deletion.
func (Cluster) ValidateDelete(context.Context, *infrav1.GcoreCluster) (admission.Warnings, error) {
	return nil, nil
}

func validateClusterSpec(s *infrav1.GcoreClusterSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "network")
	if s.Network.CIDR != "" {
		pfx, err := netip.ParsePrefix(s.Network.CIDR)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p.Child("cidr"), s.Network.CIDR, "not a CIDR, e.g. 10.6.0.0/24"))
		case !pfx.Addr().Is4():
			errs = append(errs, field.Invalid(p.Child("cidr"), s.Network.CIDR, "must be IPv4 (IPv6 clusters are not supported)"))
		case pfx.Bits() < 16 || pfx.Bits() > 28:
			errs = append(errs, field.Invalid(p.Child("cidr"), s.Network.CIDR, "the prefix length must be between /16 and /28"))
		case pfx.Masked() != pfx:
			errs = append(errs, field.Invalid(p.Child("cidr"), s.Network.CIDR, fmt.Sprintf("host bits are set: did you mean %s?", pfx.Masked())))
		}
	}
	for i, ns := range s.Network.DNSNameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			errs = append(errs, field.Invalid(p.Child("dnsNameservers").Index(i), ns, "not an IP address"))
		}
	}
	return errs
}

// +kubebuilder:webhook:path=/mutate-infrastructure-cluster-x-k8s-io-v1alpha1-gcoremachine,mutating=true,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoremachines,verbs=create;update,versions=v1alpha1,name=default.gcoremachine.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-infrastructure-cluster-x-k8s-io-v1alpha1-gcoremachine,mutating=false,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoremachines,verbs=create;update,versions=v1alpha1,name=validation.gcoremachine.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1

// Machine defaults and validates GcoreMachines.
type Machine struct{}

// Default fills the machine type.
func (Machine) Default(_ context.Context, m *infrav1.GcoreMachine) error {
	defaultMachineSpec(&m.Spec)
	return nil
}

// ValidateCreate checks the spec.
func (Machine) ValidateCreate(_ context.Context, m *infrav1.GcoreMachine) (admission.Warnings, error) {
	return nil, invalid(m.Name, "GcoreMachine", validateMachineSpec(field.NewPath("spec"), &m.Spec))
}

// ValidateUpdate refuses every spec change but the controller setting providerID once:
// a machine is replaced, never changed in place (Cluster API rolls MachineDeployments).
func (Machine) ValidateUpdate(_ context.Context, oldM, newM *infrav1.GcoreMachine) (admission.Warnings, error) {
	errs := validateMachineSpec(field.NewPath("spec"), &newM.Spec)
	o, n := oldM.Spec, newM.Spec
	if o.ProviderID == "" {
		o.ProviderID = n.ProviderID
	}
	if !reflect.DeepEqual(o, n) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "a GcoreMachine's spec cannot change: change the GcoreMachineTemplate of its MachineDeployment to roll new machines"))
	}
	return nil, invalid(newM.Name, "GcoreMachine", errs)
}

// ValidateDelete allows every deletion.
func (Machine) ValidateDelete(context.Context, *infrav1.GcoreMachine) (admission.Warnings, error) {
	return nil, nil
}

// +kubebuilder:webhook:path=/mutate-infrastructure-cluster-x-k8s-io-v1alpha1-gcoremachinetemplate,mutating=true,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoremachinetemplates,verbs=create;update,versions=v1alpha1,name=default.gcoremachinetemplate.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-infrastructure-cluster-x-k8s-io-v1alpha1-gcoremachinetemplate,mutating=false,failurePolicy=fail,sideEffects=None,groups=infrastructure.cluster.x-k8s.io,resources=gcoremachinetemplates,verbs=create;update,versions=v1alpha1,name=validation.gcoremachinetemplate.infrastructure.cluster.x-k8s.io,admissionReviewVersions=v1

// MachineTemplate defaults and validates GcoreMachineTemplates.
type MachineTemplate struct{}

// Default fills the machine type.
func (MachineTemplate) Default(_ context.Context, t *infrav1.GcoreMachineTemplate) error {
	defaultMachineSpec(&t.Spec.Template.Spec)
	return nil
}

// ValidateCreate checks the template's machine spec.
func (MachineTemplate) ValidateCreate(_ context.Context, t *infrav1.GcoreMachineTemplate) (admission.Warnings, error) {
	return nil, invalid(t.Name, "GcoreMachineTemplate", validateTemplate(t))
}

// ValidateUpdate refuses spec changes: templates are replaced, not edited (Cluster API rolls
// the machines when a MachineDeployment points at a new template).
func (MachineTemplate) ValidateUpdate(_ context.Context, oldT, newT *infrav1.GcoreMachineTemplate) (admission.Warnings, error) {
	errs := validateTemplate(newT)
	if !reflect.DeepEqual(oldT.Spec, newT.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "GcoreMachineTemplates are immutable: create a new template and point the MachineDeployment at it"))
	}
	return nil, invalid(newT.Name, "GcoreMachineTemplate", errs)
}

// ValidateDelete allows every deletion.
func (MachineTemplate) ValidateDelete(context.Context, *infrav1.GcoreMachineTemplate) (admission.Warnings, error) {
	return nil, nil
}

func validateTemplate(t *infrav1.GcoreMachineTemplate) field.ErrorList {
	p := field.NewPath("spec", "template", "spec")
	errs := validateMachineSpec(p, &t.Spec.Template.Spec)
	if t.Spec.Template.Spec.ProviderID != "" {
		errs = append(errs, field.Forbidden(p.Child("providerID"), "set by the controller on each machine, not in a template"))
	}
	return errs
}

func defaultMachineSpec(s *infrav1.GcoreMachineSpec) {
	if s.Type == "" {
		s.Type = infrav1.MachineTypeVM
	}
}

func validateMachineSpec(p *field.Path, s *infrav1.GcoreMachineSpec) field.ErrorList {
	var errs field.ErrorList
	if s.Flavor == "" {
		errs = append(errs, field.Required(p.Child("flavor"), "name a Nova flavor, e.g. g1.medium (or bm1.medium with type: baremetal)"))
	}
	switch s.Type {
	case "", infrav1.MachineTypeVM, infrav1.MachineTypeBareMetal:
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), s.Type, []string{string(infrav1.MachineTypeVM), string(infrav1.MachineTypeBareMetal)}))
	}
	if s.Image.Name != "" && s.Image.KubeVersion != "" {
		errs = append(errs, field.Invalid(p.Child("image"), s.Image, "set image.name or image.kubeVersion, not both"))
	}
	if s.ServerGroupID != "" && s.Type == infrav1.MachineTypeBareMetal {
		errs = append(errs, field.Forbidden(p.Child("serverGroupID"), "bare-metal servers are not placed by server groups"))
	}
	return errs
}

// invalid turns a field.ErrorList into the API's Invalid error (HTTP 422), or nil.
func invalid(name, kind string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(infrav1.GroupVersion.WithKind(kind).GroupKind(), name, errs)
}
