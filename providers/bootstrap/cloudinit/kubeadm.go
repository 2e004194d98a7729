package cloudinit

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The subset of kubeadm's v1beta4 API the user-data needs, declared here so the project does
// not depend on k8s.io/kubernetes. Field names and shapes follow kubeadm.k8s.io/v1beta4.

const (
	kubeadmAPIVersion = "kubeadm.k8s.io/v1beta4"
	kubeletAPIVersion = "kubelet.config.k8s.io/v1beta1"
)

type joinConfiguration struct {
	APIVersion       string           `json:"apiVersion"`
	Kind             string           `json:"kind"`
	Discovery        discovery        `json:"discovery"`
	NodeRegistration nodeRegistration `json:"nodeRegistration"`
	Patches          patches          `json:"patches"`
}

type discovery struct {
	BootstrapToken bootstrapTokenDiscovery `json:"bootstrapToken"`
}

type bootstrapTokenDiscovery struct {
	APIServerEndpoint string   `json:"apiServerEndpoint"`
	Token             string   `json:"token"`
	CACertHashes      []string `json:"caCertHashes"`
}

type nodeRegistration struct {
	KubeletExtraArgs      []arg          `json:"kubeletExtraArgs"`
	Taints                []corev1.Taint `json:"taints"`
	IgnorePreflightErrors []string       `json:"ignorePreflightErrors"`
}

// arg is one kubelet flag in v1beta4's list form.
type arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type patches struct {
	Directory string `json:"directory"`
}

// kubeletPatch is the strategic-merge patch kubeadm applies to the KubeletConfiguration it
// downloads from the cluster.
type kubeletPatch struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	FailCgroupV1 bool   `json:"failCgroupV1"`
}

// joinConfigYAML renders the JoinConfiguration; the provider-id flag carries
// ProviderIDPlaceholder, which runcmd replaces on the node.
func joinConfigYAML(in Input, labels map[string]string) ([]byte, error) {
	args := make([]arg, 0, len(in.Spec.KubeletExtraArgs)+2)
	for name, value := range in.Spec.KubeletExtraArgs {
		args = append(args, arg{Name: name, Value: value})
	}
	args = append(args,
		arg{Name: "provider-id", Value: ProviderIDPrefix + ProviderIDPlaceholder},
		arg{Name: "node-labels", Value: nodeLabelsFlag(labels)},
	)
	sort.Slice(args, func(i, j int) bool { return args[i].Name < args[j].Name })

	taints := make([]corev1.Taint, 0, len(in.Spec.NodeTaints))
	for _, t := range in.Spec.NodeTaints {
		taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
	}

	cfg := joinConfiguration{
		APIVersion: kubeadmAPIVersion,
		Kind:       "JoinConfiguration",
		Discovery: discovery{BootstrapToken: bootstrapTokenDiscovery{
			APIServerEndpoint: in.APIServerEndpoint,
			Token:             in.Token,
			CACertHashes:      append([]string(nil), in.CACertHashes...),
		}},
		NodeRegistration: nodeRegistration{
			KubeletExtraArgs:      args,
			Taints:                taints,
			IgnorePreflightErrors: []string{"all"},
		},
		Patches: patches{Directory: PatchesDir},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshalling the kubeadm JoinConfiguration: %w", err)
	}
	return out, nil
}

// kubeletPatchYAML renders the KubeletConfiguration patch: this host runs cgroup v1, which
// kubelet >= 1.35 refuses unless failCgroupV1 is false.
func kubeletPatchYAML() ([]byte, error) {
	out, err := yaml.Marshal(kubeletPatch{
		APIVersion:   kubeletAPIVersion,
		Kind:         "KubeletConfiguration",
		FailCgroupV1: false,
	})
	if err != nil {
		return nil, fmt.Errorf("marshalling the kubelet configuration patch: %w", err)
	}
	return out, nil
}

// nodeLabelsFlag renders labels as the kubelet's --node-labels value, sorted by key.
func nodeLabelsFlag(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		pairs = append(pairs, k+"="+labels[k])
	}
	return strings.Join(pairs, ",")
}
