package manifests

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// pkiDir is where the control plane containers find their certificates, as under kubeadm.
const pkiDir = "/etc/kubernetes/pki"

// objectMeta is the metadata of a component's object.
func (v valid) objectMeta(name string, c Component) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: v.Namespace, Labels: Labels(v.ClusterName, c)}
	if v.Owner != nil {
		m.OwnerReferences = []metav1.OwnerReference{*v.Owner}
	}
	return m
}

// podMeta is a component's pod-template metadata, carrying the hash of the Secrets it mounts.
func (v valid) podMeta(c Component, secrets ...string) (metav1.ObjectMeta, error) {
	h, err := v.PKI.Hash(secrets...)
	if err != nil {
		return metav1.ObjectMeta{}, fmt.Errorf("control plane %s/%s, %s: %w", v.Namespace, v.ClusterName, c, err)
	}
	return metav1.ObjectMeta{Labels: Labels(v.ClusterName, c), Annotations: map[string]string{ConfigHashAnnotation: h}}, nil
}

func (v valid) selector(c Component) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: SelectorLabels(v.ClusterName, c)}
}

// spread asks the scheduler to put a component's pods on different service-cluster nodes,
// without refusing to run them when there are fewer nodes than pods.
func (v valid) spread(c Component, pod *corev1.PodSpec, matchLabelKeys []string) {
	sel := v.selector(c)
	pod.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       corev1.LabelHostname,
		WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector:     sel,
		MatchLabelKeys:    matchLabelKeys,
	}}
	pod.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight:          100,
			PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: sel, TopologyKey: corev1.LabelHostname},
		}},
	}}
}

// podSpec is what every control plane pod shares: it talks to the customer cluster, never
// to the service cluster, so it gets no service-account token and no Service variables.
func podSpec(volumes []corev1.Volume, containers ...corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext:              &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers:                   containers,
		Volumes:                      volumes,
	}
}

// container is a control plane container: the image's binary as command (the images are
// FROM scratch, with no shell), no privileges beyond root's file access.
func container(name, image string, command []string, res corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{
		Name:            name,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         command,
		Resources:       res,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// secretFile puts key of Secret secret at path inside a projected volume.
type secretFile struct {
	secret, key, path string
}

// projected is a read-only volume assembling Secret keys at chosen paths, so that a pod
// sees only the keys it needs (a CA's certificate without its key, say).
func projected(name string, files ...secretFile) corev1.Volume {
	var sources []corev1.VolumeProjection
	index := map[string]int{}
	for _, f := range files {
		i, ok := index[f.secret]
		if !ok {
			i = len(sources)
			index[f.secret] = i
			sources = append(sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: f.secret},
			}})
		}
		s := sources[i].Secret
		s.Items = append(s.Items, corev1.KeyToPath{Key: f.key, Path: f.path})
	}
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: sources, DefaultMode: ptr.To[int32](0o600),
	}}}
}

// httpGet is a probe on path and port.
func httpGet(path string, port int32, scheme corev1.URIScheme, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(port), Scheme: scheme,
		}},
		PeriodSeconds:    period,
		TimeoutSeconds:   15,
		FailureThreshold: failures,
	}
}

// probes are a component's startup (4 minutes to come up), liveness and readiness probes. The
// startup and readiness probes ask every 2 s, not kubeadm's 10 s: each component is started only
// once the one before it is ready, so every probe period adds to the control plane's start.
func probes(c *corev1.Container, scheme corev1.URIScheme, port int32, live, ready string) {
	c.StartupProbe = httpGet(live, port, scheme, 2, 120)
	c.LivenessProbe = httpGet(live, port, scheme, 10, 8)
	c.ReadinessProbe = httpGet(ready, port, scheme, 2, 5)
}

// flag is --name=value.
func flag(name string, value any) string { return fmt.Sprintf("--%s=%v", name, value) }
