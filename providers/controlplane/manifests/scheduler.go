package manifests

import (
	"path"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// schedulerCommand is kube-scheduler's command line; it reaches the apiserver through its
// Service (the kubeconfig's server).
func schedulerCommand() []string {
	conf := path.Join(kubernetesDir, "scheduler.conf")
	return append([]string{
		"kube-scheduler",
		flag("kubeconfig", conf),
		flag("authentication-kubeconfig", conf),
		flag("authorization-kubeconfig", conf),
		flag("bind-address", "0.0.0.0"),
		flag("secure-port", names.SchedulerPort),
	}, leaderElectionFlags()...)
}

func schedulerDeployment(v valid) (*appsv1.Deployment, error) {
	n := v.PKI.Secrets
	meta, err := v.podMeta(Scheduler, n.SchedulerKubeconfig)
	if err != nil {
		return nil, err
	}
	ctr := container("kube-scheduler", "registry.k8s.io/kube-scheduler:"+v.Version, schedulerCommand(), v.Resources.Scheduler)
	ctr.Ports = []corev1.ContainerPort{{Name: "https", ContainerPort: names.SchedulerPort, Protocol: corev1.ProtocolTCP}}
	ctr.VolumeMounts = []corev1.VolumeMount{{Name: "kubernetes", MountPath: kubernetesDir, ReadOnly: true}}
	probes(&ctr, corev1.URISchemeHTTPS, names.SchedulerPort, "/livez", "/readyz")

	pod := podSpec([]corev1.Volume{projected("kubernetes",
		secretFile{n.SchedulerKubeconfig, secret.KubeconfigDataName, "scheduler.conf"},
	)}, ctr)
	return singleton(v, names.Scheduler(v.ClusterName), Scheduler, meta, pod), nil
}
