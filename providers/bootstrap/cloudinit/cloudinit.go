package cloudinit

import (
	"errors"
	"fmt"
	"net"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
)

// Paths and markers the user-data uses on the node.
const (
	// ReservedDir holds the files this package writes; user files may not go there.
	ReservedDir = "/run/kaas"
	// JoinConfigPath is the kubeadm JoinConfiguration.
	JoinConfigPath = ReservedDir + "/kubeadm-join.yaml"
	// PatchesDir is kubeadm's patches directory.
	PatchesDir = ReservedDir + "/patches"
	// KubeletPatchPath is the KubeletConfiguration patch (strategic merge).
	KubeletPatchPath = PatchesDir + "/kubeletconfiguration+strategic.yaml"
	// SentinelPath is Cluster API's bootstrap-success sentinel file.
	SentinelPath = "/run/cluster-api/bootstrap-success.complete"

	// ProviderIDPrefix is the scheme of OpenStack provider IDs: openstack:///<server-uuid>.
	ProviderIDPrefix = "openstack:///"
	// ProviderIDPlaceholder stands for the server UUID in JoinConfigPath until runcmd replaces
	// it with the output of `cloud-init query instance_id`.
	ProviderIDPlaceholder = "__KAAS_INSTANCE_ID__"

	// NodeTypeLabel says whether the node is a VM or a bare-metal host; always set.
	NodeTypeLabel = "node.kaas.sandbox/type"
)

// NodeType is the value of NodeTypeLabel.
type NodeType string

const (
	// NodeTypeVM is a Nova server on a hypervisor.
	NodeTypeVM NodeType = "vm"
	// NodeTypeBareMetal is a Nova server on an Ironic node.
	NodeTypeBareMetal NodeType = "baremetal"
)

// ReservedKubeletArg reports whether a kubelet flag (without "--") is managed by the
// user-data or by kubeadm, and if so why users may not set it.
func ReservedKubeletArg(name string) (reason string, reserved bool) {
	switch name {
	case "provider-id":
		return "the provider ID is read from the instance metadata on the node", true
	case "node-labels":
		return "node labels are managed by the provider: use spec.nodeLabels", true
	case "bootstrap-kubeconfig", "kubeconfig", "config":
		return "kubeadm sets it", true
	}
	return "", false
}

// Input is everything a worker's user-data is made of.
type Input struct {
	// APIServerEndpoint is host:port of the control plane's load balancer.
	APIServerEndpoint string
	// Token is the bootstrap token, <id>.<secret>.
	Token string
	// CACertHashes pin the cluster CA: "sha256:<hex of the SubjectPublicKeyInfo digest>".
	CACertHashes []string
	// NodeType decides the NodeTypeLabel value.
	NodeType NodeType
	// Spec is the user's part: labels, taints, kubelet flags, files, commands.
	Spec bootstrapv1.GcoreConfigSpec
}

var (
	tokenPattern  = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	caHashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// cloudConfig is the part of cloud-init's #cloud-config schema the user-data uses.
type cloudConfig struct {
	WriteFiles []writeFile `json:"write_files"`
	RunCmd     []string    `json:"runcmd"`
}

type writeFile struct {
	Path        string `json:"path"`
	Owner       string `json:"owner,omitempty"`
	Permissions string `json:"permissions,omitempty"`
	Content     string `json:"content"`
}

// Render returns the user-data for in: "#cloud-config" followed by YAML. It refuses input
// that would give a node unable to join (bad endpoint, token or CA hashes, invalid labels,
// kubelet flags the user-data manages itself, files in ReservedDir).
func Render(in Input) ([]byte, error) {
	if err := validate(in); err != nil {
		return nil, err
	}
	labels := make(map[string]string, len(in.Spec.NodeLabels)+1)
	for k, v := range in.Spec.NodeLabels {
		labels[k] = v
	}
	labels[NodeTypeLabel] = string(in.NodeType)

	join, err := joinConfigYAML(in, labels)
	if err != nil {
		return nil, err
	}
	patch, err := kubeletPatchYAML()
	if err != nil {
		return nil, err
	}

	files := []writeFile{
		{Path: JoinConfigPath, Owner: "root:root", Permissions: "0600", Content: string(join)},
		{Path: KubeletPatchPath, Owner: "root:root", Permissions: "0644", Content: string(patch)},
	}
	for _, f := range in.Spec.Files {
		files = append(files, writeFile{Path: f.Path, Owner: f.Owner, Permissions: f.Permissions, Content: f.Content})
	}

	cfg := cloudConfig{WriteFiles: files, RunCmd: runCommands(in.Spec)}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshalling the cloud-config: %w", err)
	}
	// Parse it back: what goes to the node must be YAML that cloud-init can read.
	var check cloudConfig
	if err := yaml.UnmarshalStrict(body, &check); err != nil {
		return nil, fmt.Errorf("the rendered cloud-config does not parse: %w", err)
	}
	if !reflect.DeepEqual(check, cfg) {
		return nil, errors.New("the rendered cloud-config does not read back as written")
	}
	return append([]byte("#cloud-config\n"), body...), nil
}

// runCommands is the runcmd list. cloud-init runs it as one /bin/sh script, so `set -e`
// first makes any failing step stop the rest (and leave no sentinel file behind).
func runCommands(spec bootstrapv1.GcoreConfigSpec) []string {
	cmds := []string{"set -e"}
	cmds = append(cmds, spec.PreJoinCommands...)
	cmds = append(cmds, ProviderIDCommands()...)
	cmds = append(cmds, "kubeadm join --config "+JoinConfigPath)
	cmds = append(cmds, spec.PostJoinCommands...)
	cmds = append(cmds, "mkdir -p "+path.Dir(SentinelPath)+" && echo success > "+SentinelPath)
	return cmds
}

// ProviderIDCommands are the runcmd lines that put the server UUID, read from the instance
// metadata, in place of ProviderIDPlaceholder in JoinConfigPath. They stop the script when the
// query fails, prints nothing or prints something that is not an ID.
func ProviderIDCommands() []string {
	return []string{
		`instance_id="$(cloud-init query instance_id)" || { echo "kaas: cloud-init query instance_id failed" >&2; exit 1; }`,
		`case "$instance_id" in ''|*[!A-Za-z0-9-]*) echo "kaas: instance ID '$instance_id' from cloud-init is empty or not a server UUID" >&2; exit 1;; esac`,
		`sed -i "s|` + ProviderIDPlaceholder + `|$instance_id|g" ` + JoinConfigPath,
		`grep -q "` + ProviderIDPrefix + `$instance_id" ` + JoinConfigPath + ` || { echo "kaas: provider ID not set in ` + JoinConfigPath + `" >&2; exit 1; }`,
	}
}

func validate(in Input) error {
	var errs []error
	host, port, err := net.SplitHostPort(in.APIServerEndpoint)
	if err != nil || host == "" {
		errs = append(errs, fmt.Errorf("API server endpoint %q is not host:port", in.APIServerEndpoint))
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("API server endpoint %q has an invalid port", in.APIServerEndpoint))
	}
	if !tokenPattern.MatchString(in.Token) {
		// Never print the token: it is a credential.
		errs = append(errs, errors.New("the bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16}"))
	}
	if len(in.CACertHashes) == 0 {
		errs = append(errs, errors.New("no CA certificate hash"))
	}
	for _, h := range in.CACertHashes {
		if !caHashPattern.MatchString(h) {
			errs = append(errs, fmt.Errorf("CA certificate hash %q is not sha256:<64 hex digits>", h))
		}
	}
	if in.NodeType != NodeTypeVM && in.NodeType != NodeTypeBareMetal {
		errs = append(errs, fmt.Errorf("node type %q is neither %q nor %q", in.NodeType, NodeTypeVM, NodeTypeBareMetal))
	}
	for k, v := range in.Spec.NodeLabels {
		if k == NodeTypeLabel {
			errs = append(errs, fmt.Errorf("node label %s is set by the provider", NodeTypeLabel))
			continue
		}
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("node label key %q: %s", k, strings.Join(msgs, "; ")))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("node label %s value %q: %s", k, v, strings.Join(msgs, "; ")))
		}
	}
	for name := range in.Spec.KubeletExtraArgs {
		if reason, reserved := ReservedKubeletArg(name); reserved {
			errs = append(errs, fmt.Errorf("kubelet flag %s may not be set: %s", name, reason))
		}
	}
	for _, f := range in.Spec.Files {
		p := path.Clean(f.Path)
		if !path.IsAbs(f.Path) {
			errs = append(errs, fmt.Errorf("file path %q is not absolute", f.Path))
		} else if p == ReservedDir || strings.HasPrefix(p, ReservedDir+"/") {
			errs = append(errs, fmt.Errorf("file path %q is under %s, which the provider manages", f.Path, ReservedDir))
		}
	}
	return errors.Join(errs...)
}
