package controlplane_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/fakecloud/cloudtest"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
	"github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
	"github.com/kaas-sandbox/sandbox/versions"
)

// waitVPN waits until VPNReady's status/reason/message starts with prefix.
func (f *fixture) waitVPN(cp *controlplanev1.GcoreControlPlane, prefix string) {
	f.t.Helper()
	f.eventually("VPNReady "+prefix, 30*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		c := conditionOf(cp, controlplanev1.VPNReadyCondition)
		return strings.HasPrefix(c, prefix), c
	})
}

// customerNode creates a Ready node with InternalIP ip, removed when the test ends. (The test
// API server is both clusters: the node must not stay a member of other tests' load balancers.)
func (f *fixture) customerNode(name, ip string) {
	f.t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := f.c.Create(f.ctx(), node); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = f.c.Delete(f.ctx(), node) })
	node.Status = corev1.NodeStatus{
		Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if err := f.c.Status().Update(f.ctx(), node); err != nil {
		f.t.Fatal(err)
	}
}

// testTunnel: the tunnel's load balancer (VIP in status.vpn), PKI and client Secrets, the client
// container beside kube-apiserver, the server's objects in the customer cluster; VPNReady
// waits for a node, the server and an apiserver pod, then follows the probe; the tunnel's load
// balancer in ERROR is replaced on the same VIP; the customer's deletions are put back; the
// cluster's deletion removes the load balancer.
func testTunnel(f *fixture) {
	t := f.t
	l, _ := versions.Load()
	cp := f.newControlPlane("epsilon", l.Newest().Version)
	f.rollOutUntilReady(cp, "epsilon", 60*time.Second)
	if cp.Status.VPN.Address == "" || cp.Status.VPN.LoadBalancerID == "" {
		t.Fatalf("status.vpn %+v: want the tunnel's load balancer and VIP", cp.Status.VPN)
	}
	if !strings.HasPrefix(cp.Status.VPN.Address, "172.24.4.") || cp.Status.VPN.Address == cp.Spec.ControlPlaneEndpoint.Host {
		t.Errorf("tunnel VIP %s: want its own address on the external network", cp.Status.VPN.Address)
	}
	lb, members := f.loadBalancer(cp.Status.VPN.LoadBalancerID)
	if lb.VipAddress != cp.Status.VPN.Address || len(members) != 0 {
		t.Errorf("tunnel load balancer VIP %s members %v: want %s and no member before the customer has nodes", lb.VipAddress, members, cp.Status.VPN.Address)
	}
	key := func(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }
	var pkiSec, clientSec corev1.Secret
	if err := f.c.Get(f.ctx(), key(f.ns, "epsilon-vpn"), &pkiSec); err != nil || len(pkiSec.Data[vpn.CACertKey]) == 0 || len(pkiSec.Data[vpn.TLSCryptKey]) == 0 {
		t.Errorf("the tunnel's PKI Secret epsilon-vpn: %v (keys %d)", err, len(pkiSec.Data))
	}
	if err := f.c.Get(f.ctx(), key(f.ns, "epsilon-vpn-client"), &clientSec); err != nil {
		t.Fatalf("the client Secret: %v", err)
	}
	conf := string(clientSec.Data["client.conf"])
	if !strings.Contains(conf, "remote "+cp.Status.VPN.Address+" 1194") || !strings.Contains(conf, "setenv KAAS_VPN_ROUTES 10.6.0.0/24,10.244.0.0/16,10.0.0.0/24") {
		t.Errorf("client.conf does not dial the tunnel's VIP or route the cluster's networks:\n%s", conf)
	}
	var api appsv1.Deployment
	if err := f.c.Get(f.ctx(), key(f.ns, "epsilon-apiserver"), &api); err != nil {
		t.Fatal(err)
	}
	cs := api.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[1].Name != vpn.ClientContainerName || cs[1].Image != vpn.Image || api.Spec.Template.Annotations[vpn.ConfigHashAnnotation] != vpn.Hash(conf) {
		t.Errorf("apiserver pod: want kube-apiserver and the tunnel's client, with the client config's hash; got %d containers, annotations %v", len(cs), api.Spec.Template.Annotations)
	}
	for _, o := range []client.Object{&corev1.Secret{}, &corev1.Service{}, &appsv1.Deployment{}} {
		if err := f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), o); err != nil {
			t.Errorf("the tunnel's server %T in the customer cluster: %v", o, err)
		}
	}
	f.waitVPN(cp, "False/WaitingForNodes")

	// A customer node, Ready.
	f.customerNode("epsilon-worker", "10.6.0.5")
	f.waitVPN(cp, "False/TunnelDown: the tunnel's server pod")
	var svc corev1.Service
	if err := f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), &svc); err != nil {
		t.Fatal(err)
	}
	f.eventually("the customer node behind the tunnel's load balancer", 30*time.Second, func() (bool, string) {
		_, m := f.loadBalancer(cp.Status.VPN.LoadBalancerID)
		return len(m) == 1 && m[0].Address == "10.6.0.5" && int32(m[0].ProtocolPort) == svc.Spec.Ports[0].NodePort, fmt.Sprint(m)
	})

	// The server's pod ready (the test plays kubelet), and an apiserver pod to probe from.
	var server appsv1.Deployment
	if err := f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), &server); err != nil {
		t.Fatal(err)
	}
	server.Status = appsv1.DeploymentStatus{ObservedGeneration: server.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}
	if err := f.c.Status().Update(f.ctx(), &server); err != nil {
		t.Fatal(err)
	}
	f.waitVPN(cp, "False/TunnelDown: no apiserver pod is ready")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "epsilon-apiserver-1", Namespace: f.ns, Labels: manifests.SelectorLabels("epsilon", manifests.APIServer)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "kube-apiserver", Image: "x"}}},
	}
	if err := f.c.Create(f.ctx(), pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{PodIP: "100.96.1.5", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if err := f.c.Status().Update(f.ctx(), pod); err != nil {
		t.Fatal(err)
	}
	f.waitVPN(cp, "True")
	if !f.prober.called("100.96.1.5->epsilon-worker") {
		t.Errorf("the probe asked %v; want the apiserver pod 100.96.1.5 for node epsilon-worker", f.prober.calls)
	}
	if !strings.HasPrefix(conditionOf(cp, controlplanev1.ReadyCondition), "True") {
		t.Errorf("Ready: %s", conditionOf(cp, controlplanev1.ReadyCondition))
	}

	// The tunnel breaks: VPNReady says which pod and why, and comes back by itself.
	f.prober.set(errors.New("dial tcp 10.6.0.5:10250: connect: no route to host"))
	f.waitVPN(cp, "False/TunnelDown: 1 of 1 apiserver pods do not reach the customer cluster through the tunnel: [pod epsilon-apiserver-1: dial tcp 10.6.0.5:10250: connect: no route to host]")
	if !strings.HasPrefix(conditionOf(cp, controlplanev1.ReadyCondition), "True") {
		t.Errorf("a broken tunnel should not take the control plane's Ready: %s", conditionOf(cp, controlplanev1.ReadyCondition))
	}
	f.prober.set(nil)
	f.waitVPN(cp, "True")

	// Octavia leaves the tunnel's load balancer in ERROR (the member update for a second customer
	// node hangs, then fails): the controller replaces it on the same VIP, with both nodes, and
	// the clients, which dial that VIP, need no change.
	firstLB, vip := cp.Status.VPN.LoadBalancerID, cp.Status.VPN.Address
	rule, err := f.cloud.Cloud.Faults.Add(faults.Rule{Type: faults.TypeStuck, Service: "load-balancer", Operation: loadbalancer.TaskUpdate, StuckFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.customerNode("epsilon-worker-2", "10.6.0.6")
	f.waitLoadBalancerInError("the tunnel's load balancer", firstLB)
	if _, err := f.cloud.Cloud.Faults.Remove(rule.ID); err != nil {
		t.Fatal(err)
	}
	f.eventually("a new tunnel load balancer on the same VIP, with both customer nodes", 60*time.Second, func() (bool, string) {
		if err := f.get(cp); err != nil {
			return false, err.Error()
		}
		if cp.Status.VPN.LoadBalancerID == firstLB {
			return false, "still the first load balancer: " + conditionOf(cp, controlplanev1.VPNReadyCondition)
		}
		lb, members := f.loadBalancer(cp.Status.VPN.LoadBalancerID)
		return lb.ProvisioningStatus == "ACTIVE" && len(members) == 2 && lb.VipAddress == vip, fmt.Sprintf("%s, VIP %s, %d members", lb.ProvisioningStatus, lb.VipAddress, len(members))
	})
	if cp.Status.VPN.Address != vip {
		t.Errorf("the tunnel's address moved from %s to %s: every client config changes", vip, cp.Status.VPN.Address)
	}
	f.waitVPN(cp, "True")

	// The customer deletes the server's Deployment, Service and Secret: all come back.
	for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.Secret{}} {
		o.SetNamespace(vpn.ServerNamespace)
		o.SetName(vpn.ServerName)
		if err := f.c.Delete(f.ctx(), o); err != nil {
			t.Fatal(err)
		}
	}
	f.eventually("the server's Deployment, Service and Secret put back", 20*time.Second, func() (bool, string) {
		var d appsv1.Deployment
		var s corev1.Service
		var sec corev1.Secret
		errD, errS := f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), &d), f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), &s)
		errSec := f.c.Get(f.ctx(), key(vpn.ServerNamespace, vpn.ServerName), &sec)
		return errD == nil && errS == nil && errSec == nil && d.DeletionTimestamp.IsZero() && len(sec.Data) > 0, fmt.Sprint(errD, errS, errSec)
	})

	// Deleting the control plane deletes the tunnel's load balancer.
	lbID := cp.Status.VPN.LoadBalancerID
	if err := f.c.Delete(f.ctx(), cp); err != nil {
		t.Fatal(err)
	}
	lbc := f.cloud.Client(t, cloudtest.Demo, "load-balancer")
	f.eventually("the tunnel's load balancer deleted", 30*time.Second, func() (bool, string) {
		_, err := loadbalancers.Get(f.ctx(), lbc, lbID).Extract()
		gone := err != nil && strings.Contains(err.Error(), "404")
		if !gone {
			if lb, err := loadbalancers.Get(f.ctx(), lbc, lbID).Extract(); err == nil && lb.ProvisioningStatus == "DELETED" {
				gone = true
			}
		}
		return gone, fmt.Sprint(err)
	})
	f.eventually("the GcoreControlPlane gone (its finalizer removed once both load balancers are)", 30*time.Second, func() (bool, string) {
		err := f.get(cp)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}
