package runner

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestUpgradeAndScale upgrades a control plane two minors, one at a time (a fake controller
// reports each version), then the MachineDeployments, and scales one.
func TestUpgradeAndScale(t *testing.T) {
	te := newTestEnv(t)
	sc := parse(t, `apiVersion: scenarios.kaas.sandbox/v1alpha1
kind: Scenario
metadata: {name: up}
spec:
  description: Up.
  intervals: {upgrade: 5s/20ms}
  cluster:
    kubernetesVersion: v1.35.4
    workers: {vm: 1, bareMetal: 0}
  steps:
  - createCluster: {}
  - upgrade: {to: v1.37.2}
  - expect: {object: {kind: GcoreControlPlane, name: "${CLUSTER_NAME}-control-plane"}, fieldPath: .status.version, equals: v1.37.2, within: upgrade}
  - scale: {machineDeployment: "${CLUSTER_NAME}-md-0", replicas: 3}
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []string
	md := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("cluster.x-k8s.io/v1beta2")
		u.SetKind("MachineDeployment")
		if err := te.Service.Get(ctx, types.NamespacedName{Namespace: name, Name: name + "-md-0"}, u); err != nil {
			return nil
		}
		return u
	}
	done := make(chan struct{})
	go func() { // the control plane's controller: status.version follows spec.version
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			if te.template.vars == nil {
				continue
			}
			name := te.template.vars["CLUSTER_NAME"]
			if md(name) == nil {
				_ = te.Service.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineDeployment",
					"metadata": map[string]any{"name": name + "-md-0", "namespace": name, "labels": map[string]any{"cluster.x-k8s.io/cluster-name": name}},
					"spec":     map[string]any{"clusterName": name, "replicas": int64(1), "template": map[string]any{"spec": map[string]any{"version": "v1.35.4"}}},
				}})
			}
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("controlplane.cluster.x-k8s.io/v1alpha1")
			u.SetKind("GcoreControlPlane")
			if err := te.Service.Get(ctx, types.NamespacedName{Namespace: name, Name: name + "-control-plane"}, u); err != nil {
				continue
			}
			want, _, _ := unstructured.NestedString(u.Object, "spec", "version")
			have, _, _ := unstructured.NestedString(u.Object, "status", "version")
			if want != have {
				seen = append(seen, want)
				_ = unstructured.SetNestedField(u.Object, want, "status", "version")
				_ = te.Service.Update(ctx, u)
			}
		}
	}()
	res, err := Run(ctx, sc, te.Env)
	if err != nil {
		t.Fatal(err)
	}
	if fs := res.FailedStep(); fs != nil {
		t.Fatalf("%+v\n%s", fs, te.out.String())
	}
	cancel()
	<-done
	if n := len(seen); n < 2 || seen[n-2] != "v1.36.3" || seen[n-1] != "v1.37.2" {
		t.Errorf("control plane versions %v, want each minor in turn", seen)
	}
	m := md(res.ClusterName)
	if m == nil {
		t.Fatal("no MachineDeployment")
	}
	v, _, _ := unstructured.NestedString(m.Object, "spec", "template", "spec", "version")
	r, _, _ := unstructured.NestedInt64(m.Object, "spec", "replicas")
	if v != "v1.37.2" || r != 3 {
		t.Errorf("MachineDeployment version %s replicas %d", v, r)
	}
	mustContain(t, "progress", te.out.String(), "control plane to v1.36.3", "control plane to v1.37.2", "MachineDeployment "+res.ClusterName+"-md-0 to v1.37.2")
}
