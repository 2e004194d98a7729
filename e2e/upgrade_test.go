//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/test/framework"
	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The upgrade spec: a cluster at the second newest pinned version (one VM worker) moves to the
// newest: the hosted control plane first (etcd, apiservers, then the rest, while the Cluster
// stays Available), then its workers (Cluster API rolls the MachineDeployment onto servers of the
// new version's image), then the add-ons follow. `make e2e-upgrade`.
var _ = Describe("Upgrade on the sandbox: one minor, control plane then workers", Label("upgrade"), Ordered, func() {
	const spec = "upgrade"
	var (
		env           *quickstartEnv
		namespace     *corev1.Namespace
		cancelWatches context.CancelFunc
		clusterName   string
		from, to      string
		result        = new(clusterctl.ApplyClusterTemplateAndWaitResult)
		workload      framework.ClusterProxy
		baseline      map[string]string
		failed        bool
		deleted       bool
	)

	BeforeAll(func(ctx SpecContext) {
		env = newQuickstartEnv(ctx, spec)
		Expect(len(env.versions.Kubernetes)).To(BeNumerically(">=", 2), "two pinned versions are needed")
		from = env.versions.Kubernetes[len(env.versions.Kubernetes)-2].Version
		to = env.versions.Kubernetes[len(env.versions.Kubernetes)-1].Version
		DeferCleanup(func() { env.finish(failed) })
		DeferCleanup(func(ctx SpecContext) {
			if workload != nil {
				workload.Dispose(ctx)
			}
			if namespace != nil && !keepClusters() {
				bestEffort("deleting the spec's cluster and namespace", func() error {
					if !deleted {
						framework.DeleteAllClustersAndWait(ctx, framework.DeleteAllClustersAndWaitInput{
							ClusterProxy: env.mgmt, ClusterctlConfigPath: env.clusterctlConfig, Namespace: namespace.Name, ArtifactFolder: env.dir,
						}, env.intervals(spec, "wait-delete-cluster")...)
					}
					framework.DeleteNamespace(ctx, framework.DeleteNamespaceInput{Deleter: env.mgmt.GetClient(), Name: namespace.Name})
					return nil
				})
			}
			if cancelWatches != nil {
				cancelWatches()
			}
		}, NodeTimeout(10*time.Minute))
		DeferOnFailure(func(ctx SpecContext) { env.dump(ctx, namespace, clusterName, true) }, NodeTimeout(10*time.Minute))
	})

	AfterEach(func() {
		if CurrentSpecReport().Failed() {
			failed = true
		}
	})

	It("creates a cluster at the older version", func(ctx SpecContext) {
		state, err := env.cloud.state(ctx)
		Expect(err).NotTo(HaveOccurred())
		baseline = state.inventory()
		cidr, err := state.freeNodeCIDR()
		Expect(err).NotTo(HaveOccurred())
		logs := filepath.Join(env.dir, "clusters", env.mgmt.GetName())
		namespace, cancelWatches = framework.CreateNamespaceAndWatchEvents(ctx, framework.CreateNamespaceAndWatchEventsInput{
			Creator: env.mgmt.GetClient(), ClientSet: env.mgmt.GetClientSet(), Name: spec + "-" + util.RandomString(6), LogFolder: logs,
		})
		clusterName = spec + "-" + util.RandomString(6)
		clusterctl.ApplyClusterTemplateAndWait(ctx, clusterctl.ApplyClusterTemplateAndWaitInput{
			ClusterProxy: env.mgmt,
			ConfigCluster: clusterctl.ConfigClusterInput{
				LogFolder: logs, ClusterctlConfigPath: env.clusterctlConfig, KubeconfigPath: env.mgmt.GetKubeconfigPath(),
				InfrastructureProvider: gcoreProvider, Flavor: clusterctl.DefaultFlavor, Namespace: namespace.Name,
				ClusterName: clusterName, KubernetesVersion: from,
				ControlPlaneMachineCount: ptr.To[int64](1), WorkerMachineCount: ptr.To[int64](1),
				ClusterctlVariables: map[string]string{"GCORE_NODE_CIDR": cidr, "GCORE_BAREMETAL_MACHINE_COUNT": strconv.Itoa(0)},
			},
			ControlPlaneWaiters:          hostedControlPlaneWaiters(),
			WaitForClusterIntervals:      env.intervals(spec, "wait-cluster"),
			WaitForControlPlaneIntervals: env.intervals(spec, "wait-control-plane"),
			WaitForMachineDeployments:    env.intervals(spec, "wait-worker-nodes"),
		}, result)
		machines := waitForMachinesRunning(ctx, env.mgmt.GetClient(), namespace.Name, clusterName, 1, env.intervals(spec, "wait-worker-nodes")...)
		workload = env.mgmt.GetWorkloadCluster(ctx, namespace.Name, clusterName)
		expectNodesOfMachines(ctx, workload.GetClient(), machines, from, env.intervals(spec, "wait-nodes-ready")...)
	})

	It("refuses to skip a minor or to go down", func(ctx SpecContext) {
		cp := controlPlaneOf(ctx, env.mgmt.GetClient(), result.Cluster)
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
		c := env.mgmt.GetClient()
		cp := controlPlaneOf(ctx, c, result.Cluster)
		patched := cp.DeepCopy()
		Expect(unstructured.SetNestedField(patched.Object, to, "spec", "version")).To(Succeed())
		Expect(c.Patch(ctx, patched, client.MergeFrom(cp))).To(Succeed())

		// While etcd rolls, the apiservers stay at the old version.
		apiserver := types.NamespacedName{Namespace: namespace.Name, Name: clusterName + "-apiserver"}
		etcd := types.NamespacedName{Namespace: namespace.Name, Name: clusterName + "-etcd"}
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			g.Expect(c.Get(ctx, etcd, &sts)).To(Succeed())
			pinnedTo, err := env.versions.kubernetes(to)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(sts.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + pinnedTo.Etcd))
		}, env.intervals(spec, "wait-control-plane")...).Should(Succeed())
		Eventually(func(g Gomega) {
			var sts appsv1.StatefulSet
			var d appsv1.Deployment
			g.Expect(c.Get(ctx, etcd, &sts)).To(Succeed())
			g.Expect(c.Get(ctx, apiserver, &d)).To(Succeed())
			if sts.Status.UpdatedReplicas < ptr.Deref(sts.Spec.Replicas, 1) || sts.Status.ReadyReplicas < ptr.Deref(sts.Spec.Replicas, 1) {
				g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":"+from), "the apiserver moved before etcd rolled out")
			}
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + to))
		}, env.intervals(spec, "wait-control-plane")...).Should(Succeed())

		waitForControlPlane(ctx, c, result.Cluster, func(cp *unstructured.Unstructured) error {
			v, _, _ := unstructured.NestedString(cp.Object, "status", "version")
			if v != to {
				return fmt.Errorf("status.version %s, want %s", v, to)
			}
			return controlPlaneReady(cp)
		}, env.intervals(spec, "wait-control-plane")...)

		By("checking that the customer cluster's apiserver reports " + to)
		info, err := workload.GetClientSet().Discovery().ServerVersion()
		Expect(err).NotTo(HaveOccurred())
		Expect(info.GitVersion).To(Equal(to))
		By("checking that the add-ons follow: kube-proxy at " + to)
		Eventually(func(g Gomega) {
			var ds appsv1.DaemonSet
			g.Expect(workload.GetClient().Get(ctx, types.NamespacedName{Namespace: "kube-system", Name: "kube-proxy"}, &ds)).To(Succeed())
			g.Expect(ds.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":" + to))
		}, env.intervals(spec, "wait-control-plane")...).Should(Succeed())
	})

	It("upgrades the workers: new servers from the new version's image replace the old", func(ctx SpecContext) {
		c := env.mgmt.GetClient()
		var mds clusterv1.MachineDeploymentList
		Expect(c.List(ctx, &mds, client.InNamespace(namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: clusterName})).To(Succeed())
		for i := range mds.Items {
			md := &mds.Items[i]
			orig := md.DeepCopy()
			md.Spec.Template.Spec.Version = to
			Expect(c.Patch(ctx, md, client.MergeFrom(orig))).To(Succeed())
		}
		var machines []clusterv1.Machine
		Eventually(func(g Gomega) {
			var list clusterv1.MachineList
			g.Expect(c.List(ctx, &list, client.InNamespace(namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: clusterName})).To(Succeed())
			var state []string
			for _, m := range list.Items {
				state = append(state, m.Name+"="+m.Status.Phase+"/"+m.Spec.Version)
			}
			g.Expect(list.Items).To(HaveLen(1), "machines: %s", strings.Join(state, " "))
			g.Expect(list.Items[0].Spec.Version).To(Equal(to))
			g.Expect(list.Items[0].Status.Phase).To(Equal(string(clusterv1.MachinePhaseRunning)))
			machines = list.Items
		}, env.intervals(spec, "wait-worker-nodes")...).Should(Succeed())
		expectNodesOfMachines(ctx, workload.GetClient(), machines, to, env.intervals(spec, "wait-nodes-ready")...)
	})

	It("deletes the Cluster and leaves nothing of it in fakecloud", func(ctx SpecContext) {
		if keepClusters() {
			Skip("E2E_KEEP_CLUSTERS=1: the cluster stays")
		}
		framework.DeleteCluster(ctx, framework.DeleteClusterInput{Deleter: env.mgmt.GetClient(), Cluster: result.Cluster})
		framework.WaitForClusterDeleted(ctx, framework.WaitForClusterDeletedInput{
			ClusterProxy: env.mgmt, ClusterctlConfigPath: env.clusterctlConfig, Cluster: result.Cluster, ArtifactFolder: env.dir,
		}, env.intervals(spec, "wait-delete-cluster")...)
		deleted = true
		expectCloudBackTo(ctx, env, baseline, env.intervals(spec, "wait-cloud-clean")...)
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
