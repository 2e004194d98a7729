// Package workload builds and applies what the hosted control plane puts inside a customer
// (workload) cluster through its apiserver.
//
// No `kubeadm init` runs anywhere: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler run as pods in the service cluster. So this package leaves behind what
// kubeadm init's upload-config, bootstrap-token and addon phases would have left, for
// `kubeadm join` (v1.35-v1.37) on worker machines to work:
//
//   - JoinObjects: the kube-public/cluster-info ConfigMap, kube-system/kubeadm-config and
//     kube-system/kubelet-config ConfigMaps and the kubeadm:* RBAC that lets bootstrap tokens
//     and nodes read them, get Nodes and have their CSRs approved. The bootstrap token Secret
//     itself is not among them: the bootstrap provider makes tokens.
//   - Addons: kube-proxy and CoreDNS as kubeadm deploys them, and flannel (VXLAN) as
//     hack/manifests/flannel.yaml deploys it on the project's kind clusters.
//   - Apply: server-side apply of such objects, idempotent.
//
// Names, keys and RBAC rules follow kubeadm's own code (k8s.io/kubernetes
// cmd/kubeadm/app/phases/{uploadconfig,bootstraptoken,kubelet,addons} and constants).
package workload
