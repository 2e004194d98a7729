//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// The tunnel's names, as providers/vpn makes them (the e2e module does not import the
// providers).
const (
	tunnelServerNamespace = "kube-system"
	tunnelServerName      = "kaas-vpn-server"
	tunnelClientContainer = "vpn-client"
	tunnelTestImage       = "kaas.local/busybox:1.35.0"
	tunnelTestPage        = "served-through-the-tunnel"
	// A request through a tunnel that is down fails at once; this bounds "at once" with room
	// for kubectl's own start and a busy 2-core machine.
	tunnelFailFast = 10 * time.Second
)

// kubectlRun runs kubectl against kubeconfig and returns its combined output.
func kubectlRun(ctx context.Context, kubectl, kubeconfig string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "20s"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// tunnelPod is a web server pinned to node, serving tunnelTestPage on 8080 and saying so in its log.
func tunnelPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name: "web", Image: tunnelTestImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"sh", "-c", "mkdir -p /www && echo " + tunnelTestPage + " > /www/index.html && echo web-started && exec httpd -f -p 8080 -h /www"},
				Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			}, {
				// Something to attach to: a line a second on its stdout.
				Name: "ticker", Image: tunnelTestImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"sh", "-c", "while true; do echo tick; sleep 1; done"},
			}},
		},
	}
}

// tunnelChecks runs, against one pod on one node, what needs the apiserver to dial into the
// customer cluster: logs, exec, the pod and the service proxy, port-forward. It returns the
// failures, or nothing.
func tunnelChecks(ctx context.Context, kubectl, kubeconfig, pod string) []string {
	var failed []string
	check := func(what string, want string, args ...string) {
		out, err := kubectlRun(ctx, kubectl, kubeconfig, args...)
		if err != nil || !strings.Contains(out, want) {
			failed = append(failed, fmt.Sprintf("%s: %v (output %q)", what, err, out))
		}
	}
	check("kubectl logs", "web-started", "logs", "-n", "default", pod, "-c", "web")
	check("kubectl exec", tunnelTestPage, "exec", "-n", "default", pod, "-c", "web", "--", "cat", "/www/index.html")
	check("the pod proxy", tunnelTestPage, "get", "--raw", "/api/v1/namespaces/default/pods/"+pod+":8080/proxy/")
	check("the service proxy", tunnelTestPage, "get", "--raw", "/api/v1/namespaces/default/services/"+pod+":8080/proxy/")
	if err := portForwardGet(ctx, kubectl, kubeconfig, pod); err != nil {
		failed = append(failed, "kubectl port-forward: "+err.Error())
	}
	if out := attachOutput(ctx, kubectl, kubeconfig, pod, "ticker", 5*time.Second); !strings.Contains(out, "tick") {
		failed = append(failed, fmt.Sprintf("kubectl attach: no line in 5 s (output %q)", out))
	}
	return failed
}

// attachOutput attaches to container of pod for d and returns what it printed meanwhile.
func attachOutput(ctx context.Context, kubectl, kubeconfig, pod, container string, d time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	out, _ := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "attach", "-n", "default", pod, "-c", container).CombinedOutput()
	return string(out)
}

var forwardingFrom = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)

// portForwardGet forwards a local port to pod:8080 with kubectl port-forward and fetches the
// page through it.
func portForwardGet(ctx context.Context, kubectl, kubeconfig, pod string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "port-forward", "-n", "default", "pod/"+pod, ":8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	port := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if m := forwardingFrom.FindStringSubmatch(s.Text()); m != nil {
				port <- m[1]
				return
			}
		}
		close(port)
	}()
	var p string
	select {
	case p = <-port:
	case <-ctx.Done():
	}
	if p == "" {
		return fmt.Errorf("no forwarding port announced: %s", stderr.String())
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+p+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET through the forwarded port %s: %w (%s)", p, err, stderr.String())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), tunnelTestPage) {
		return fmt.Errorf("the forwarded port %s answered %q (%s)", p, body, stderr.String())
	}
	return nil
}

// expectTunnel checks the reverse tunnel of cluster c on a VM and a bare-metal node: every
// check passes and an admission webhook served by a pod on each answers; the customer's side cannot reach the hosted etcd or open a connection to the
// apiserver through it; with the server scaled to 0 (the Cluster paused, so that the provider
// does not put it back) the same calls fail at once; the server pod deleted and the client
// container restarted, kubectl logs works again, each timed.
func expectTunnel(ctx context.Context, c *specCluster, nodes []corev1.Node) {
	env := c.env
	kubectl := env.path(sandboxKubectl)
	kubeconfig := c.connect(ctx).GetKubeconfigPath()
	workload := c.connect(ctx).GetClient()
	mgmt := env.mgmt.GetClient()

	By("waiting for VPNReady on the control plane")
	Eventually(func() (string, error) {
		return controlPlaneCondition(ctx, mgmt, c.namespace.Name, c.name, "VPNReady")
	}, c.intervals("wait-tunnel")...).Should(HavePrefix("True"))

	var pods, webhooks []string
	for _, kind := range []string{"vm", nodeTypeBareMetal} {
		var node string
		for _, n := range nodes {
			if n.Labels[nodeTypeLabel] == kind {
				node = n.Name
				break
			}
		}
		Expect(node).NotTo(BeEmpty(), "a %s node", kind)
		name := "tunnel-" + kind
		Expect(workload.Create(ctx, tunnelPod(name, node))).To(Succeed())
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(8080)}}}}
		Expect(workload.Create(ctx, svc)).To(Succeed())
		pods = append(pods, name)
		hook := "tunnel-webhook-" + kind
		Expect(deployTunnelWebhook(ctx, workload, hook, node)).To(Succeed())
		webhooks = append(webhooks, hook)
	}
	for _, p := range pods {
		By("logs, exec, the pod and service proxy and port-forward through the tunnel, pod " + p)
		Eventually(func() []string {
			return tunnelChecks(ctx, kubectl, kubeconfig, p)
		}, c.intervals("wait-tunnel")...).Should(BeEmpty(), "through the tunnel to pod %s", p)
	}
	for _, h := range webhooks {
		By("an admission webhook served by a pod of the customer cluster, through the tunnel: " + h)
		Eventually(func() error {
			return webhookRefuses(ctx, workload, h)
		}, c.intervals("wait-tunnel")...).Should(Succeed(), "admission webhook %s", h)
	}

	By("checking that the customer's side reaches neither the hosted etcd nor the apiserver's pod through the tunnel")
	server := tunnelServerPod(ctx, workload)
	var etcd corev1.PodList
	Expect(mgmt.List(ctx, &etcd, client.InNamespace(c.namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: c.name, "app.kubernetes.io/component": "etcd"})).To(Succeed())
	Expect(etcd.Items).NotTo(BeEmpty())
	targets := []string{etcd.Items[0].Status.PodIP + "/2379", "100.127.255.2/6443", "100.127.255.3/6443"}
	for _, t := range targets {
		out, err := kubectlRun(ctx, kubectl, kubeconfig, "exec", "-n", tunnelServerNamespace, server, "-c", "openvpn", "--",
			"timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/"+t)
		Expect(err).To(HaveOccurred(), "the tunnel's server pod (customer space) opened a connection to %s: %s", t, out)
	}

	By("negative control: the Cluster paused and the server scaled to 0, the same calls fail at once")
	setPaused(ctx, mgmt, c.namespace.Name, c.name, true)
	// A paused Cluster cannot be deleted: whatever happens below, it is unpaused.
	DeferCleanup(func(ctx SpecContext) { setPaused(ctx, mgmt, c.namespace.Name, c.name, false) })
	scaleServer(ctx, workload, 0)
	Eventually(func() int {
		var list corev1.PodList
		_ = workload.List(ctx, &list, client.InNamespace(tunnelServerNamespace), client.MatchingLabels{"app.kubernetes.io/name": tunnelServerName})
		return len(list.Items)
	}, c.intervals("wait-tunnel")...).Should(BeZero())
	for _, p := range pods {
		// The client notices the server's end within its ping-restart (8 s).
		Eventually(func() error {
			_, err := kubectlRun(ctx, kubectl, kubeconfig, "logs", "-n", "default", p, "-c", "web")
			return err
		}, c.intervals("wait-tunnel")...).Should(HaveOccurred(), "kubectl logs %s with no tunnel", p)
		start := time.Now()
		out, err := kubectlRun(ctx, kubectl, kubeconfig, "logs", "-n", "default", p, "-c", "web")
		took := time.Since(start)
		Expect(err).To(HaveOccurred(), "kubectl logs %s succeeded with the tunnel's server at 0: another path carries it", p)
		Expect(took).To(BeNumerically("<", tunnelFailFast), "kubectl logs %s took %s to fail: %s", p, took, out)
		fmt.Fprintf(GinkgoWriter, "with no tunnel, kubectl logs %s failed in %s: %s\n", p, took.Round(time.Millisecond), strings.TrimSpace(out))
	}
	for _, h := range webhooks {
		start := time.Now()
		err := webhookConfigMap(ctx, workload, h, "allowed")
		took := time.Since(start)
		Expect(err).To(MatchError(ContainSubstring("failed calling webhook")), "creating a configmap webhook %s sees, with the tunnel's server at 0", h)
		Expect(took).To(BeNumerically("<", tunnelFailFast), "the apiserver took %s to give up on webhook %s: %v", took, h, err)
		fmt.Fprintf(GinkgoWriter, "with no tunnel, the apiserver gave up on webhook %s in %s: %v\n", h, took.Round(time.Millisecond), err)
	}
	// (VPNReady is not looked at here: a paused Cluster's conditions are not updated. The
	// envtest of the controller covers VPNReady following the tunnel.)
	By("unpausing: the provider scales the server back and the tunnel comes back")
	start := time.Now()
	setPaused(ctx, mgmt, c.namespace.Name, c.name, false)
	waitLogs(ctx, c, kubectl, kubeconfig, pods[0])
	fmt.Fprintf(GinkgoWriter, "tunnel: server scaled back by the provider -> kubectl logs works: %s\n", time.Since(start).Round(time.Millisecond))
	for _, h := range webhooks {
		Eventually(func() error {
			return webhookRefuses(ctx, workload, h)
		}, c.intervals("wait-tunnel")...).Should(Succeed(), "admission webhook %s with the tunnel back", h)
	}

	By("deleting the server pod: kubectl logs works again")
	start = time.Now()
	Expect(workload.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tunnelServerNamespace, Name: tunnelServerPod(ctx, workload)}})).To(Succeed())
	time.Sleep(time.Second)
	waitLogs(ctx, c, kubectl, kubeconfig, pods[0])
	fmt.Fprintf(GinkgoWriter, "tunnel: server pod deleted -> kubectl logs works: %s\n", time.Since(start).Round(time.Millisecond))

	By("killing OpenVPN in the client containers beside kube-apiserver: kubectl logs fails, then works again")
	var apis corev1.PodList
	Expect(mgmt.List(ctx, &apis, client.InNamespace(c.namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: c.name, "app.kubernetes.io/component": "apiserver"})).To(Succeed())
	Expect(apis.Items).NotTo(BeEmpty())
	clientRestarts := func(pods []corev1.Pod) map[string]int32 {
		out := map[string]int32{}
		for _, p := range pods {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name == tunnelClientContainer {
					out[p.Name] = cs.RestartCount
				}
			}
		}
		return out
	}
	before := clientRestarts(apis.Items)
	start = time.Now()
	for _, p := range apis.Items {
		out, err := kubectlRun(ctx, kubectl, env.path(sandboxKubeconfig), "exec", "-n", c.namespace.Name, p.Name, "-c", tunnelClientContainer, "--",
			"bash", "-c", `n=0; for p in /proc/[0-9]*; do [[ $(cat $p/comm 2>/dev/null) == openvpn ]] && kill ${p#/proc/} && n=$((n+1)); done; ((n == 1))`)
		Expect(err).NotTo(HaveOccurred(), "killing the client's OpenVPN in %s: %s", p.Name, out)
	}
	// The client starts OpenVPN again (after 2 s) inside its container: the tunnel comes back
	// with the same address, so even the apiserver's open connections to kubelets survive it.
	for _, p := range apis.Items {
		Eventually(func() error {
			out, err := kubectlRun(ctx, kubectl, env.path(sandboxKubeconfig), "logs", "-n", c.namespace.Name, p.Name, "-c", tunnelClientContainer, "--since=60s")
			if err != nil {
				return err
			}
			exited := strings.LastIndex(out, "openvpn exited")
			if exited < 0 || strings.LastIndex(out, "routed through it") < exited {
				return fmt.Errorf("no tunnel up after OpenVPN exited in the last minute of its log:\n%s", out)
			}
			return nil
		}, c.intervals("wait-tunnel")...).Should(Succeed(), "the client of %s started OpenVPN again", p.Name)
	}
	waitLogs(ctx, c, kubectl, kubeconfig, pods[0])
	fmt.Fprintf(GinkgoWriter, "tunnel: the clients' OpenVPN killed -> kubectl logs works: %s\n", time.Since(start).Round(time.Millisecond))
	Expect(mgmt.List(ctx, &apis, client.InNamespace(c.namespace.Name), client.MatchingLabels{clusterv1.ClusterNameLabel: c.name, "app.kubernetes.io/component": "apiserver"})).To(Succeed())
	Expect(clientRestarts(apis.Items)).To(Equal(before), "a client container restarted (its apiserver pod went unready meanwhile)")
	// (The test pods stay until the cluster goes; the webhooks, which refuse what they cannot
	// reach, do not.)
	for _, h := range webhooks {
		deleteTunnelWebhook(ctx, workload, h)
	}
}

// expectLogsThroughTunnel waits for VPNReady and for `kubectl logs` of a kube-proxy pod of
// cluster c (one on a worker, as every node is) to work: after the apiservers rolled, or the
// worker that ran the tunnel's server was replaced, the tunnel is back with no human step.
func expectLogsThroughTunnel(ctx context.Context, c *specCluster) {
	kubectl := c.env.path(sandboxKubectl)
	kubeconfig := c.connect(ctx).GetKubeconfigPath()
	Eventually(func() (string, error) {
		return controlPlaneCondition(ctx, c.env.mgmt.GetClient(), c.namespace.Name, c.name, "VPNReady")
	}, c.intervals("wait-tunnel")...).Should(HavePrefix("True"))
	Eventually(func() error {
		var pods corev1.PodList
		if err := c.connect(ctx).GetClient().List(ctx, &pods, client.InNamespace("kube-system"), client.MatchingLabels{"k8s-app": "kube-proxy"}); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || !p.DeletionTimestamp.IsZero() {
				continue
			}
			_, err := kubectlRun(ctx, kubectl, kubeconfig, "logs", "-n", "kube-system", p.Name, "--tail=1")
			return err
		}
		return fmt.Errorf("no running kube-proxy pod among %d", len(pods.Items))
	}, c.intervals("wait-tunnel")...).Should(Succeed(), "kubectl logs through the tunnel")
}

// waitLogs waits until kubectl logs of pod works.
func waitLogs(ctx context.Context, c *specCluster, kubectl, kubeconfig, pod string) {
	Eventually(func() error {
		_, err := kubectlRun(ctx, kubectl, kubeconfig, "logs", "-n", "default", pod, "-c", "web")
		return err
	}, c.intervals("wait-tunnel")...).Should(Succeed())
}

// tunnelServerPod is the name of the running server pod.
func tunnelServerPod(ctx context.Context, workload client.Client) string {
	var name string
	Eventually(func() error {
		var list corev1.PodList
		if err := workload.List(ctx, &list, client.InNamespace(tunnelServerNamespace), client.MatchingLabels{"app.kubernetes.io/name": tunnelServerName}); err != nil {
			return err
		}
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp.IsZero() {
				name = p.Name
				return nil
			}
		}
		return fmt.Errorf("no running server pod among %d", len(list.Items))
	}, 2*time.Minute, time.Second).Should(Succeed())
	return name
}

func scaleServer(ctx context.Context, workload client.Client, replicas int32) {
	var d appsv1.Deployment
	Expect(workload.Get(ctx, client.ObjectKey{Namespace: tunnelServerNamespace, Name: tunnelServerName}, &d)).To(Succeed())
	before := d.DeepCopy()
	d.Spec.Replicas = ptr.To(replicas)
	Expect(workload.Patch(ctx, &d, client.MergeFrom(before))).To(Succeed())
}

func setPaused(ctx context.Context, mgmt client.Client, namespace, name string, paused bool) {
	var cl clusterv1.Cluster
	Expect(mgmt.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cl)).To(Succeed())
	before := cl.DeepCopy()
	cl.Spec.Paused = ptr.To(paused)
	Expect(mgmt.Patch(ctx, &cl, client.MergeFrom(before))).To(Succeed())
}

// controlPlaneCondition reads "status reason: message" of a condition of the cluster's
// control plane object.
func controlPlaneCondition(ctx context.Context, mgmt client.Client, namespace, cluster, t string) (string, error) {
	var cl clusterv1.Cluster
	if err := mgmt.Get(ctx, client.ObjectKey{Namespace: namespace, Name: cluster}, &cl); err != nil {
		return "", err
	}
	cp, err := getControlPlane(ctx, mgmt, &cl)
	if err != nil {
		return "", err
	}
	return conditionSummary(cp, t), nil
}
