package workload

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Names of kubeadm's bootstrap-token phase RBAC (kubeadm's constants).
const (
	getNodesRole                  = "kubeadm:get-nodes"
	kubeletBootstrapBinding       = "kubeadm:kubelet-bootstrap"
	nodeAutoApproveBootstrap      = "kubeadm:node-autoapprove-bootstrap"
	nodeAutoApproveRotation       = "kubeadm:node-autoapprove-certificate-rotation"
	apiServerKubeletClientBinding = "kubeadm:apiserver-kubelet-client"
	nodeBootstrapperRole          = "system:node-bootstrapper"
	csrNodeClientRole             = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	csrSelfNodeClientRole         = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
	kubeletAPIAdminRole           = "system:kubelet-api-admin"
)

// bootstrapRBAC is the cluster-scoped RBAC kubeadm's bootstrap-token phase leaves
// (bootstraptoken/node/tlsbootstrap.go): bootstrap tokens may get Nodes and post CSRs, which
// the csrapprover approves, and nodes' renewal CSRs are approved too. The ClusterRoles bound
// here, but kubeadm:get-nodes, are the apiserver's own bootstrap policy.
//
// kubeadm:apiserver-kubelet-client is kubeadm 1.36's; it is made for every version so the
// hosted apiserver's kubelet client certificate (CN kube-apiserver-kubelet-client) may call
// kubelets without being a cluster admin.
func bootstrapRBAC() []client.Object {
	getNodes := &rbacv1.ClusterRole{
		TypeMeta:   typeClusterRole,
		ObjectMeta: objectMeta("", getNodesRole, nil),
		Rules: []rbacv1.PolicyRule{{
			Verbs:     []string{"get"},
			APIGroups: []string{""},
			Resources: []string{"nodes"},
		}},
	}
	return []client.Object{
		getNodes,
		clusterRoleBinding(getNodesRole, getNodesRole, group(bootstrapTokenGroup)),
		clusterRoleBinding(kubeletBootstrapBinding, nodeBootstrapperRole, group(bootstrapTokenGroup)),
		clusterRoleBinding(nodeAutoApproveBootstrap, csrNodeClientRole, group(bootstrapTokenGroup)),
		clusterRoleBinding(nodeAutoApproveRotation, csrSelfNodeClientRole, group(nodesGroup)),
		clusterRoleBinding(apiServerKubeletClientBinding, kubeletAPIAdminRole, user(apiServerKubeletUser)),
	}
}
