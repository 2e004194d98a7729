//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/test/framework"
)

// Provider IDs and node labels our providers give workers.
const (
	openstackProviderIDPrefix = "openstack:///"
	nodeTypeLabel             = "node.kaas.sandbox/type"
	nodeTypeBareMetal         = "baremetal"
)

// waitForMachinesRunning waits until the cluster has want Machines, every one Running with a
// Node, and returns them.
func waitForMachinesRunning(ctx context.Context, c client.Client, namespace, cluster string, want int, intervals ...interface{}) []clusterv1.Machine {
	By(fmt.Sprintf("waiting for %d Machines of %s to be Running", want, cluster))
	var machines []clusterv1.Machine
	Eventually(func(g Gomega) {
		var list clusterv1.MachineList
		g.Expect(c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{clusterv1.ClusterNameLabel: cluster})).To(Succeed())
		g.Expect(list.Items).To(HaveLen(want))
		for _, m := range list.Items {
			g.Expect(m.Status.Phase).To(Equal(string(clusterv1.MachinePhaseRunning)), "phase of Machine %s", m.Name)
			g.Expect(m.Status.NodeRef.IsDefined()).To(BeTrue(), "Machine %s has no Node", m.Name)
		}
		machines = list.Items
	}, intervals...).Should(Succeed())
	return machines
}

// expectNodesOfMachines waits until the workload cluster's Nodes are exactly the Machines'
// Nodes, all Ready at version, and checks that each has its Machine's provider ID, which is an
// OpenStack one. It returns the Nodes.
func expectNodesOfMachines(ctx context.Context, workload client.Client, machines []clusterv1.Machine, version string, intervals ...interface{}) []corev1.Node {
	By(fmt.Sprintf("waiting for %d Nodes to be Ready at %s", len(machines), version))
	framework.WaitForNodesReady(ctx, framework.WaitForNodesReadyInput{
		Lister: workload, KubernetesVersion: version, Count: len(machines), WaitForNodesReady: intervals,
	})
	var nodes corev1.NodeList
	Expect(workload.List(ctx, &nodes)).To(Succeed())
	byName := map[string]corev1.Node{}
	for _, n := range nodes.Items {
		Expect(n.Spec.ProviderID).To(HavePrefix(openstackProviderIDPrefix), "provider ID of Node %s", n.Name)
		byName[n.Name] = n
	}
	for _, m := range machines {
		n, ok := byName[m.Status.NodeRef.Name]
		Expect(ok).To(BeTrue(), "Machine %s names Node %s, which the workload cluster does not have", m.Name, m.Status.NodeRef.Name)
		Expect(n.Spec.ProviderID).To(Equal(m.Spec.ProviderID), "provider IDs of Machine %s and its Node", m.Name)
	}
	return nodes.Items
}

// serverID is the server UUID of an openstack:/// provider ID.
func serverID(providerID string) string {
	return strings.TrimPrefix(providerID, openstackProviderIDPrefix)
}

// pauseDeployment is a Deployment of replicas pods running the pause image the nodes have
// preloaded (never pulled: no registry is reachable).
func pauseDeployment(namespace, name, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "pause", Image: image, ImagePullPolicy: corev1.PullIfNotPresent}},
				},
			},
		},
	}
}
