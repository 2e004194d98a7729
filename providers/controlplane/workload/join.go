package workload

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// JoinObjects returns what kubeadm init's upload-config and bootstrap-token phases leave in
// a cluster, minus the bootstrap token: cluster-info in kube-public, kubeadm-config and
// kubelet-config in kube-system, and the RBAC letting bootstrap tokens and nodes read them,
// get Nodes and have their CSRs approved. With them (and a token), `kubeadm join` of a
// worker works against the hosted apiserver.
func JoinObjects(p Params) ([]client.Object, error) {
	r, err := p.resolve()
	if err != nil {
		return nil, err
	}
	var objs []client.Object
	for _, build := range []func(resolved) ([]client.Object, error){
		kubeadmConfigObjects,
		kubeletConfigObjects,
		clusterInfoObjects,
	} {
		o, err := build(r)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	return append(objs, bootstrapRBAC()...), nil
}
