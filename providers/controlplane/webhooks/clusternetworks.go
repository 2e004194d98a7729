package webhooks

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
)

// +kubebuilder:webhook:path=/validate-cluster-x-k8s-io-v1beta2-cluster,mutating=false,failurePolicy=ignore,sideEffects=None,groups=cluster.x-k8s.io,resources=clusters,verbs=create;update,versions=v1beta2,name=tunnel-networks.gcorecontrolplane.controlplane.cluster.x-k8s.io,admissionReviewVersions=v1

// ClusterNetworks refuses a Cluster whose control plane is a GcoreControlPlane when its pod or
// service networks, or the node network of its GcoreCluster if that exists already, overlap a
// network of the service side (the service cluster's Service range,
// its nodes' pod ranges and addresses, the tunnel's transfer network): the hosted apiserver
// routes the customer's networks through its tunnel, so they must be free inside the service
// cluster. Other Clusters pass untouched. The webhook's failure policy is Ignore: it is
// registered by this provider for Cluster API's own kind, and must not block other Clusters
// while the provider is down (the controller reports the same overlap in VPNReady).
type ClusterNetworks struct {
	// Reader reads the service cluster's Nodes, ServiceCIDRs and the kubernetes Service.
	Reader client.Reader
	// TransferCIDR is the tunnel's own network; empty means vpn.DefaultTransferCIDR.
	TransferCIDR string
	// AddressAnnotations name Node annotations holding more addresses of a node.
	AddressAnnotations []string
}

// ValidateCreate checks the networks.
func (w ClusterNetworks) ValidateCreate(ctx context.Context, c *clusterv1.Cluster) (admission.Warnings, error) {
	return nil, w.validate(ctx, c)
}

// ValidateUpdate checks the networks.
func (w ClusterNetworks) ValidateUpdate(ctx context.Context, _, c *clusterv1.Cluster) (admission.Warnings, error) {
	return nil, w.validate(ctx, c)
}

// ValidateDelete allows every deletion.
func (ClusterNetworks) ValidateDelete(context.Context, *clusterv1.Cluster) (admission.Warnings, error) {
	return nil, nil
}

func (w ClusterNetworks) validate(ctx context.Context, c *clusterv1.Cluster) error {
	ref := c.Spec.ControlPlaneRef
	if ref.Kind != "GcoreControlPlane" || ref.APIGroup != controlplanev1.GroupVersion.Group {
		return nil
	}
	reserved, err := vpn.ReservedNetworks(ctx, w.Reader, w.TransferCIDR, w.AddressAnnotations...)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("reading the service cluster's networks: %w", err))
	}
	netw := field.NewPath("spec", "clusterNetwork")
	var errs field.ErrorList
	for _, l := range []struct {
		path  *field.Path
		cidrs []string
		only  func([]string) vpn.Networks
	}{
		{netw.Child("pods", "cidrBlocks"), c.Spec.ClusterNetwork.Pods.CIDRBlocks, func(p []string) vpn.Networks { return vpn.Networks{Pods: p} }},
		{netw.Child("services", "cidrBlocks"), c.Spec.ClusterNetwork.Services.CIDRBlocks, func(s []string) vpn.Networks { return vpn.Networks{Services: s} }},
	} {
		for i, cidr := range l.cidrs {
			for _, o := range vpn.Overlaps(l.only([]string{cidr}), reserved) {
				errs = append(errs, field.Invalid(l.path.Index(i), cidr, o+": the hosted apiserver's tunnel could not route it; choose another range"))
			}
		}
	}
	// The node network is the GcoreCluster's: checked here when the GcoreCluster exists already
	// (made before its Cluster), and by the GcoreCluster's own webhook otherwise.
	if infra := c.Spec.InfrastructureRef; w.Reader != nil && infra.Kind == "GcoreCluster" && infra.APIGroup == infrav1.GroupVersion.Group {
		var gc infrav1.GcoreCluster
		if err := w.Reader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: infra.Name}, &gc); err == nil && gc.Spec.Network.CIDR != "" {
			for _, o := range vpn.Overlaps(vpn.Networks{Nodes: []string{gc.Spec.Network.CIDR}}, reserved) {
				errs = append(errs, field.Invalid(field.NewPath("spec", "infrastructureRef"), infra.Name, "GcoreCluster "+infra.Name+": "+o+": the hosted apiserver's tunnel could not route it; choose another spec.network.cidr"))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: clusterv1.GroupVersion.Group, Kind: "Cluster"}, c.Name, errs)
}
