package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// Template variables the runner fills besides those of scenarios.ClusterSpec.
const (
	// VarNodeCIDR is the cluster's node subnet; the runner picks a free /24 in NodeCIDRRange
	// unless spec.cluster.variables sets it.
	VarNodeCIDR = "GCORE_NODE_CIDR"
	// VarCloudsYAML is the base64 clouds.yaml the cluster's Secret carries; the Templater
	// fills it.
	VarCloudsYAML = "GCORE_CLOUDS_YAML_B64"
)

// NodeCIDRRange is where node subnets are picked; its first /24 is the demo cluster's.
const NodeCIDRRange = "10.6.0.0/16"

// Kinds the cluster steps act on.
var (
	clusterRef = func(name string) scenarios.ObjectRef {
		return scenarios.ObjectRef{Kind: "Cluster", Name: name}
	}
	controlPlaneRef = func(cluster string) scenarios.ObjectRef {
		return scenarios.ObjectRef{Kind: "GcoreControlPlane", Name: cluster + "-control-plane"}
	}
)

// createCluster makes the run's namespace and applies the cluster template in it.
func (r *run) createCluster(ctx context.Context) error {
	spec := r.sc.Spec.Cluster
	if spec == nil {
		return errors.New("the scenario has no spec.cluster")
	}
	if r.env.Templates == nil {
		return errors.New("no cluster template in this environment")
	}
	vars := spec.TemplateVariables(r.cluster, r.namespace)
	if vars[VarNodeCIDR] == "" {
		cidrs, err := r.env.Cloud.SubnetCIDRs(ctx)
		if err != nil {
			return fmt.Errorf("listing the cloud's subnets for a free node CIDR: %w", err)
		}
		cidr, err := freeNodeCIDR(cidrs)
		if err != nil {
			return err
		}
		vars[VarNodeCIDR] = cidr
	}
	r.progress.linef("  cluster %s/%s: Kubernetes %s, %s workers VM, %s bare metal, nodes on %s", r.namespace, r.cluster,
		vars[scenarios.TemplateKubernetesVersion], vars[scenarios.TemplateWorkerCount], vars[scenarios.TemplateBareMetalCount], vars[VarNodeCIDR])
	r.takeBaseline(ctx)
	manifest, err := r.env.Templates.Generate(ctx, r.cluster, r.namespace, vars)
	if err != nil {
		return fmt.Errorf("rendering the cluster template: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.namespace, Labels: map[string]string{"scenarios.kaas.sandbox/scenario": r.sc.Metadata.Name}}}
	if err := r.env.Service.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", r.namespace, err)
	}
	r.created = true
	objs, err := decodeManifest(manifest)
	if err != nil {
		return err
	}
	for i := range objs {
		o := &objs[i]
		if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
			o.SetNamespace(r.namespace)
		}
		if err := r.env.Service.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), objKey(o.GetNamespace(), o.GetName()), err)
		}
	}
	return nil
}

// decodeManifest splits a multi-document YAML into objects.
func decodeManifest(data []byte) ([]unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding the cluster template's output: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, unstructured.Unstructured{Object: m})
	}
}

// freeNodeCIDR picks the first /24 of NodeCIDRRange after the demo's that overlaps no subnet.
func freeNodeCIDR(used []string) (string, error) {
	var nets []*net.IPNet
	for _, c := range used {
		if _, n, err := net.ParseCIDR(c); err == nil {
			nets = append(nets, n)
		}
	}
	_, rng, _ := net.ParseCIDR(NodeCIDRRange)
	base := rng.IP.To4()
	for i := 1; i < 256; i++ {
		cand := &net.IPNet{IP: net.IPv4(base[0], base[1], byte(i), 0).To4(), Mask: net.CIDRMask(24, 32)}
		free := true
		for _, n := range nets {
			if n.Contains(cand.IP) || cand.Contains(n.IP) {
				free = false
				break
			}
		}
		if free {
			return cand.String(), nil
		}
	}
	return "", fmt.Errorf("no free /24 left in %s for the cluster's nodes", NodeCIDRRange)
}

// deleteCluster deletes the Cluster and, with within, waits until it is gone.
func (r *run) deleteCluster(ctx context.Context, d *scenarios.DeleteCluster) error {
	objs, err := r.objects(ctx, clusterRef(r.cluster))
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		r.progress.linef("  no Cluster %s/%s: nothing to delete", r.namespace, r.cluster)
		return nil
	}
	r.noteMade(ctx)
	if err := r.env.Service.Delete(ctx, &objs[0]); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting Cluster %s/%s: %w", r.namespace, r.cluster, err)
	}
	if d.Within == "" {
		return nil
	}
	gone := 0
	e := &scenarios.Expect{Object: clusterRef(r.cluster), Count: &gone, Within: d.Within}
	return r.expect(ctx, e, &StepResult{})
}

// upgrade moves the control plane, then the MachineDeployments, one minor at a time.
func (r *run) upgrade(ctx context.Context, u *scenarios.Upgrade) error {
	cps, err := r.objects(ctx, controlPlaneRef(r.cluster))
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		return fmt.Errorf("no GcoreControlPlane %s-control-plane to upgrade", r.cluster)
	}
	from, _, _ := unstructured.NestedString(cps[0].Object, "spec", "version")
	path, err := scenarios.UpgradePath(r.pinned, from, u.To)
	if err != nil {
		return fmt.Errorf("upgrading from %s: %w", from, err)
	}
	for _, v := range path[1:] {
		r.progress.linef("  control plane to %s", v)
		if err := r.patchField(ctx, controlPlaneRef(r.cluster), v, "spec", "version"); err != nil {
			return err
		}
		e := &scenarios.Expect{Object: controlPlaneRef(r.cluster), FieldPath: ".status.version", Equals: v, Within: "upgrade"}
		if err := r.expect(ctx, e, &StepResult{}); err != nil {
			return fmt.Errorf("the control plane's upgrade to %s: %w", v, err)
		}
		mds, err := r.objects(ctx, scenarios.ObjectRef{Kind: "MachineDeployment", Selector: map[string]string{"cluster.x-k8s.io/cluster-name": r.cluster}})
		if err != nil {
			return err
		}
		for i := range mds {
			r.progress.linef("  MachineDeployment %s to %s", mds[i].GetName(), v)
			ref := scenarios.ObjectRef{Kind: "MachineDeployment", Name: mds[i].GetName()}
			if err := r.patchField(ctx, ref, v, "spec", "template", "spec", "version"); err != nil {
				return err
			}
		}
	}
	return nil
}

// scale sets a MachineDeployment's replicas.
func (r *run) scale(ctx context.Context, s *scenarios.Scale) error {
	return r.patchField(ctx, scenarios.ObjectRef{Kind: "MachineDeployment", Name: s.MachineDeployment}, int64(*s.Replicas), "spec", "replicas")
}

// patchField sets one field of a service-cluster object with a merge patch.
func (r *run) patchField(ctx context.Context, ref scenarios.ObjectRef, value any, fields ...string) error {
	objs, err := r.objects(ctx, ref)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("%s %s/%s not found", ref.Kind, r.namespace, ref.Name)
	}
	obj := &objs[0]
	orig := obj.DeepCopy()
	if err := unstructured.SetNestedField(obj.Object, value, fields...); err != nil {
		return fmt.Errorf("setting %v of %s %s: %w", fields, ref.Kind, ref.Name, err)
	}
	if err := r.env.Service.Patch(ctx, obj, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("patching %v of %s %s/%s to %v: %w", fields, ref.Kind, obj.GetNamespace(), obj.GetName(), value, err)
	}
	return nil
}

// removeNamespace deletes the run's namespace once no Cluster is left in it; a cluster still
// there (its deletion failed) keeps it, for a look.
func (r *run) removeNamespace(ctx context.Context) {
	if !r.created {
		return
	}
	objs, err := r.objects(ctx, scenarios.ObjectRef{Kind: "Cluster", Selector: map[string]string{}})
	if err != nil || len(objs) > 0 {
		r.note("namespace %s kept: its Cluster is still there (kubectl delete namespace %s once it is gone)", r.namespace, r.namespace)
		return
	}
	ns := &corev1.Namespace{}
	if err := r.env.Service.Get(ctx, types.NamespacedName{Name: r.namespace}, ns); err != nil {
		return
	}
	if err := r.env.Service.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
		r.note("deleting namespace %s: %v", r.namespace, err)
		return
	}
	r.progress.linef("namespace %s deleted", r.namespace)
}
