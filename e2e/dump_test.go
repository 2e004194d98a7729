//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/test/framework"
)

// fakecloudLogCollector is the framework's ClusterLogCollector for machines of fakecloud's
// docker backend: a machine is a container (a server's, or a bare-metal host's with the
// server deployed on it), so its logs are read with docker exec.
type fakecloudLogCollector struct{}

var _ framework.ClusterLogCollector = fakecloudLogCollector{}

// machineLogs are the files written for each machine, and the command inside its container
// that produces each.
var machineLogs = map[string][]string{
	"kubelet.log":           {"journalctl", "--no-pager", "--output=short-precise", "-u", "kubelet"},
	"containerd.log":        {"journalctl", "--no-pager", "--output=short-precise", "-u", "containerd"},
	"cloud-init-output.log": {"cat", "/var/log/cloud-init-output.log"},
	"cloud-init.log":        {"cat", "/var/log/cloud-init.log"},
	"crictl-ps.txt":         {"crictl", "ps", "-a"},
	"cloud-init-status.txt": {"cloud-init", "status", "--long"},
}

// CollectMachineLog writes the logs of m's container into outputPath.
func (fakecloudLogCollector) CollectMachineLog(ctx context.Context, _ client.Client, m *clusterv1.Machine, outputPath string) error {
	id, ok := strings.CutPrefix(m.Spec.ProviderID, "openstack:///")
	if !ok || id == "" {
		return fmt.Errorf("machine %s has no OpenStack provider ID (%q): no server to read logs from", m.Name, m.Spec.ProviderID)
	}
	container, err := containerOfServer(ctx, id)
	if err != nil {
		return fmt.Errorf("machine %s: %w", m.Name, err)
	}
	if err := os.MkdirAll(outputPath, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", outputPath, err)
	}
	var errs []error
	for file, args := range machineLogs {
		out, err := exec.CommandContext(ctx, "docker", append([]string{"exec", container}, args...)...).CombinedOutput()
		if werr := os.WriteFile(filepath.Join(outputPath, file), out, 0o644); werr != nil {
			errs = append(errs, werr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("docker exec %s %s: %w", container, strings.Join(args, " "), err))
		}
	}
	return errors.Join(errs...)
}

// CollectMachinePoolLog does nothing: the sandbox's templates make no MachinePools.
func (fakecloudLogCollector) CollectMachinePoolLog(context.Context, client.Client, *clusterv1.MachinePool, string) error {
	return nil
}

// CollectInfrastructureLogs does nothing: the spec dumps fakecloud's state itself.
func (fakecloudLogCollector) CollectInfrastructureLogs(context.Context, client.Client, *clusterv1.Cluster, string) error {
	return nil
}

// containerOfServer finds the docker container a fakecloud server runs in: its own, or the
// bare-metal host it is deployed on.
func containerOfServer(ctx context.Context, serverID string) (string, error) {
	for _, label := range []string{"kaas.fakecloud/id=" + serverID, "kaas.fakecloud/instance-uuid=" + serverID} {
		out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "--filter", "label="+label, "--format", "{{.Names}}").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("docker ps --filter label=%s: %w: %s", label, err, out)
		}
		for _, name := range strings.Fields(string(out)) {
			return name, nil
		}
	}
	return "", fmt.Errorf("no docker container runs fakecloud server %s", serverID)
}

// writePodLogs writes the logs of every container of every pod in namespace (and of its
// previous run, if it restarted) into dir/namespace/pod/container.log.
func writePodLogs(ctx context.Context, cs kubernetes.Interface, namespace, dir string) error {
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing the pods of %s: %w", namespace, err)
	}
	var errs []error
	for _, p := range pods.Items {
		podDir := filepath.Join(dir, namespace, p.Name)
		if err := os.MkdirAll(podDir, 0o755); err != nil {
			return fmt.Errorf("making %s: %w", podDir, err)
		}
		for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			runs := []bool{false}
			if st.RestartCount > 0 {
				runs = append(runs, true)
			}
			for _, previous := range runs {
				raw, err := cs.CoreV1().Pods(namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: st.Name, Previous: previous}).DoRaw(ctx)
				if err != nil {
					errs = append(errs, fmt.Errorf("logs of %s/%s %s: %w", namespace, p.Name, st.Name, err))
					continue
				}
				name := st.Name + ".log"
				if previous {
					name = st.Name + ".previous.log"
				}
				if err := os.WriteFile(filepath.Join(podDir, name), raw, 0o644); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// bestEffort runs step, turning a Gomega failure or an error into a line in the Ginkgo log, so
// that one failed dump does not stop the next one or the cleanup after it.
func bestEffort(what string, step func() error) {
	var err error
	if msg := InterceptGomegaFailure(func() { err = step() }); msg != nil {
		err = msg
	}
	if err != nil {
		fmt.Fprintf(GinkgoWriter, "dumping %s: %v\n", what, err)
	}
}

// dump writes into e.dir what helps to understand a failed spec: with resources, the Cluster
// API resources of namespace, clusterctl describe, the machines' logs and the workload
// cluster's pods and nodes (Cluster API's QuickStartSpec dumps those itself); always the logs
// of the providers' pods and of the hosted control plane's pods in namespace, the service
// cluster's pods, and fakecloud's state.
func (e *quickstartEnv) dump(ctx context.Context, namespace *corev1.Namespace, clusterName string, resources bool) {
	By("dumping the service cluster, the workload cluster and fakecloud into " + e.dir)
	if resources && namespace != nil && clusterName != "" {
		cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: clusterName, Namespace: namespace.Name}}
		bestEffort("the Cluster API resources and the workload cluster", func() error {
			framework.DumpAllResourcesAndLogs(ctx, e.mgmt, e.clusterctlConfig, e.dir, namespace, cluster)
			return nil
		})
	}
	cs := e.mgmt.GetClientSet()
	namespaces := map[string]bool{}
	if namespace != nil {
		namespaces[namespace.Name] = true // the hosted control plane's pods
	}
	bestEffort("the providers' deployments", func() error {
		for _, d := range framework.GetControllerDeployments(ctx, framework.GetControllerDeploymentsInput{Lister: e.mgmt.GetClient()}) {
			namespaces[d.Namespace] = true
		}
		return nil
	})
	for ns := range namespaces {
		bestEffort("the pods of "+ns, func() error { return writePodLogs(ctx, cs, ns, filepath.Join(e.dir, "pod-logs")) })
	}
	bestEffort("kubectl get pods -A", func() error {
		out, err := kubectlGet(ctx, e.path(sandboxKubectl), e.path(sandboxKubeconfig), "pods", "-A", "-o", "wide")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(e.dir, "service-cluster-pods.txt"), []byte(out), 0o644)
	})
	bestEffort("fakecloud", func() error {
		Expect(e.cloud).NotTo(BeNil(), "no connection to fakecloud")
		return e.cloud.dumpCloud(ctx, filepath.Join(e.dir, "fakecloud"), e.path(sandboxFakecloudLog))
	})
}
