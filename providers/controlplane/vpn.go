package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cluster-api/util/kubeconfig"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/apiserverlb"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/workload"
	"github.com/kaas-sandbox/sandbox/providers/vpn"
)

// How often the tunnel is checked: soon while it is down, then now and then to notice it
// breaking (and to put back a server object the customer deleted).
const (
	vpnRetry        = 3 * time.Second
	defaultVPNCheck = 15 * time.Second
)

// vpnTag is the tag of a control plane's tunnel load balancer.
func vpnTag(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return "kaas-vpn-" + hex.EncodeToString(sum[:8])
}

func (r *GcoreControlPlaneReconciler) transferCIDR() string {
	if r.TransferCIDR != "" {
		return r.TransferCIDR
	}
	return vpn.DefaultTransferCIDR
}

func (r *GcoreControlPlaneReconciler) prober() vpn.Prober {
	if r.Tunnel != nil {
		return r.Tunnel
	}
	return vpn.KubeletProber{}
}

// vpnNetworks are the customer networks the tunnel routes: the workers' subnet as GcoreCluster
// asks for it, the Cluster's pod and service ranges.
func (r *GcoreControlPlaneReconciler) vpnNetworks(ctx context.Context, s *scope) (vpn.Networks, error) {
	pods, services, _ := clusterNetwork(s.cluster)
	n := vpn.Networks{Pods: pods, Services: services}
	if s.cluster == nil || s.cluster.Spec.InfrastructureRef.Kind != "GcoreCluster" {
		return n, fmt.Errorf("the Cluster's infrastructure is not a GcoreCluster: the workers' network is unknown")
	}
	var gc infrav1.GcoreCluster
	key := types.NamespacedName{Namespace: s.cluster.Namespace, Name: s.cluster.Spec.InfrastructureRef.Name}
	if err := r.Client.Get(ctx, key, &gc); err != nil {
		return n, fmt.Errorf("reading GcoreCluster %s for the workers' network: %w", key, err)
	}
	cidr := gc.Spec.Network.CIDR
	if gc.Status.Network != nil && gc.Status.Network.Subnet.CIDR != "" {
		cidr = gc.Status.Network.Subnet.CIDR
	}
	if cidr == "" {
		return n, fmt.Errorf("GcoreCluster %s names no network CIDR yet", key)
	}
	n.Nodes = []string{cidr}
	return n, nil
}

// reservedNetworks are the service side's networks, which no customer network may overlap: the
// tunnel's transfer network and Reserved's (or ServiceClusterNetworks').
func (r *GcoreControlPlaneReconciler) reservedNetworks(ctx context.Context) ([]vpn.Reserved, error) {
	if r.Reserved == nil {
		return vpn.ReservedNetworks(ctx, r.Client, r.transferCIDR(), MemberAddressAnnotation)
	}
	out, err := vpn.ReservedNetworks(ctx, nil, r.transferCIDR())
	if err != nil {
		return nil, err
	}
	more, err := r.Reserved(ctx)
	return append(out, more...), err
}

// vpnLBSpec is the tunnel's load balancer, its VIP on the apiserver's external network (which
// reconcileEndpoint found earlier in the same reconcile).
func (r *GcoreControlPlaneReconciler) vpnLBSpec(s *scope, members []apiserverlb.Member, keep bool) apiserverlb.Spec {
	cp := s.cp
	return apiserverlb.Spec{
		Name: fmt.Sprintf("k8s-%s-%s-vpn", cp.Namespace, cp.Name), Tag: vpnTag(cp.Namespace, cp.Name),
		Description:  "OpenVPN server of cluster " + cp.Namespace + "/" + s.clusterName(),
		VIPNetworkID: s.externalNetwork, VIPAddress: cp.Status.VPN.Address, Port: vpn.Port, Members: members, KeepMembers: keep,
	}
}

// reconcileVPNClient runs before the pods: it checks the networks, makes the tunnel's load
// balancer (its VIP is what the clients dial; its members come once the customer cluster has
// nodes), the PKI and the clients' Secret, and leaves in s.vpnClient what the apiserver pods
// need. It returns an error, with VPNReady saying why, when the pods cannot be made yet.
func (r *GcoreControlPlaneReconciler) reconcileVPNClient(ctx context.Context, s *scope) error {
	cp := s.cp
	networks, err := r.vpnNetworks(ctx, s)
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.WaitingForClusterReason, "%v", err)
		return err
	}
	reserved, err := r.reservedNetworks(ctx)
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.TunnelDownReason, "%v", err)
		return err
	}
	if err := vpn.OverlapError(networks, reserved); err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.NetworkOverlapReason, "%v", err)
		return err
	}
	svc, _, err := r.lbService(ctx, cp)
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.CloudErrorReason, "%v (retrying)", err)
		return err
	}
	st, err := svc.Ensure(ctx, r.vpnLBSpec(s, nil, true))
	if st.ID != "" {
		cp.Status.VPN.LoadBalancerID = st.ID
	}
	if cp.Status.VPN.Address == "" && st.VIP != "" {
		cp.Status.VPN.Address = st.VIP
	}
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.CloudErrorReason, "the tunnel's load balancer: %v (retrying)", err)
		if cp.Status.VPN.Address == "" {
			return err
		}
		// The VIP is kept across a replacement: the pods can go on with it.
	}
	if cp.Status.VPN.Address == "" {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.CloudErrorReason, "the tunnel's load balancer %s has no VIP yet", st.ID)
		return fmt.Errorf("the tunnel's load balancer %s has no VIP yet", st.ID)
	}
	keys, err := vpn.EnsurePKI(ctx, r.Client, s.clusterName(), cp.Namespace, *ownerRef(cp))
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.ProvisioningReason, "the tunnel's certificates: %v", err)
		return err
	}
	conf, err := vpn.ClientConfig(keys, cp.Status.VPN.Address, networks, r.transferCIDR())
	if err != nil {
		setFalse(cp, controlplanev1.VPNReadyCondition, controlplanev1.ProvisioningReason, "%v", err)
		return err
	}
	vc := &vpn.Client{Cluster: s.clusterName(), Config: conf, Networks: networks}
	if err := workload.Apply(ctx, r.Client, []client.Object{vc.Secret(cp.Namespace, ownerRef(cp))}, FieldOwner); err != nil {
		return fmt.Errorf("applying the tunnel client's Secret: %w", err)
	}
	s.vpnClient, s.vpnKeys, s.vpnNetworks = vc, keys, networks
	return nil
}

// reconcileVPNServer runs once the customer cluster's apiserver answers: it puts the server's
// objects there (again, when the customer deleted or changed one), the customer's nodes behind
// the tunnel's load balancer, and probes the tunnel from every ready apiserver pod. It sets
// VPNReady and says when to look again.
func (r *GcoreControlPlaneReconciler) reconcileVPNServer(ctx context.Context, s *scope) time.Duration {
	cp := s.cp
	down := func(reason, format string, args ...any) time.Duration {
		setFalse(cp, controlplanev1.VPNReadyCondition, reason, format, args...)
		return vpnRetry
	}
	if s.vpnKeys == nil {
		return down(controlplanev1.TunnelDownReason, "the tunnel's client is not configured")
	}
	wc, err := r.Workload.Client(ctx, types.NamespacedName{Namespace: cp.Namespace, Name: s.clusterName()})
	if err != nil {
		return down(controlplanev1.WaitingForAPIServerReason, "%v", err)
	}
	objs, err := vpn.ServerObjects(vpn.ServerParams{PKI: s.vpnKeys, Networks: s.vpnNetworks, TransferCIDR: r.transferCIDR()})
	if err != nil {
		return down(controlplanev1.TunnelDownReason, "rendering the tunnel's server: %v", err)
	}
	stale, err := vpn.Stale(ctx, wc, objs)
	if err == nil && len(stale) > 0 {
		ctrl.LoggerFrom(ctx).Info("applying the tunnel's server objects in the customer cluster", "objects", len(stale))
		err = workload.Apply(ctx, wc, stale, FieldOwner)
	}
	if err != nil {
		return down(controlplanev1.TunnelDownReason, "the tunnel's server in the customer cluster: %v", err)
	}
	server, err := vpn.ReadServer(ctx, wc)
	if err != nil {
		return down(controlplanev1.TunnelDownReason, "%v", err)
	}
	var nodes corev1.NodeList
	if err := wc.List(ctx, &nodes); err != nil {
		return down(controlplanev1.TunnelDownReason, "listing the customer cluster's nodes: %v", err)
	}
	ready, members := customerNodes(nodes.Items, server.NodePort)
	if res := r.syncVPNMembers(ctx, s, members); res != "" {
		return down(controlplanev1.CloudErrorReason, "%s", res)
	}
	switch {
	case len(ready) == 0:
		return down(controlplanev1.WaitingForNodesReason, "the customer cluster has no Ready node to run the tunnel's server on")
	case server.Scaled == 0:
		return down(controlplanev1.TunnelDownReason, "the tunnel's server Deployment %s/%s is scaled to 0", vpn.ServerNamespace, vpn.ServerName)
	case server.Ready == 0:
		return down(controlplanev1.TunnelDownReason, "the tunnel's server pod in %s is not ready", vpn.ServerNamespace)
	}
	if msg := r.probeTunnel(ctx, s, ready[0]); msg != "" {
		return down(controlplanev1.TunnelDownReason, "%s", msg)
	}
	setTrue(cp, controlplanev1.VPNReadyCondition)
	if r.TunnelCheckEvery > 0 {
		return r.TunnelCheckEvery
	}
	return defaultVPNCheck
}

// customerNodes lists the Ready nodes' names and every node with an InternalIP as a member.
func customerNodes(nodes []corev1.Node, nodePort int32) (ready []string, members []apiserverlb.Member) {
	for _, n := range nodes {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = append(ready, n.Name)
			}
		}
		if nodePort == 0 {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				members = append(members, apiserverlb.Member{Address: a.Address, Port: int(nodePort)})
				break
			}
		}
	}
	sort.Strings(ready)
	sort.Slice(members, func(i, j int) bool { return members[i].Address < members[j].Address })
	return ready, members
}

// syncVPNMembers puts members behind the tunnel's load balancer, replacing one in ERROR; it
// returns what went wrong, or "".
func (r *GcoreControlPlaneReconciler) syncVPNMembers(ctx context.Context, s *scope, members []apiserverlb.Member) string {
	cp := s.cp
	svc, _, err := r.lbService(ctx, cp)
	if err != nil {
		return err.Error()
	}
	st, err := svc.Ensure(ctx, r.vpnLBSpec(s, members, false))
	if st.ID != "" {
		cp.Status.VPN.LoadBalancerID = st.ID
	}
	if err != nil {
		return fmt.Sprintf("the tunnel's load balancer: %v (retrying)", err)
	}
	if !st.Active() {
		return fmt.Sprintf("the tunnel's load balancer %s is %s", st.ID, st.ProvisioningStatus)
	}
	return ""
}

// probeTunnel asks every ready apiserver pod for the kubelet of node; it returns the failures,
// or "".
func (r *GcoreControlPlaneReconciler) probeTunnel(ctx context.Context, s *scope, node string) string {
	data, err := kubeconfig.FromSecret(ctx, r.Client, types.NamespacedName{Namespace: s.cp.Namespace, Name: s.clusterName()})
	if err != nil {
		return fmt.Sprintf("reading the admin kubeconfig: %v", err)
	}
	admin, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return fmt.Sprintf("parsing the admin kubeconfig: %v", err)
	}
	var pods corev1.PodList
	if err := r.Client.List(ctx, &pods, client.InNamespace(s.cp.Namespace), client.MatchingLabels(manifests.SelectorLabels(s.clusterName(), manifests.APIServer))); err != nil {
		return fmt.Sprintf("listing the apiserver pods: %v", err)
	}
	var failed []string
	probed := 0
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || !p.DeletionTimestamp.IsZero() || !podReady(&p) {
			continue
		}
		probed++
		if err := r.prober().Probe(ctx, admin, p.Status.PodIP, APIServerPort, node); err != nil {
			failed = append(failed, fmt.Sprintf("pod %s: %v", p.Name, err))
		}
	}
	if probed == 0 {
		return "no apiserver pod is ready to probe the tunnel from"
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Sprintf("%d of %d apiserver pods do not reach the customer cluster through the tunnel: %s", len(failed), probed, failed)
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// deleteVPN removes the tunnel's load balancer; true once it is gone. The server's objects go
// with the customer cluster, the Secrets with the GcoreControlPlane (owner references).
func (r *GcoreControlPlaneReconciler) deleteVPN(ctx context.Context, s *scope) (bool, error) {
	svc, _, err := r.lbService(ctx, s.cp)
	if err != nil {
		return false, err
	}
	return svc.Delete(ctx, vpnTag(s.cp.Namespace, s.cp.Name))
}
