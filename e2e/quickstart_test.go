//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	capie2e "sigs.k8s.io/cluster-api/test/e2e"
	"sigs.k8s.io/cluster-api/test/framework"
	"sigs.k8s.io/cluster-api/test/framework/clusterctl"
	"sigs.k8s.io/cluster-api/util"
)

// The quickstart specs run against the sandbox `make sandbox` leaves (a kind service cluster
// with cert-manager, Cluster API and the gcore providers, and fakecloud), and never install
// anything into it: `make e2e-quickstart` runs them. Both create a workload cluster from the
// infrastructure provider's cluster-template.yaml with clusterctl and delete it at the end.

// The workers of our own spec: virtual machines and bare-metal hosts.
const (
	quickstartVMWorkers        = 2
	quickstartBareMetalWorkers = 1
)

var _ = Describe("QuickStart on the sandbox: a cluster of VMs and bare metal", Label("quickstart"), Ordered, func() {
	var (
		c        *specCluster
		env      *quickstartEnv
		machines []clusterv1.Machine
		nodes    []corev1.Node
	)
	workers := quickstartVMWorkers + quickstartBareMetalWorkers

	BeforeAll(func(ctx SpecContext) {
		c = newSpecCluster(ctx, "quickstart")
		env = c.env
	})

	AfterEach(func() { c.markFailed() })

	It("creates a cluster of 2 VM and 1 bare-metal workers from the provider's cluster template", func(ctx SpecContext) {
		c.create(ctx, clusterShape{
			version:          env.kubernetesVersion(),
			controlPlane:     env.config.MustGetInt64PtrVariable("CONTROL_PLANE_MACHINE_COUNT"),
			vmWorkers:        quickstartVMWorkers,
			bareMetalWorkers: quickstartBareMetalWorkers,
		})
		Expect(c.result.MachineDeployments).To(HaveLen(2), "a MachineDeployment of VMs and one of bare metal")
		Expect(c.result.ExpectedWorkerNodes()).To(BeEquivalentTo(workers))
	})

	It("runs every Machine, and the workload cluster's Nodes are Ready", func(ctx SpecContext) {
		machines = waitForMachinesRunning(ctx, env.mgmt.GetClient(), c.namespace.Name, c.name, workers, c.intervals("wait-worker-nodes")...)
		nodes = expectNodesOfMachines(ctx, c.connect(ctx).GetClient(), machines, env.kubernetesVersion(), c.intervals("wait-nodes-ready")...)
	})

	It("gives every Node the provider ID of a fakecloud server, one of them on an Ironic node", func(ctx SpecContext) {
		state, err := env.cloud.state(ctx)
		Expect(err).NotTo(HaveOccurred())
		servers, onIronic := state.serverIDs(), state.baremetalInstances()
		var bareMetal []string
		for _, n := range nodes {
			id := serverID(n.Spec.ProviderID)
			srv, ok := servers[id]
			Expect(ok).To(BeTrue(), "Node %s has provider ID %s: fakecloud has no such server", n.Name, n.Spec.ProviderID)
			Expect(srv.Status).To(Equal("ACTIVE"), "server %s of Node %s", id, n.Name)
			labelled := n.Labels[nodeTypeLabel] == nodeTypeBareMetal
			Expect(onIronic[id]).To(Equal(labelled), "Node %s has %s=%q; is its server %s deployed on an Ironic node: %v",
				n.Name, nodeTypeLabel, n.Labels[nodeTypeLabel], id, onIronic[id])
			if labelled {
				bareMetal = append(bareMetal, n.Name)
			}
		}
		Expect(bareMetal).To(HaveLen(quickstartBareMetalWorkers), "Nodes labelled %s=%s", nodeTypeLabel, nodeTypeBareMetal)
	})

	It("shows the Cluster, its control plane, MachineDeployments and Machines ready in kubectl get", func(ctx SpecContext) {
		var out string
		Eventually(func() error {
			var err error
			out, err = kubectlGet(ctx, env.path(sandboxKubectl), env.path(sandboxKubeconfig), "clusters,gcorecontrolplanes,machinedeployments,machines", "-A")
			if err != nil {
				return err
			}
			tables, err := parseKubectlTables(out)
			if err != nil {
				return err
			}
			return clusterReadyInTables(tables, c.namespace.Name, c.name, workers)
		}, c.intervals("wait-kubectl-ready")...).Should(Succeed(), func() string { return out })
		fmt.Fprintf(GinkgoWriter, "kubectl get clusters,gcorecontrolplanes,machinedeployments,machines -A:\n%s\n", out)
	})

	It("runs a Deployment of three pods in the workload cluster", func(ctx SpecContext) {
		p, err := env.versions.kubernetes(env.kubernetesVersion())
		Expect(err).NotTo(HaveOccurred())
		d := pauseDeployment(metav1.NamespaceDefault, "quickstart-pause", "registry.k8s.io/pause:"+p.Pause, 3)
		workload := c.connect(ctx).GetClient()
		Expect(workload.Create(ctx, d)).To(Succeed())
		framework.WaitForDeploymentsAvailable(ctx, framework.WaitForDeploymentsAvailableInput{Getter: workload, Deployment: d},
			c.intervals("wait-deployment-available")...)
		Eventually(func() (int32, error) {
			got := &appsv1.Deployment{}
			err := workload.Get(ctx, client.ObjectKeyFromObject(d), got)
			return got.Status.AvailableReplicas, err
		}, c.intervals("wait-deployment-available")...).Should(BeEquivalentTo(3))
	})

	It("reaches a VM and a bare-metal worker through the reverse tunnel (logs, exec, port-forward, proxies), fails fast without it, and heals", func(ctx SpecContext) {
		expectTunnel(ctx, c, nodes)
	})

	It("deletes the Cluster and leaves nothing of it in fakecloud or the service cluster", func(ctx SpecContext) {
		if keepClusters() {
			Skip("E2E_KEEP_CLUSTERS=1: the cluster stays")
		}
		c.deleteAndWait(ctx)
		By("checking that no Cluster API object is left in " + c.namespace.Name)
		Eventually(func() []string {
			var left []string
			for _, o := range framework.GetCAPIResources(ctx, framework.GetCAPIResourcesInput{Lister: env.mgmt.GetClient(), Namespace: c.namespace.Name}) {
				left = append(left, o.GetKind()+"/"+o.GetName())
			}
			return left
		}, c.intervals("wait-cloud-clean")...).Should(BeEmpty())
		By("checking that the hosted control plane's pods are gone")
		Eventually(func() ([]string, error) {
			var pods corev1.PodList
			err := env.mgmt.GetClient().List(ctx, &pods, client.InNamespace(c.namespace.Name))
			var names []string
			for _, p := range pods.Items {
				names = append(names, p.Name)
			}
			return names, err
		}, c.intervals("wait-cloud-clean")...).Should(BeEmpty(), "pods left in %s", c.namespace.Name)
		c.expectCloudClean(ctx)
	})
})

var _ = Describe("QuickStart on the sandbox: Cluster API's QuickStartSpec", Label("quickstart"), func() {
	var (
		env         *quickstartEnv
		baseline    map[string]string
		cidr        string
		namespace   string
		clusterName string
	)

	BeforeEach(func(ctx SpecContext) {
		env = newQuickstartEnv(ctx, "capi-quick-start")
		DeferCleanup(func() { env.finish(CurrentSpecReport().Failed()) })
		state, err := env.cloud.state(ctx)
		Expect(err).NotTo(HaveOccurred())
		baseline = state.inventory()
		noteBaseline(baseline)
		cidr, err = state.freeNodeCIDR()
		Expect(err).NotTo(HaveOccurred())
		clusterName = "quick-start-" + util.RandomString(6)
		// Runs after QuickStartSpec's AfterEach, which deletes the cluster and its namespace.
		DeferCleanup(func(ctx SpecContext) {
			if !keepClusters() {
				expectCloudBackTo(ctx, env, baseline, env.intervals("quick-start", "wait-cloud-clean")...)
			}
		}, NodeTimeout(5*time.Minute))
		DeferOnFailure(func(ctx SpecContext) {
			var ns *corev1.Namespace
			if namespace != "" {
				ns = &corev1.Namespace{}
				ns.Name = namespace
			}
			env.dump(ctx, ns, clusterName, false)
		}, NodeTimeout(10*time.Minute))
	})

	Context("with the gcore providers' default cluster template", func() {
		capie2e.QuickStartSpec(context.TODO(), func() capie2e.QuickStartSpecInput {
			return capie2e.QuickStartSpecInput{
				E2EConfig:              env.config,
				ClusterctlConfigPath:   env.clusterctlConfig,
				BootstrapClusterProxy:  env.mgmt,
				ArtifactFolder:         env.dir,
				SkipCleanup:            keepClusters(),
				ClusterName:            ptr.To(clusterName),
				InfrastructureProvider: ptr.To(gcoreProvider),
				Flavor:                 ptr.To(clusterctl.DefaultFlavor),
				ControlPlaneWaiters:    hostedControlPlaneWaiters(),
				ClusterctlVariables:    map[string]string{"GCORE_NODE_CIDR": cidr},
				PostNamespaceCreated:   func(_ framework.ClusterProxy, ns string) { namespace = ns },
				PostMachinesProvisioned: func(mgmt framework.ClusterProxy, ns, cluster string) {
					ctx := context.TODO()
					want := 0
					for _, md := range framework.GetMachineDeploymentsByCluster(ctx, framework.GetMachineDeploymentsByClusterInput{
						Lister: mgmt.GetClient(), ClusterName: cluster, Namespace: ns,
					}) {
						want += int(ptr.Deref(md.Spec.Replicas, 0))
					}
					Expect(want).To(BeNumerically(">", 0), "the template's MachineDeployments ask for no workers")
					machines := waitForMachinesRunning(ctx, mgmt.GetClient(), ns, cluster, want, env.intervals("quick-start", "wait-worker-nodes")...)
					workload := mgmt.GetWorkloadCluster(ctx, ns, cluster)
					defer workload.Dispose(ctx)
					expectNodesOfMachines(ctx, workload.GetClient(), machines, env.kubernetesVersion(), env.intervals("quick-start", "wait-nodes-ready")...)
				},
			}
		})
	})
})

// expectCloudBackTo waits until fakecloud holds nothing beyond baseline: no server, load
// balancer, network, subnet, router, port, floating IP or security group, no bare-metal node
// still deployed, and no server, load balancer or router container.
func expectCloudBackTo(ctx context.Context, env *quickstartEnv, baseline map[string]string, intervals ...interface{}) {
	By("checking that fakecloud holds nothing the cluster made")
	Eventually(func() ([]string, error) {
		s, err := env.cloud.state(ctx)
		if err != nil {
			return nil, err
		}
		return leftovers(baseline, s.inventory()), nil
	}, intervals...).Should(BeEmpty(), "left in fakecloud after the cluster was deleted")
}

// noteBaseline says in the Ginkgo log when fakecloud already holds servers, load balancers or
// routers before a spec: the spec then checks only that what its own cluster made is gone.
func noteBaseline(baseline map[string]string) {
	var held []string
	for k, v := range baseline {
		if strings.HasPrefix(k, "server/") || strings.HasPrefix(k, "loadbalancer/") || strings.HasPrefix(k, "router/") {
			held = append(held, k+": "+v)
		}
	}
	if len(held) > 0 {
		sort.Strings(held)
		fmt.Fprintf(GinkgoWriter, "note: fakecloud holds these before the spec starts; they are not the spec's to delete:\n  %s\n", strings.Join(held, "\n  "))
	}
}
