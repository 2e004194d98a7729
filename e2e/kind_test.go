//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// testImage is preloaded in every node image (hack/images/addons.sh); pods never pull.
const testImage = "kaas.local/busybox:1.35.0"

// kindCluster is one cluster of the suite, made and removed by hack/kind-cluster.sh.
type kindCluster struct {
	name, version, kubeconfig string
}

// script runs hack/kind-cluster.sh VERB for the cluster, streaming its progress to the
// Ginkgo writer.
func (k kindCluster) script(ctx context.Context, verb string, workers int) error {
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "hack", "kind-cluster.sh"), verb)
	cmd.Env = append(os.Environ(),
		"KIND_CLUSTER="+k.name, "K8S_VERSION="+k.version, "KIND_KUBECONFIG="+k.kubeconfig,
		fmt.Sprintf("KIND_WORKERS=%d", workers))
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hack/kind-cluster.sh %s for %s: %w", verb, k.name, err)
	}
	return nil
}

// exportLogs saves the cluster's node logs under the artifacts directory.
func (k kindCluster) exportLogs(ctx context.Context) {
	dir := filepath.Join(artifacts, k.name)
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "bin", "kind"), "export", "logs", "--name", k.name, dir)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(GinkgoWriter, "kind export logs for %s failed: %v\n", k.name, err)
		return
	}
	fmt.Fprintf(GinkgoWriter, "logs of %s are in %s\n", k.name, dir)
}

// runPod creates a pod that runs the test image with args on a node and waits for it to end;
// it returns the pod's log and fails the spec when the pod does not succeed.
func runPod(ctx context.Context, cs kubernetes.Interface, ns, name, node string, args ...string) string {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: testImage, ImagePullPolicy: corev1.PullNever, Args: args,
			}},
		},
	}
	_, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "creating pod %s/%s", ns, name)
	Eventually(func(g Gomega) corev1.PodPhase {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		return p.Status.Phase
	}).WithContext(ctx).WithTimeout(3*time.Minute).WithPolling(2*time.Second).
		Should(Or(Equal(corev1.PodSucceeded), Equal(corev1.PodFailed)), "pod %s/%s did not finish", ns, name)
	raw, err := cs.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
	Expect(err).NotTo(HaveOccurred(), "reading the log of pod %s/%s", ns, name)
	p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(p.Status.Phase).To(Equal(corev1.PodSucceeded), "pod %s/%s failed; its log:\n%s", ns, name, raw)
	return string(raw)
}

var _ = Describe("kind clusters on our node images", func() {
	versions, err := versionsUnderTest()
	if err != nil {
		It("reads the pinned versions", func() { Expect(err).NotTo(HaveOccurred()) })
		return
	}
	for _, v := range versions {
		Context("Kubernetes "+v.Version, Ordered, func() {
			var (
				k       kindCluster
				cs      kubernetes.Interface
				workers []string
				failed  bool
			)
			const ns = "e2e"

			BeforeAll(func(ctx SpecContext) {
				k = kindCluster{
					name:       "e2e-" + strings.NewReplacer("v", "", ".", "-").Replace(v.Version),
					version:    v.Version,
					kubeconfig: filepath.Join(repoRoot, ".cache", "kind", "e2e-"+v.Version+".kubeconfig"),
				}
				DeferCleanup(func(ctx SpecContext) {
					if failed {
						k.exportLogs(ctx)
					}
					if os.Getenv("E2E_KEEP_CLUSTERS") == "1" {
						fmt.Fprintf(GinkgoWriter, "keeping %s (E2E_KEEP_CLUSTERS=1): KUBECONFIG=%s\n", k.name, k.kubeconfig)
						return
					}
					Expect(k.script(ctx, "delete", 0)).To(Succeed())
				}, NodeTimeout(5*time.Minute))
				err := k.script(ctx, "create", 2)
				if err != nil {
					failed = true
				}
				Expect(err).NotTo(HaveOccurred())
				cfg, err := clientcmd.BuildConfigFromFlags("", k.kubeconfig)
				Expect(err).NotTo(HaveOccurred(), "loading %s", k.kubeconfig)
				cs, err = kubernetes.NewForConfig(cfg)
				Expect(err).NotTo(HaveOccurred())
				_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred(), "creating namespace %s", ns)
			}, NodeTimeout(15*time.Minute))

			AfterEach(func() {
				if CurrentSpecReport().Failed() {
					failed = true
				}
			})

			It("has one control plane and two workers, all Ready, at the right version", func(ctx SpecContext) {
				nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
				Expect(err).NotTo(HaveOccurred())
				Expect(nodes.Items).To(HaveLen(3))
				workers = nil
				for _, n := range nodes.Items {
					Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(v.Version), "kubelet of %s", n.Name)
					ready := false
					for _, c := range n.Status.Conditions {
						if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
							ready = true
						}
					}
					Expect(ready).To(BeTrue(), "node %s is not Ready", n.Name)
					if _, cp := n.Labels["node-role.kubernetes.io/control-plane"]; !cp {
						workers = append(workers, n.Name)
					}
				}
				Expect(workers).To(HaveLen(2))
			}, NodeTimeout(time.Minute))

			It("resolves a service through CoreDNS", func(ctx SpecContext) {
				svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Name: "dns-probe"},
					Spec: corev1.ServiceSpec{
						Selector: map[string]string{"app": "dns-probe"},
						Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
					},
				}, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				out := runPod(ctx, cs, ns, "nslookup", workers[0], "nslookup", "dns-probe."+ns+".svc.cluster.local")
				Expect(out).To(ContainSubstring(svc.Spec.ClusterIP), "nslookup did not return the service's ClusterIP")
			}, NodeTimeout(4*time.Minute))

			It("lets a pod on one worker reach a pod on the other", func(ctx SpecContext) {
				token := "hello-from-" + workers[0]
				server := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: "server", Namespace: ns, Labels: map[string]string{"app": "server"}},
					Spec: corev1.PodSpec{
						NodeName: workers[0],
						Containers: []corev1.Container{{
							Name: "httpd", Image: testImage, ImagePullPolicy: corev1.PullNever,
							Command: []string{"sh", "-c", "mkdir -p /www && echo " + token + " > /www/index.html && exec httpd -f -p 8080 -h /www"},
							Ports:   []corev1.ContainerPort{{ContainerPort: 8080}},
						}},
					},
				}
				_, err := cs.CoreV1().Pods(ns).Create(ctx, server, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				var ip string
				Eventually(func(g Gomega) {
					p, err := cs.CoreV1().Pods(ns).Get(ctx, "server", metav1.GetOptions{})
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning))
					g.Expect(p.Status.PodIP).NotTo(BeEmpty())
					ip = p.Status.PodIP
				}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
				// A raw HTTP request through nc: the wget of Debian's static busybox segfaults
				// (exit 139) in these pods, even against a pod on its own node.
				req := fmt.Sprintf("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 %s 8080", ip)
				out := runPod(ctx, cs, ns, "client", workers[1], "sh", "-c", req)
				Expect(out).To(ContainSubstring(token))
			}, NodeTimeout(5*time.Minute))
		})
	}
})
