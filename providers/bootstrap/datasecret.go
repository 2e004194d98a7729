package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/cert"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/bootstrap/cloudinit"
)

// Keys of the bootstrap data secret.
const (
	// DataSecretValueKey holds the user-data (the key the Cluster API contract names).
	DataSecretValueKey = "value"
	// DataSecretFormatKey says how to read the value: DataSecretFormat.
	DataSecretFormatKey = "format"
	// DataSecretFormat is the format of the user-data.
	DataSecretFormat = "cloud-config"
	// DataSecretTokenKey holds the bootstrap token the user-data carries, so the controller
	// can keep it alive (and recreate it) in the workload cluster until the node has joined.
	DataSecretTokenKey = "bootstrap-token"
)

// errCANotReady: the cluster CA secret does not exist (yet) or holds no certificate.
var errCANotReady = errors.New("cluster CA certificate not available")

// caCertHashes returns kubeadm's pins for the cluster CA: "sha256:<hex>" of each certificate's
// SubjectPublicKeyInfo in the <cluster>-ca Secret's tls.crt.
func caCertHashes(ctx context.Context, c client.Reader, cluster *clusterv1.Cluster) ([]string, error) {
	s, err := secret.Get(ctx, c, client.ObjectKeyFromObject(cluster), secret.ClusterCA)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: secret %s/%s not found", errCANotReady, cluster.Namespace, secret.Name(cluster.Name, secret.ClusterCA))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CA secret of cluster %s/%s: %w", cluster.Namespace, cluster.Name, err)
	}
	pem := s.Data[secret.TLSCrtDataName]
	if len(pem) == 0 {
		return nil, fmt.Errorf("%w: secret %s/%s has no %s", errCANotReady, s.Namespace, s.Name, secret.TLSCrtDataName)
	}
	certs, err := cert.ParseCertsPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("parsing %s of secret %s/%s: %w", secret.TLSCrtDataName, s.Namespace, s.Name, err)
	}
	hashes := make([]string, 0, len(certs))
	for _, c := range certs {
		sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		hashes = append(hashes, "sha256:"+hex.EncodeToString(sum[:]))
	}
	return hashes, nil
}

// nodeType reads spec.type of the Machine's infrastructure object: "baremetal" makes a
// bare-metal node, anything else a VM.
func nodeType(ctx context.Context, c client.Client, machine *clusterv1.Machine) (cloudinit.NodeType, error) {
	ref := machine.Spec.InfrastructureRef
	if !ref.IsDefined() {
		return "", fmt.Errorf("machine %s/%s has no infrastructureRef", machine.Namespace, machine.Name)
	}
	mapping, err := c.RESTMapper().RESTMapping(ref.GroupKind())
	if err != nil {
		return "", fmt.Errorf("finding the API version of %s for machine %s/%s: %w", ref.GroupKind(), machine.Namespace, machine.Name, err)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(mapping.GroupVersionKind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: machine.Namespace, Name: ref.Name}, obj); err != nil {
		return "", fmt.Errorf("reading %s %s/%s of machine %s: %w", ref.Kind, machine.Namespace, ref.Name, machine.Name, err)
	}
	if t, found, err := unstructured.NestedString(obj.Object, "spec", "type"); err == nil && found && t == string(cloudinit.NodeTypeBareMetal) {
		return cloudinit.NodeTypeBareMetal, nil
	}
	return cloudinit.NodeTypeVM, nil
}

// dataSecretKey is where a config's data secret lives: same namespace, same name.
func dataSecretKey(cfg *bootstrapv1.GcoreConfig) client.ObjectKey {
	return client.ObjectKeyFromObject(cfg)
}

// getDataSecret returns the config's data secret, nil if there is none.
func getDataSecret(ctx context.Context, r client.Reader, cfg *bootstrapv1.GcoreConfig) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := r.Get(ctx, dataSecretKey(cfg), s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading bootstrap data secret %s: %w", dataSecretKey(cfg), err)
	}
	return s, nil
}

// tokenFromDataSecret returns the token kept in a data secret the config controls.
func tokenFromDataSecret(s *corev1.Secret, cfg *bootstrapv1.GcoreConfig) (bootstrapToken, error) {
	if !metav1.IsControlledBy(s, cfg) {
		return bootstrapToken{}, fmt.Errorf("secret %s/%s exists and is not controlled by GcoreConfig %s", s.Namespace, s.Name, cfg.Name)
	}
	t, err := parseBootstrapToken(string(s.Data[DataSecretTokenKey]))
	if err != nil {
		return bootstrapToken{}, fmt.Errorf("key %s of bootstrap data secret %s/%s: %w", DataSecretTokenKey, s.Namespace, s.Name, err)
	}
	return t, nil
}

// newDataSecret builds the data secret of cfg: the contract's label and controller owner
// reference, the user-data and the token it uses.
func newDataSecret(cfg *bootstrapv1.GcoreConfig, clusterName string, userData []byte, t bootstrapToken, scheme *runtime.Scheme) (*corev1.Secret, error) {
	key := dataSecretKey(cfg)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: key.Namespace,
			Name:      key.Name,
			Labels:    map[string]string{clusterv1.ClusterNameLabel: clusterName},
		},
		Type: clusterv1.ClusterSecretType,
		Data: map[string][]byte{
			DataSecretValueKey:  userData,
			DataSecretFormatKey: []byte(DataSecretFormat),
			DataSecretTokenKey:  []byte(t.String()),
		},
	}
	if err := controllerutil.SetControllerReference(cfg, s, scheme); err != nil {
		return nil, fmt.Errorf("setting the owner of bootstrap data secret %s: %w", key, err)
	}
	return s, nil
}
