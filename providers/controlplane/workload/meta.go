package workload

import (
	"crypto/sha256"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// ManagedByLabel is put on every object this package makes.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is ManagedByLabel's value.
	ManagedByValue = "gcore-controlplane"

	// componentConfigHashAnnotation marks a component config ConfigMap as kubeadm-generated
	// (kubeadm's constants.ComponentConfigHashAnnotationKey); kubeadm compares it with a
	// checksum of the data to tell its own config from a user-supplied one.
	componentConfigHashAnnotation = "kubeadm.kubernetes.io/component-config.hash"

	// Groups and users kubeadm grants rights to (kubeadm's constants).
	bootstrapTokenGroup  = "system:bootstrappers:kubeadm:default-node-token"
	nodesGroup           = "system:nodes"
	anonymousUser        = "system:anonymous"
	apiServerKubeletUser = "kube-apiserver-kubelet-client"

	namespaceSystem = metav1.NamespaceSystem
	namespacePublic = metav1.NamespacePublic
)

var (
	typeNamespace          = metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
	typeConfigMap          = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	typeServiceAccount     = metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}
	typeService            = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	typeRole               = metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"}
	typeRoleBinding        = metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"}
	typeClusterRole        = metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}
	typeClusterRoleBinding = metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}
	typeDaemonSet          = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}
	typeDeployment         = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
)

// objectMeta returns the metadata of an object this package makes: its name, namespace and
// labels, plus the managed-by label.
func objectMeta(namespace, name string, labels map[string]string) metav1.ObjectMeta {
	l := map[string]string{ManagedByLabel: ManagedByValue}
	for k, v := range labels {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: l}
}

// configMapReader is a Role allowing get on one ConfigMap, and the RoleBinding giving it to
// subjects: the pattern kubeadm uses for every ConfigMap joining nodes must read.
func configMapReader(namespace, name, configMap string, subjects ...rbacv1.Subject) (*rbacv1.Role, *rbacv1.RoleBinding) {
	role := &rbacv1.Role{
		TypeMeta:   typeRole,
		ObjectMeta: objectMeta(namespace, name, nil),
		Rules: []rbacv1.PolicyRule{{
			Verbs:         []string{"get"},
			APIGroups:     []string{""},
			Resources:     []string{"configmaps"},
			ResourceNames: []string{configMap},
		}},
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   typeRoleBinding,
		ObjectMeta: objectMeta(namespace, name, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   subjects,
	}
	return role, binding
}

// clusterRoleBinding binds the ClusterRole role to subjects under the name name.
func clusterRoleBinding(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   typeClusterRoleBinding,
		ObjectMeta: objectMeta("", name, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func group(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: name} }

func user(name string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: name} }

func serviceAccount(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

// signConfigMap annotates cm with the checksum kubeadm puts on the component config
// ConfigMaps it generates itself (componentconfigs.SignConfigMap): sha256 over the values of
// data, then binaryData, each in key order.
func signConfigMap(cm *corev1.ConfigMap) {
	h := sha256.New()
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Write([]byte(cm.Data[k]))
	}
	keys = keys[:0]
	for k := range cm.BinaryData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Write(cm.BinaryData[k])
	}
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[componentConfigHashAnnotation] = fmt.Sprintf("sha256:%x", h.Sum(nil))
}
