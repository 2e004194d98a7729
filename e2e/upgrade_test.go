//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The upgrade spec: a cluster at the second newest pinned version (E2E_UPGRADE_FROM names
// another; one VM worker) moves one minor up: the hosted control plane first (etcd, apiservers,
// then the rest, while the Cluster stays Available), then its workers (Cluster API rolls the
// MachineDeployment onto servers of the new version's image), then the add-ons follow; after
// each step the tunnel carries kubectl logs again.
// `make e2e-upgrade`.
var _ = Describe("Upgrade on the sandbox: one minor, control plane then workers", Label("upgrade"), Ordered, func() {
	var (
		c        *specCluster
		env      *quickstartEnv
		from, to string
	)

	BeforeAll(func(ctx SpecContext) {
		c = newSpecCluster(ctx, "upgrade")
		env = c.env
		var err error
		from, to, err = env.versions.upgradePair(os.Getenv("E2E_UPGRADE_FROM"))
		Expect(err).NotTo(HaveOccurred())
		By(fmt.Sprintf("upgrading from %s to %s", from, to))
	})

	AfterEach(func() { c.markFailed() })

	It("creates a cluster at the older version", func(ctx SpecContext) {
		c.create(ctx, clusterShape{version: from, controlPlane: ptr.To[int64](1), vmWorkers: 1})
		machines := waitForMachinesRunning(ctx, env.mgmt.GetClient(), c.namespace.Name, c.name, 1, c.intervals("wait-worker-nodes")...)
		expectNodesOfMachines(ctx, c.connect(ctx).GetClient(), machines, from, c.intervals("wait-nodes-ready")...)
	})

	It("refuses to skip a minor or to go down", func(ctx SpecContext) {
		cp := controlPlaneOf(ctx, env.mgmt.GetClient(), c.result.Cluster)
		for _, v := range env.versions.Kubernetes {
			if v.Version == from || v.Version == to {
				continue
			}
			patched := cp.DeepCopy()
			Expect(unstructured.SetNestedField(patched.Object, v.Version, "spec", "version")).To(Succeed())
			err := env.mgmt.GetClient().Patch(ctx, patched, client.MergeFrom(cp))
			Expect(err).To(HaveOccurred(), "moving %s to %s", from, v.Version)
			Expect(err.Error()).To(Or(ContainSubstring("downgrading"), ContainSubstring("one minor at a time")))
		}
	})

	It("upgrades the hosted control plane: etcd, then apiservers, then the rest", func(ctx SpecContext) {
		mgmt := env.mgmt.GetClient()
		cp := controlPlaneOf(ctx, mgmt, c.result.Cluster)
		patched := cp.DeepCopy()
		Expect(unstructured.SetNestedField(patched.Object, to, "spec", "version")).To(Succeed())
		Expect(mgmt.Patch(ctx, patched, client.MergeFrom(cp))).To(Succeed())

		// While etcd rolls, the apiservers stay at the old version.
		apiserver := types.NamespacedName{Namespace: c.namespace.Name, Name: c.name + "-apiserver"}
		etcd := types.NamespacedName{Namespace: c.namespace.Name, Name: c.name + "-etcd"}
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			g.Expect(mgmt.Get(ctx, etcd, &sts)).To(Succeed())
			pinnedTo, err := env.versions.kubernetes(to)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(sts.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + pinnedTo.Etcd))
		}, c.intervals("wait-control-plane")...).Should(Succeed())
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			var d appsv1.Deployment
			g.Expect(mgmt.Get(ctx, etcd, &sts)).To(Succeed())
			g.Expect(mgmt.Get(ctx, apiserver, &d)).To(Succeed())
			if sts.Status.UpdatedReplicas < ptr.Deref(sts.Spec.Replicas, 1) || sts.Status.ReadyReplicas < ptr.Deref(sts.Spec.Replicas, 1) {
				g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":"+from), "the apiserver moved before etcd rolled out")
			}
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + to))
		}, c.intervals("wait-control-plane")...).Should(Succeed())

		waitForControlPlane(ctx, mgmt, c.result.Cluster, func(cp *unstructured.Unstructured) error {
			v, _, _ := unstructured.NestedString(cp.Object, "status", "version")
			if v != to {
				return fmt.Errorf("status.version %s, want %s", v, to)
			}
			return controlPlaneReady(cp)
		}, c.intervals("wait-control-plane")...)

		By("checking that the customer cluster's apiserver reports " + to)
		info, err := c.connect(ctx).GetClientSet().Discovery().ServerVersion()
		Expect(err).NotTo(HaveOccurred())
		Expect(info.GitVersion).To(Equal(to))
		By("checking that the add-ons follow: kube-proxy at " + to)
		Eventually(func(g Gomega) {
			var ds appsv1.DaemonSet
			g.Expect(c.connect(ctx).GetClient().Get(ctx, types.NamespacedName{Namespace: "kube-system", Name: "kube-proxy"}, &ds)).To(Succeed())
			g.Expect(ds.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + to))
		}, c.intervals("wait-control-plane")...).Should(Succeed())
		By("checking that the rolled apiservers reach the customer cluster through the tunnel again")
		expectLogsThroughTunnel(ctx, c)
	})

	It("upgrades the workers: new servers from the new version's image replace the old", func(ctx SpecContext) {
		mgmt := env.mgmt.GetClient()
		var mds clusterv1.MachineDeploymentList
		Expect(mgmt.List(ctx, &mds, client.InNamespace(c.namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: c.name})).To(Succeed())
		for i := range mds.Items {
			md := &mds.Items[i]
			orig := md.DeepCopy()
			md.Spec.Template.Spec.Version = to
			Expect(mgmt.Patch(ctx, md, client.MergeFrom(orig))).To(Succeed())
		}
		var machines []clusterv1.Machine
		Eventually(func(g Gomega) {
			var list clusterv1.MachineList
			g.Expect(mgmt.List(ctx, &list, client.InNamespace(c.namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: c.name})).To(Succeed())
			var state []string
			for _, m := range list.Items {
				state = append(state, m.Name+"="+m.Status.Phase+"/"+m.Spec.Version)
			}
			g.Expect(list.Items).To(HaveLen(1), "machines: %s", strings.Join(state, " "))
			g.Expect(list.Items[0].Spec.Version).To(Equal(to))
			g.Expect(list.Items[0].Status.Phase).To(Equal(string(clusterv1.MachinePhaseRunning)))
			machines = list.Items
		}, c.intervals("wait-worker-nodes")...).Should(Succeed())
		expectNodesOfMachines(ctx, c.connect(ctx).GetClient(), machines, to, c.intervals("wait-nodes-ready")...)
		By("checking that the tunnel's server, moved onto the new worker, carries kubectl logs again")
		expectLogsThroughTunnel(ctx, c)
	})

	It("deletes the Cluster and leaves nothing of it in fakecloud", func(ctx SpecContext) {
		if keepClusters() {
			Skip("E2E_KEEP_CLUSTERS=1: the cluster stays")
		}
		c.deleteAndWait(ctx)
		c.expectCloudClean(ctx)
	})
})

// controlPlaneOf reads the Cluster's GcoreControlPlane.
func controlPlaneOf(ctx context.Context, c client.Client, cluster *clusterv1.Cluster) *unstructured.Unstructured {
	cp := &unstructured.Unstructured{}
	cp.SetAPIVersion("controlplane.cluster.x-k8s.io/v1alpha1")
	cp.SetKind(cluster.Spec.ControlPlaneRef.Kind)
	Expect(c.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: cluster.Spec.ControlPlaneRef.Name}, cp)).To(Succeed())
	return cp
}
