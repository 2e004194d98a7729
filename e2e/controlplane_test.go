//go:build e2e

package e2e

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
)

// hostedControlPlaneWaiters replace the framework's default control plane waiters, which look
// for a KubeadmControlPlane and its Machines: ours (GcoreControlPlane) runs as pods, has no
// Machines, and says how it is doing in its status.
func hostedControlPlaneWaiters() clusterctl.ControlPlaneWaiters {
	return clusterctl.ControlPlaneWaiters{
		WaitForControlPlaneInitialized: func(ctx context.Context, in clusterctl.ApplyCustomClusterTemplateAndWaitInput, res *clusterctl.ApplyCustomClusterTemplateAndWaitResult) {
			By("waiting for the hosted control plane to be initialized")
			waitForControlPlane(ctx, in.ClusterProxy.GetClient(), res.Cluster, controlPlaneInitialized, in.WaitForControlPlaneIntervals...)
		},
		WaitForControlPlaneMachinesReady: func(ctx context.Context, in clusterctl.ApplyCustomClusterTemplateAndWaitInput, res *clusterctl.ApplyCustomClusterTemplateAndWaitResult) {
			By("waiting for the hosted control plane to be Ready")
			waitForControlPlane(ctx, in.ClusterProxy.GetClient(), res.Cluster, controlPlaneReady, in.WaitForControlPlaneIntervals...)
		},
	}
}

// waitForControlPlane waits until check passes on the Cluster's control plane object.
func waitForControlPlane(ctx context.Context, c client.Client, cluster *clusterv1.Cluster, check func(*unstructured.Unstructured) error, intervals ...interface{}) {
	Expect(cluster.Spec.ControlPlaneRef.IsDefined()).To(BeTrue(), "Cluster %s has no controlPlaneRef", cluster.Name)
	ref := cluster.Spec.ControlPlaneRef
	_, err := c.RESTMapper().RESTMapping(schema.GroupKind{Group: ref.APIGroup, Kind: ref.Kind})
	Expect(err).NotTo(HaveOccurred(), "the service cluster does not serve %s.%s", ref.Kind, ref.APIGroup)
	Eventually(func() error {
		cp, err := getControlPlane(ctx, c, cluster)
		if err != nil {
			return err
		}
		return check(cp)
	}, intervals...).Should(Succeed(), "%s %s/%s", ref.Kind, cluster.Namespace, ref.Name)
}

// getControlPlane reads the object the Cluster's controlPlaneRef names.
func getControlPlane(ctx context.Context, c client.Client, cluster *clusterv1.Cluster) (*unstructured.Unstructured, error) {
	ref := cluster.Spec.ControlPlaneRef
	mapping, err := c.RESTMapper().RESTMapping(schema.GroupKind{Group: ref.APIGroup, Kind: ref.Kind})
	if err != nil {
		return nil, err
	}
	cp := &unstructured.Unstructured{}
	cp.SetGroupVersionKind(mapping.GroupVersionKind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: ref.Name}, cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// controlPlaneInitialized passes once status.initialization.controlPlaneInitialized is true,
// as the contract asks before workers can join.
func controlPlaneInitialized(cp *unstructured.Unstructured) error {
	ok, _, err := unstructured.NestedBool(cp.Object, "status", "initialization", "controlPlaneInitialized")
	if err != nil {
		return fmt.Errorf("reading status.initialization.controlPlaneInitialized: %w", err)
	}
	if !ok {
		return fmt.Errorf("not initialized yet; Ready: %s", conditionSummary(cp, "Ready"))
	}
	return nil
}

// controlPlaneReady passes once the Ready condition is True and every apiserver replica asked
// for is ready.
func controlPlaneReady(cp *unstructured.Unstructured) error {
	if s := conditionStatus(cp, "Ready"); s != "True" {
		return fmt.Errorf("not Ready: %s", conditionSummary(cp, "Ready"))
	}
	want, found, err := unstructured.NestedInt64(cp.Object, "spec", "replicas")
	if err != nil || !found {
		return fmt.Errorf("no spec.replicas (%v)", err)
	}
	ready, _, err := unstructured.NestedInt64(cp.Object, "status", "readyReplicas")
	if err != nil {
		return fmt.Errorf("reading status.readyReplicas: %w", err)
	}
	if ready != want {
		return fmt.Errorf("%d of %d apiserver replicas ready", ready, want)
	}
	return nil
}

// conditionStatus returns the status of condition t in status.conditions, or "".
func conditionStatus(obj *unstructured.Unstructured, t string) string {
	c := condition(obj, t)
	if c == nil {
		return ""
	}
	s, _ := c["status"].(string)
	return s
}

// conditionSummary is "status reason: message" of condition t, for failure messages.
func conditionSummary(obj *unstructured.Unstructured, t string) string {
	c := condition(obj, t)
	if c == nil {
		return "no " + t + " condition"
	}
	return fmt.Sprintf("%v %v: %v", c["status"], c["reason"], c["message"])
}

// condition returns condition t of status.conditions as a map, or nil.
func condition(obj *unstructured.Unstructured, t string) map[string]interface{} {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, raw := range conds {
		if c, ok := raw.(map[string]interface{}); ok && c["type"] == t {
			return c
		}
	}
	return nil
}
