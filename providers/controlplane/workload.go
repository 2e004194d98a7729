package controlplane

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/workload"
)

// reconcileWorkload applies, inside the customer cluster, what kubeadm init would have left for
// workers to join, and the add-ons at the version the control plane runs. The set is applied
// again when it changes and every reapplyEvery, which puts back whatever the customer deleted.
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
	objs := append(join, addons...)
	hash, err := hashObjects(objs)
	if err != nil {
		return err
	}
	key := client.ObjectKeyFromObject(cp)
	if r.applied.current(key, hash, time.Now()) {
		return nil
	}
	c, err := r.Workload.Client(ctx, types.NamespacedName{Namespace: cp.Namespace, Name: name})
	if err != nil {
		return err
	}
	if err := workload.Apply(ctx, c, objs, FieldOwner); err != nil {
		return fmt.Errorf("applying into the customer cluster: %w", err)
	}
	r.applied.record(key, hash, time.Now())
	return nil
}
