package hostpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// Annotations of the volume-provisioning protocol (set by kube-controller-manager, the
// scheduler and provisioners).
const (
	// AnnStorageProvisioner names the provisioner a claim waits for (PV controller).
	AnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	// AnnBetaStorageProvisioner is its older spelling, still set alongside.
	AnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	// AnnSelectedNode is the node the scheduler chose for a WaitForFirstConsumer claim.
	AnnSelectedNode = "volume.kubernetes.io/selected-node"
	// AnnProvisionedBy names the provisioner that made a volume.
	AnnProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

// DefaultName is the provisioner name the sandbox's StorageClass uses.
const DefaultName = "kaas.local/hostpath"

// Config says which claims an instance serves and where their directories go.
type Config struct {
	// Name is the provisioner name StorageClasses give (DefaultName).
	Name string
	// Node is the node this instance runs on: it serves claims the scheduler put there.
	Node string
	// BaseDir holds the volumes' directories; the same path on the node and in the pod.
	BaseDir string
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("no provisioner name"))
	}
	if c.Node == "" {
		errs = append(errs, errors.New("no node name (set --node, or NODE_NAME from the pod's spec.nodeName)"))
	}
	if !filepath.IsAbs(c.BaseDir) || filepath.Clean(c.BaseDir) == "/" {
		errs = append(errs, fmt.Errorf("base directory %q must be an absolute path below /", c.BaseDir))
	}
	return errors.Join(errs...)
}

// wants reports whether this instance should provision a volume for claim.
func (c Config) wants(claim *corev1.PersistentVolumeClaim) bool {
	if claim.DeletionTimestamp != nil || claim.Spec.VolumeName != "" || claim.Status.Phase != corev1.ClaimPending {
		return false
	}
	a := claim.Annotations
	if a[AnnStorageProvisioner] != c.Name && a[AnnBetaStorageProvisioner] != c.Name {
		return false
	}
	return a[AnnSelectedNode] == c.Node
}

// VolumeName is the PersistentVolume made for a claim (the convention external provisioners
// follow), so that a retried provisioning finds its own volume.
func VolumeName(claimUID types.UID) string {
	return "pvc-" + string(claimUID)
}

// dirFor is the directory of claim's volume.
func (c Config) dirFor(claim *corev1.PersistentVolumeClaim) string {
	return filepath.Join(c.BaseDir, fmt.Sprintf("%s_%s_%s", VolumeName(claim.UID), claim.Namespace, claim.Name))
}

// ownDir returns the directory of a volume this instance made, or an error when the volume's
// path is not a direct child of BaseDir (a volume it must not touch).
func (c Config) ownDir(pv *corev1.PersistentVolume) (string, error) {
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("volume %s has no hostPath", pv.Name)
	}
	p := filepath.Clean(pv.Spec.HostPath.Path)
	if filepath.Dir(p) != filepath.Clean(c.BaseDir) || !strings.HasPrefix(filepath.Base(p), pv.Name+"_") {
		return "", fmt.Errorf("volume %s's path %s is not a volume directory of %s: left alone", pv.Name, p, c.BaseDir)
	}
	return p, nil
}

// makeDir creates dir, open to any user (etcd and other pods run as varied users).
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("making volume directory: %w", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("opening volume directory %s: %w", dir, err)
	}
	return nil
}

// nodeOf returns the node a volume is pinned to by its node affinity ("" if none).
func nodeOf(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	for _, t := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			if e.Key == corev1.LabelHostname && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// Setup registers both reconcilers and the manager's health checks.
func Setup(mgr ctrl.Manager, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := (&ClaimReconciler{Client: mgr.GetClient(), Config: cfg}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("claims controller: %w", err)
	}
	if err := (&VolumeReconciler{Client: mgr.GetClient(), Config: cfg}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("volumes controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("ready check: %w", err)
	}
	return nil
}
