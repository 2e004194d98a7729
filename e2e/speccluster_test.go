//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/cluster-api/test/framework"
	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
	"sigs.k8s.io/cluster-api/util"
)

// specCluster is the one workload cluster an ordered sandbox spec makes from the gcore cluster
// template: its namespace (with events watched), fakecloud's inventory before it, clusterctl's
// result and a client to the workload cluster. newSpecCluster registers its teardown.
type specCluster struct {
	env       *quickstartEnv
	spec      string
	namespace *corev1.Namespace
	name      string
	result    *clusterctl.ApplyClusterTemplateAndWaitResult
	// baseline is fakecloud's inventory before the cluster was made.
	baseline map[string]string
	workload framework.ClusterProxy

	cancelWatches context.CancelFunc
	deleted       bool
	failed        bool
}

// clusterShape is what a spec asks the cluster template for.
type clusterShape struct {
	version          string
	controlPlane     *int64
	vmWorkers        int64
	bareMetalWorkers int
}

// newSpecCluster opens the sandbox for spec and registers, for the end of the spec's container:
// on failure a dump of the service cluster, the namespace and fakecloud (taken before anything
// is torn down), then the cluster's and namespace's deletion (unless E2E_KEEP_CLUSTERS=1) and the
// artifacts' removal if every spec passed. Call it from BeforeAll, and call markFailed from an
// AfterEach so that a failed spec keeps its artifacts.
func newSpecCluster(ctx context.Context, spec string) *specCluster {
	s := &specCluster{env: newQuickstartEnv(ctx, spec), spec: spec, result: new(clusterctl.ApplyClusterTemplateAndWaitResult)}
	DeferCleanup(func() { s.env.finish(s.failed) })
	DeferCleanup(func(ctx SpecContext) { s.teardown(ctx) }, NodeTimeout(10*time.Minute))
	DeferOnFailure(func(ctx SpecContext) { s.env.dump(ctx, s.namespace, s.name, true) }, NodeTimeout(10*time.Minute))
	return s
}

// markFailed remembers that the current spec failed; call it from an AfterEach.
func (s *specCluster) markFailed() {
	if CurrentSpecReport().Failed() {
		s.failed = true
	}
}

// intervals reads the spec's intervals from the E2EConfig.
func (s *specCluster) intervals(key string) []interface{} { return s.env.intervals(s.spec, key) }

// create records fakecloud's inventory (saying what it already holds), makes the namespace and applies the cluster template
// with shape, waiting for the Cluster, its hosted control plane and its MachineDeployments.
func (s *specCluster) create(ctx context.Context, shape clusterShape) {
	state, err := s.env.cloud.state(ctx)
	Expect(err).NotTo(HaveOccurred())
	s.baseline = state.inventory()
	noteBaseline(s.baseline)
	cidr, err := state.freeNodeCIDR()
	Expect(err).NotTo(HaveOccurred())

	logs := filepath.Join(s.env.dir, "clusters", s.env.mgmt.GetName())
	s.namespace, s.cancelWatches = framework.CreateNamespaceAndWatchEvents(ctx, framework.CreateNamespaceAndWatchEventsInput{
		Creator: s.env.mgmt.GetClient(), ClientSet: s.env.mgmt.GetClientSet(), Name: s.spec + "-" + util.RandomString(6), LogFolder: logs,
	})
	s.name = s.spec + "-" + util.RandomString(6)
	clusterctl.ApplyClusterTemplateAndWait(ctx, clusterctl.ApplyClusterTemplateAndWaitInput{
		ClusterProxy: s.env.mgmt,
		ConfigCluster: clusterctl.ConfigClusterInput{
			LogFolder:                logs,
			ClusterctlConfigPath:     s.env.clusterctlConfig,
			KubeconfigPath:           s.env.mgmt.GetKubeconfigPath(),
			InfrastructureProvider:   gcoreProvider,
			Flavor:                   clusterctl.DefaultFlavor,
			Namespace:                s.namespace.Name,
			ClusterName:              s.name,
			KubernetesVersion:        shape.version,
			ControlPlaneMachineCount: shape.controlPlane,
			WorkerMachineCount:       &shape.vmWorkers,
			ClusterctlVariables: map[string]string{
				"GCORE_NODE_CIDR":               cidr,
				"GCORE_BAREMETAL_MACHINE_COUNT": strconv.Itoa(shape.bareMetalWorkers),
			},
		},
		ControlPlaneWaiters:          hostedControlPlaneWaiters(),
		WaitForClusterIntervals:      s.intervals("wait-cluster"),
		WaitForControlPlaneIntervals: s.intervals("wait-control-plane"),
		WaitForMachineDeployments:    s.intervals("wait-worker-nodes"),
	}, s.result)
}

// connect opens (once) a client to the workload cluster through its load balancer.
func (s *specCluster) connect(ctx context.Context) framework.ClusterProxy {
	if s.workload == nil {
		s.workload = s.env.mgmt.GetWorkloadCluster(ctx, s.namespace.Name, s.name)
	}
	return s.workload
}

// deleteAndWait deletes the Cluster and waits until Cluster API has removed it.
func (s *specCluster) deleteAndWait(ctx context.Context) {
	// Not framework.DeleteClusterAndWait: its argument check, Expect(cluster).ToNot(BeEmpty()),
	// fails on any *Cluster (BeEmpty takes no struct pointer).
	framework.DeleteCluster(ctx, framework.DeleteClusterInput{Deleter: s.env.mgmt.GetClient(), Cluster: s.result.Cluster})
	framework.WaitForClusterDeleted(ctx, framework.WaitForClusterDeletedInput{
		ClusterProxy: s.env.mgmt, ClusterctlConfigPath: s.env.clusterctlConfig, Cluster: s.result.Cluster, ArtifactFolder: s.env.dir,
	}, s.intervals("wait-delete-cluster")...)
	s.deleted = true
}

// expectCloudClean waits until fakecloud holds nothing beyond the inventory taken before the
// cluster was made.
func (s *specCluster) expectCloudClean(ctx context.Context) {
	expectCloudBackTo(ctx, s.env, s.baseline, s.intervals("wait-cloud-clean")...)
}

// teardown closes the workload client and, unless E2E_KEEP_CLUSTERS=1, deletes what the spec
// left: its cluster (when a spec failed before deleting it) and its namespace.
func (s *specCluster) teardown(ctx context.Context) {
	if s.workload != nil {
		s.workload.Dispose(ctx)
	}
	if s.namespace != nil && !keepClusters() {
		bestEffort("deleting the spec's cluster and namespace", func() error {
			if !s.deleted {
				framework.DeleteAllClustersAndWait(ctx, framework.DeleteAllClustersAndWaitInput{
					ClusterProxy: s.env.mgmt, ClusterctlConfigPath: s.env.clusterctlConfig, Namespace: s.namespace.Name, ArtifactFolder: s.env.dir,
				}, s.intervals("wait-delete-cluster")...)
			}
			framework.DeleteNamespace(ctx, framework.DeleteNamespaceInput{Deleter: s.env.mgmt.GetClient(), Name: s.namespace.Name})
			return nil
		})
	}
	if s.cancelWatches != nil {
		s.cancelWatches()
	}
}
