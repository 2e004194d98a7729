package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/cloudclient"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/apiserverlb"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
	"github.com/kaas-sandbox/sandbox/providers/controlplane/workload"
	"github.com/kaas-sandbox/sandbox/providers/infrastructure/networking"
)

// APIServerPort is the apiserver's port on the load balancer's VIP (and in the pods).
const APIServerPort = 6443

// MemberAddressAnnotation on a service-cluster Node names the address the load balancer
// reaches it at; without it the node's InternalIP is used. The sandbox sets it to the node's
// address on the cloud's external network.
const MemberAddressAnnotation = "kaas.sandbox/lb-member-address"

// lbTag is the tag of a control plane's load balancer.
func lbTag(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return "kaas-apiserver-" + hex.EncodeToString(sum[:8])
}

func (r *GcoreControlPlaneReconciler) lbService(ctx context.Context, cp *controlplanev1.GcoreControlPlane) (apiserverlb.Service, *cloudclient.Clients, error) {
	cc, err := r.Clouds.Clients(ctx, cloudclient.Identity{Namespace: cp.Namespace, Secret: cp.Spec.IdentityRef.Name, CloudName: cp.Spec.IdentityRef.CloudName})
	if err != nil {
		return apiserverlb.Service{}, nil, err
	}
	return apiserverlb.Service{Client: cc.LoadBalancer}, cc, nil
}

// ensureAPIServerService applies the apiserver's NodePort Service and returns its node port.
func (r *GcoreControlPlaneReconciler) ensureAPIServerService(ctx context.Context, s *scope) (int32, error) {
	svc := manifests.APIServerService(s.clusterName(), s.cp.Namespace, ownerRef(s.cp))
	if err := workload.Apply(ctx, r.Client, []client.Object{svc}, FieldOwner); err != nil {
		return 0, fmt.Errorf("applying the apiserver Service: %w", err)
	}
	var live corev1.Service
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.cp.Namespace, Name: names.APIServer(s.clusterName())}, &live); err != nil {
		return 0, fmt.Errorf("reading the apiserver Service: %w", err)
	}
	for _, p := range live.Spec.Ports {
		if p.NodePort != 0 {
			return p.NodePort, nil
		}
	}
	return 0, fmt.Errorf("the apiserver Service %s has no node port yet", live.Name)
}

// members lists the service cluster's schedulable nodes as load balancer members.
func (r *GcoreControlPlaneReconciler) members(ctx context.Context, nodePort int32) ([]apiserverlb.Member, error) {
	var nodes corev1.NodeList
	if err := r.Client.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing the service cluster's nodes: %w", err)
	}
	var out []apiserverlb.Member
	for _, n := range nodes.Items {
		if addr := memberAddress(&n); addr != "" {
			out = append(out, apiserverlb.Member{Address: addr, Port: int(nodePort)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

func memberAddress(n *corev1.Node) string {
	if n.Spec.Unschedulable {
		return ""
	}
	if a := n.Annotations[MemberAddressAnnotation]; a != "" {
		return a
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// nodeMembershipChanged lets through node events that change the member list.
func nodeMembershipChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Node)
			n, ok2 := e.ObjectNew.(*corev1.Node)
			return ok1 && ok2 && memberAddress(o) != memberAddress(n)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// reconcileEndpoint makes the load balancer and sets spec.controlPlaneEndpoint to its VIP.
func (r *GcoreControlPlaneReconciler) reconcileEndpoint(ctx context.Context, s *scope, nodePort int32) (ctrl.Result, error) {
	cp := s.cp
	svc, cc, err := r.lbService(ctx, cp)
	if err != nil {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.CloudErrorReason, "%v (retrying)", err)
		return ctrl.Result{}, err
	}
	ext, err := networking.Service{Client: cc.Network}.ExternalNetwork(ctx, cp.Spec.LoadBalancer.ExternalNetworkID)
	if err != nil {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.CloudErrorReason, "%v", err)
		return ctrl.Result{RequeueAfter: 4 * retryShort}, nil
	}
	s.externalNetwork = ext
	members, err := r.members(ctx, nodePort)
	if err != nil {
		return ctrl.Result{}, err
	}
	st, err := svc.Ensure(ctx, apiserverlb.Spec{
		Name: fmt.Sprintf("k8s-%s-%s-apiserver", cp.Namespace, cp.Name), Tag: lbTag(cp.Namespace, cp.Name),
		VIPNetworkID: ext, VIPAddress: cp.Spec.ControlPlaneEndpoint.Host, Port: APIServerPort, Members: members,
	})
	if st.ID != "" {
		cp.Status.LoadBalancerID = st.ID
	}
	if err != nil {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.CloudErrorReason, "%v (retrying)", err)
		return ctrl.Result{}, err
	}
	// Octavia gives the VIP when it accepts the load balancer, long before the amphora is up:
	// it is the endpoint from then on (a load balancer made again asks for the same VIP), so the
	// PKI and the pods do not wait for the load balancer.
	if !cp.Spec.ControlPlaneEndpoint.IsValid() && st.VIP != "" {
		cp.Spec.ControlPlaneEndpoint = clusterv1.APIEndpoint{Host: st.VIP, Port: APIServerPort}
	}
	if !st.Active() {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.ProvisioningReason, "load balancer %s is %s", st.ID, st.ProvisioningStatus)
		// Come back for the load balancer; with the VIP known, the caller goes on with the pods
		// meanwhile.
		return ctrl.Result{RequeueAfter: retryShort}, nil
	}
	if len(members) == 0 {
		setFalse(cp, controlplanev1.EndpointReadyCondition, controlplanev1.ProvisioningReason, "the service cluster has no schedulable node to put behind load balancer %s", st.ID)
		return ctrl.Result{}, nil
	}
	setTrue(cp, controlplanev1.EndpointReadyCondition)
	return ctrl.Result{}, nil
}

// deleteEndpoint removes the load balancer; true once it is gone.
func (r *GcoreControlPlaneReconciler) deleteEndpoint(ctx context.Context, s *scope) (bool, error) {
	svc, _, err := r.lbService(ctx, s.cp)
	if err != nil {
		return false, err
	}
	return svc.Delete(ctx, lbTag(s.cp.Namespace, s.cp.Name))
}
