package webhooks

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
)

// tunnelNetworks refuses the node network of a GcoreCluster whose Cluster has a hosted control
// plane (a GcoreControlPlane) when it overlaps a network of the service side: the hosted
// apiserver routes the customer's node network through its tunnel, so it must be free inside
// the service cluster. A GcoreCluster whose Cluster does not exist yet passes here; the
// Cluster's own webhook checks it then, and the control plane's VPNReady reports it too.
func (w Cluster) tunnelNetworks(ctx context.Context, gc *infrav1.GcoreCluster) (field.ErrorList, error) {
	if w.Reader == nil || gc.Spec.Network.CIDR == "" {
		return nil, nil
	}
	var clusters clusterv1.ClusterList
	if err := w.Reader.List(ctx, &clusters, client.InNamespace(gc.Namespace)); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("listing the Clusters of namespace %s: %w", gc.Namespace, err))
	}
	hosted := false
	for _, c := range clusters.Items {
		infra, cp := c.Spec.InfrastructureRef, c.Spec.ControlPlaneRef
		if infra.Kind == "GcoreCluster" && infra.Name == gc.Name && infra.APIGroup == infrav1.GroupVersion.Group &&
			cp.Kind == "GcoreControlPlane" && cp.APIGroup == controlplanev1.GroupVersion.Group {
			hosted = true
			break
		}
	}
	if !hosted {
		return nil, nil
	}
	reserved, err := vpn.ReservedNetworks(ctx, w.Reader, w.TransferCIDR, w.AddressAnnotations...)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("reading the service cluster's networks: %w", err))
	}
	var errs field.ErrorList
	for _, o := range vpn.Overlaps(vpn.Networks{Nodes: []string{gc.Spec.Network.CIDR}}, reserved) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "network", "cidr"), gc.Spec.Network.CIDR, o+": the hosted apiserver's tunnel could not route it; choose another range"))
	}
	return errs, nil
}
