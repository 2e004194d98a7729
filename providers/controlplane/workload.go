package controlplane

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/workload"
)

// reconcileWorkload applies, inside the customer cluster, what kubeadm init would have left for
// workers to join, and the add-ons at the version the control plane runs. Applying every time
// puts back whatever the customer deleted.
func (r *GcoreControlPlaneReconciler) reconcileWorkload(ctx context.Context, s *scope) error {
	cp, name := s.cp, s.clusterName()
	var ca corev1.Secret
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: cp.Namespace, Name: secret.Name(name, secret.ClusterCA)}, &ca); err != nil {
		return fmt.Errorf("reading the cluster CA: %w", err)
	}
	pods, services, domain := clusterNetwork(s.cluster)
	version := cp.Status.Version
	if version == "" {
		version = cp.Spec.Version
	}
	p := workload.Params{
		ClusterName: name, KubernetesVersion: version,
		EndpointHost: cp.Spec.ControlPlaneEndpoint.Host, EndpointPort: cp.Spec.ControlPlaneEndpoint.Port,
		CACertPEM: ca.Data[secret.TLSCrtDataName], PodCIDR: pods[0], ServiceCIDR: services[0], DNSDomain: domain,
	}
	join, err := workload.JoinObjects(p)
	if err != nil {
		return err
	}
	addons, err := workload.Addons(p)
	if err != nil {
		return err
	}
	c, err := r.Workload.Client(ctx, types.NamespacedName{Namespace: cp.Namespace, Name: name})
	if err != nil {
		return err
	}
	if err := workload.Apply(ctx, c, append(join, addons...), FieldOwner); err != nil {
		return fmt.Errorf("applying into the customer cluster: %w", err)
	}
	return nil
}
