package vpn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The server's objects in the customer cluster.
const (
	// ServerNamespace is where the server runs. It needs NET_ADMIN, /dev/net/tun and a
	// privileged init container: the namespace's Pod Security level must be privileged (kube-system
	// is not enforced by default).
	ServerNamespace = "kube-system"
	// ServerName names the server's Secret, Deployment and Service.
	ServerName = "kaas-vpn-server"
	// ConfigHashAnnotation carries the hash of what the provider rendered, on every object it
	// applies and on the server's pod template: an object whose hash differs (or that is gone)
	// is applied again.
	ConfigHashAnnotation = "kaas.sandbox/vpn-config-hash"
	appLabel             = "app.kubernetes.io/name"
	managedByLabel       = "app.kubernetes.io/managed-by"
	managedBy            = "gcore-controlplane"
	configDir            = "/etc/kaas-vpn"
	tunDevice            = "/dev/net/tun"
)

// ServerParams describe the server of one customer cluster.
type ServerParams struct {
	// PKI is the tunnel's key material.
	PKI *PKI
	// Networks are routed (and masqueraded) from the tunnel.
	Networks Networks
	// TransferCIDR is the tunnel's network; default DefaultTransferCIDR.
	TransferCIDR string
}

// ServerObjects renders the server's Secret (server.conf), Deployment and NodePort Service, each
// annotated with the hash of the whole set.
func ServerObjects(p ServerParams) ([]client.Object, error) {
	transfer := p.TransferCIDR
	if transfer == "" {
		transfer = DefaultTransferCIDR
	}
	if err := p.Networks.Validate(); err != nil {
		return nil, err
	}
	conf, err := ServerConfig(p.PKI, transfer)
	if err != nil {
		return nil, err
	}
	hash := Hash(conf + fmt.Sprint(p.Networks.All()) + Image)
	labels := func() map[string]string { return map[string]string{appLabel: ServerName, managedByLabel: managedBy} }
	annotations := func() map[string]string { return map[string]string{ConfigHashAnnotation: hash} }
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: ServerName, Namespace: ServerNamespace, Labels: labels(), Annotations: annotations()}
	}
	sec := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(),
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"server.conf": []byte(conf)},
	}
	svc := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{appLabel: ServerName},
			Ports:    []corev1.ServicePort{{Name: "openvpn", Port: Port, TargetPort: intstr.FromString("openvpn"), Protocol: corev1.ProtocolTCP}},
		},
	}
	dep := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{appLabel: ServerName}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(), Annotations: annotations()}, Spec: serverPod(p.Networks, transfer)},
		},
	}
	return []client.Object{sec, svc, dep}, nil
}

func serverPod(n Networks, transfer string) corev1.PodSpec {
	env := []corev1.EnvVar{{Name: "VPN_ROUTES", Value: strings.Join(n.All(), ",")}, {Name: "VPN_TRANSFER", Value: transfer}}
	return corev1.PodSpec{
		PriorityClassName:            "system-cluster-critical",
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		// Off a failed node in 30 s rather than the default 300 s.
		Tolerations: []corev1.Toleration{
			{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
			{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](30)},
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](30)},
		},
		InitContainers: []corev1.Container{{
			Name: "network", Image: Image, ImagePullPolicy: corev1.PullIfNotPresent,
			Args: []string{"server-init"}, Env: env,
			// Forwarding is a sysctl of the pod's network namespace, read-only to
			// unprivileged containers.
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}},
		Containers: []corev1.Container{{
			Name: "openvpn", Image: Image, ImagePullPolicy: corev1.PullIfNotPresent,
			Args: []string{"server"}, Env: env,
			Ports: []corev1.ContainerPort{{Name: "openvpn", ContainerPort: Port, Protocol: corev1.ProtocolTCP}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}},
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/usr/local/bin/kaas-vpn", "ready"}}},
				PeriodSeconds: 2, TimeoutSeconds: 2, FailureThreshold: 3,
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: configDir, ReadOnly: true}, {Name: "tun", MountPath: tunDevice}},
		}},
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: ServerName, DefaultMode: ptr.To[int32](0o400)}}},
			tunVolume(),
		},
	}
}

func tunVolume() corev1.Volume {
	return corev1.Volume{Name: "tun", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: tunDevice, Type: ptr.To(corev1.HostPathCharDev)}}}
}

// Stale returns the objects of want that are missing in the cluster c reads, whose
// ConfigHashAnnotation differs, or (the Deployment) scaled to other replicas: the ones to apply
// again. Reading is cheap next to applying, so
// the controller can look every few seconds and put back what a customer deleted at once.
func Stale(ctx context.Context, c client.Client, want []client.Object) ([]client.Object, error) {
	var out []client.Object
	var errs []error
	for _, o := range want {
		live := o.DeepCopyObject().(client.Object)
		err := c.Get(ctx, types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}, live)
		switch {
		case apierrors.IsNotFound(err):
			out = append(out, o)
		case err != nil:
			errs = append(errs, fmt.Errorf("reading %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err))
		case live.GetAnnotations()[ConfigHashAnnotation] != o.GetAnnotations()[ConfigHashAnnotation] || !live.GetDeletionTimestamp().IsZero() || scaledAway(live, o):
			out = append(out, o)
		}
	}
	return out, errors.Join(errs...)
}

// scaledAway reports whether a live Deployment runs other replicas than wanted (a customer
// scaled the server to 0).
func scaledAway(live, want client.Object) bool {
	l, ok1 := live.(*appsv1.Deployment)
	w, ok2 := want.(*appsv1.Deployment)
	return ok1 && ok2 && ptr.Deref(l.Spec.Replicas, 1) != ptr.Deref(w.Spec.Replicas, 1)
}

// ServerState is what the customer cluster says of the server.
type ServerState struct {
	// NodePort is the Service's node port, the load balancer members' port (0 until allocated).
	NodePort int32
	// Ready is the number of ready server pods.
	Ready int32
	// Scaled is the Deployment's desired replicas.
	Scaled int32
}

// ReadServer reads the server's Service and Deployment.
func ReadServer(ctx context.Context, c client.Client) (ServerState, error) {
	var st ServerState
	var svc corev1.Service
	if err := c.Get(ctx, types.NamespacedName{Namespace: ServerNamespace, Name: ServerName}, &svc); err != nil {
		return st, fmt.Errorf("reading Service %s/%s: %w", ServerNamespace, ServerName, err)
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == "openvpn" {
			st.NodePort = p.NodePort
		}
	}
	var dep appsv1.Deployment
	if err := c.Get(ctx, types.NamespacedName{Namespace: ServerNamespace, Name: ServerName}, &dep); err != nil {
		return st, fmt.Errorf("reading Deployment %s/%s: %w", ServerNamespace, ServerName, err)
	}
	st.Ready = dep.Status.ReadyReplicas
	st.Scaled = ptr.Deref(dep.Spec.Replicas, 1)
	return st, nil
}
