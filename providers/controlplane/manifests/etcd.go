package manifests

import (
	"fmt"
	"path"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/secret"

	"github.com/kaas-sandbox/sandbox/providers/controlplane/manifests/names"
)

// Where the etcd container keeps things. The data directory is a subdirectory of the volume,
// so that whatever the volume's root holds (lost+found) is not mistaken for etcd data.
const (
	etcdVolumeDir = "/var/lib/etcd"
	etcdDataDir   = etcdVolumeDir + "/data"
	etcdPKIDir    = pkiDir + "/etcd"
	// etcdDataVolume names the StatefulSet's volume claim template (PVCs data-<pod>).
	etcdDataVolume = "data"
	// maxEtcdQuota caps --quota-backend-bytes at etcd's recommended maximum.
	maxEtcdQuota = 8 << 30
)

func etcdPorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: "client", Port: names.EtcdClientPort, TargetPort: intstr.FromString("client"), Protocol: corev1.ProtocolTCP},
		{Name: "peer", Port: names.EtcdPeerPort, TargetPort: intstr.FromString("peer"), Protocol: corev1.ProtocolTCP},
	}
}

// etcdHeadlessService gives each member the DNS name <pod>.<cluster>-etcd.<ns>.svc, from the
// moment its pod has an address (members must find each other before any is ready).
func etcdHeadlessService(v valid) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: v.objectMeta(names.Etcd(v.ClusterName), Etcd),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 SelectorLabels(v.ClusterName, Etcd),
			Ports:                    etcdPorts(),
		},
	}
}

// etcdClientService balances kube-apiserver's connections over the ready members.
func etcdClientService(v valid) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: v.objectMeta(names.EtcdClient(v.ClusterName), Etcd),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: SelectorLabels(v.ClusterName, Etcd),
			Ports:    etcdPorts()[:1],
		},
	}
}

// etcdCommand is the etcd container's command line. $(POD_NAME) is expanded by the kubelet
// from the container's environment.
func etcdCommand(v valid) []string {
	c, ns := v.ClusterName, v.Namespace
	self := "$(POD_NAME)." + names.ServiceHost(names.Etcd(c), ns)
	quota := v.Etcd.StorageSize.Value() / 2
	if quota > maxEtcdQuota {
		quota = maxEtcdQuota
	}
	cmd := []string{
		"etcd",
		flag("name", "$(POD_NAME)"),
		flag("data-dir", etcdDataDir),
		flag("listen-client-urls", fmt.Sprintf("https://0.0.0.0:%d", names.EtcdClientPort)),
		flag("advertise-client-urls", fmt.Sprintf("https://%s:%d", self, names.EtcdClientPort)),
		flag("listen-peer-urls", fmt.Sprintf("https://0.0.0.0:%d", names.EtcdPeerPort)),
		flag("initial-advertise-peer-urls", fmt.Sprintf("https://%s:%d", self, names.EtcdPeerPort)),
		flag("listen-metrics-urls", fmt.Sprintf("http://0.0.0.0:%d", names.EtcdMetricsPort)),
		// Used only while the data directory is empty; a member restarted on its volume
		// rejoins from what it stored.
		flag("initial-cluster", names.EtcdInitialCluster(c, ns, int(v.Etcd.Replicas))),
		flag("initial-cluster-state", "new"),
		flag("initial-cluster-token", ns+"-"+names.Etcd(c)),
		flag("client-cert-auth", true),
		flag("trusted-ca-file", path.Join(etcdPKIDir, "ca.crt")),
		flag("cert-file", path.Join(etcdPKIDir, "server.crt")),
		flag("key-file", path.Join(etcdPKIDir, "server.key")),
		flag("peer-client-cert-auth", true),
		flag("peer-trusted-ca-file", path.Join(etcdPKIDir, "ca.crt")),
		flag("peer-cert-file", path.Join(etcdPKIDir, "peer.crt")),
		flag("peer-key-file", path.Join(etcdPKIDir, "peer.key")),
		flag("snapshot-count", 10000),
	}
	if quota > 0 {
		// Half the volume: the alarm must fire before the disk fills up with the database,
		// its WAL and snapshots.
		cmd = append(cmd, flag("quota-backend-bytes", quota))
	}
	return cmd
}

func etcdStatefulSet(v valid) (*appsv1.StatefulSet, error) {
	n := v.PKI.Secrets
	meta, err := v.podMeta(Etcd, n.EtcdCA, n.EtcdServer, n.EtcdPeer)
	if err != nil {
		return nil, err
	}
	ctr := container("etcd", "registry.k8s.io/etcd:"+v.release.Etcd, etcdCommand(v), v.Resources.Etcd)
	ctr.Env = []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	ctr.Ports = []corev1.ContainerPort{
		{Name: "client", ContainerPort: names.EtcdClientPort, Protocol: corev1.ProtocolTCP},
		{Name: "peer", ContainerPort: names.EtcdPeerPort, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: names.EtcdMetricsPort, Protocol: corev1.ProtocolTCP},
	}
	ctr.VolumeMounts = []corev1.VolumeMount{
		{Name: etcdDataVolume, MountPath: etcdVolumeDir},
		{Name: "pki", MountPath: etcdPKIDir, ReadOnly: true},
	}
	// /livez answers from the member alone; /readyz wants quorum, so only a member of a
	// working cluster receives apiserver traffic.
	probes(&ctr, corev1.URISchemeHTTP, names.EtcdMetricsPort, "/livez", "/readyz")

	pod := podSpec([]corev1.Volume{projected("pki",
		secretFile{n.EtcdCA, secret.TLSCrtDataName, "ca.crt"},
		secretFile{n.EtcdServer, secret.TLSCrtDataName, "server.crt"},
		secretFile{n.EtcdServer, secret.TLSKeyDataName, "server.key"},
		secretFile{n.EtcdPeer, secret.TLSCrtDataName, "peer.crt"},
		secretFile{n.EtcdPeer, secret.TLSKeyDataName, "peer.key"},
	)}, ctr)
	v.spread(Etcd, &pod, nil)

	claim := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: etcdDataVolume, Labels: Labels(v.ClusterName, Etcd)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: v.Etcd.StorageSize}},
		},
	}
	if v.Etcd.StorageClassName != "" {
		claim.Spec.StorageClassName = ptr.To(v.Etcd.StorageClassName)
	}

	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: v.objectMeta(names.Etcd(v.ClusterName), Etcd),
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(v.Etcd.Replicas),
			ServiceName: names.Etcd(v.ClusterName),
			// All members start at once: a 3-member cluster has no quorum, so no ready
			// member, until at least two run.
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            v.selector(Etcd),
			Template:            corev1.PodTemplateSpec{ObjectMeta: meta, Spec: pod},
			// The claim templates cannot change once the StatefulSet exists.
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
			// The StatefulSet goes when its owner does; its volumes go with it.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}, nil
}
