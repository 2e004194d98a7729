package webhooks

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	"github.com/kaas-sandbox/sandbox/providers/bootstrap/cloudinit"
)

// kubeletFlagPattern is what a kubelet flag name looks like once "--" is gone.
var kubeletFlagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// ValidateSpec checks a GcoreConfigSpec (of a GcoreConfig, or of a template at
// spec.template.spec) and returns every problem found, each at its field path.
func ValidateSpec(spec *bootstrapv1.GcoreConfigSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateNodeLabels(spec.NodeLabels, fldPath.Child("nodeLabels"))...)
	errs = append(errs, validateTaints(spec.NodeTaints, fldPath.Child("nodeTaints"))...)
	errs = append(errs, validateKubeletExtraArgs(spec.KubeletExtraArgs, fldPath.Child("kubeletExtraArgs"))...)
	errs = append(errs, validateFiles(spec.Files, fldPath.Child("files"))...)
	errs = append(errs, validateCommands(spec.PreJoinCommands, fldPath.Child("preJoinCommands"))...)
	errs = append(errs, validateCommands(spec.PostJoinCommands, fldPath.Child("postJoinCommands"))...)
	return errs
}

func validateNodeLabels(labels map[string]string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(labels) {
		v := labels[k]
		p := fldPath.Key(k)
		if k == cloudinit.NodeTypeLabel {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("%s is set by the provider (vm or baremetal, from the machine's type)", cloudinit.NodeTypeLabel)))
			continue
		}
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p, k, "not a valid label key: "+strings.Join(msgs, "; ")))
			continue
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p, v, "not a valid label value: "+strings.Join(msgs, "; ")))
		}
		if isKubernetesNamespace(k) && !IsKubeletLabel(k) {
			errs = append(errs, field.Forbidden(p, "kubelets may not set labels in the kubernetes.io and k8s.io namespaces, except node.kubernetes.io/*, kubelet.kubernetes.io/* and the well-known topology, instance-type, arch, os and hostname labels"))
		}
	}
	return errs
}

// isKubernetesNamespace reports whether a label key's prefix is kubernetes.io, k8s.io or one
// of their subdomains.
func isKubernetesNamespace(key string) bool {
	ns := labelNamespace(key)
	for _, reserved := range []string{"kubernetes.io", "k8s.io"} {
		if ns == reserved || strings.HasSuffix(ns, "."+reserved) {
			return true
		}
	}
	return false
}

// IsKubeletLabel reports whether a kubelet may put a label with this key on its own Node (the
// NodeRestriction admission plugin's rule; kubelets refuse other kubernetes.io/k8s.io labels in
// --node-labels and do not start).
func IsKubeletLabel(key string) bool {
	switch key {
	case corev1.LabelHostname,
		corev1.LabelTopologyZone, corev1.LabelTopologyRegion,
		corev1.LabelFailureDomainBetaZone, corev1.LabelFailureDomainBetaRegion,
		corev1.LabelInstanceType, corev1.LabelInstanceTypeStable,
		corev1.LabelOSStable, corev1.LabelArchStable,
		"beta.kubernetes.io/os", "beta.kubernetes.io/arch":
		return true
	}
	ns := labelNamespace(key)
	for _, allowed := range []string{corev1.LabelNamespaceSuffixKubelet, corev1.LabelNamespaceSuffixNode} {
		if ns == allowed || strings.HasSuffix(ns, "."+allowed) {
			return true
		}
	}
	return false
}

func labelNamespace(key string) string {
	if ns, _, ok := strings.Cut(key, "/"); ok {
		return ns
	}
	return ""
}

func validateTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]int{}
	for i, t := range taints {
		p := fldPath.Index(i)
		if msgs := validation.IsQualifiedName(t.Key); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p.Child("key"), t.Key, "not a valid taint key: "+strings.Join(msgs, "; ")))
		}
		if t.Value != "" {
			if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p.Child("value"), t.Value, "not a valid taint value: "+strings.Join(msgs, "; ")))
			}
		}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		case "":
			errs = append(errs, field.Required(p.Child("effect"), "one of NoSchedule, PreferNoSchedule, NoExecute"))
		default:
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, []corev1.TaintEffect{
				corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute,
			}))
		}
		if t.TimeAdded != nil {
			errs = append(errs, field.Forbidden(p.Child("timeAdded"), "set by Kubernetes, not in a bootstrap config"))
		}
		id := t.Key + ":" + string(t.Effect)
		if first, dup := seen[id]; dup {
			errs = append(errs, field.Duplicate(p, fmt.Sprintf("key %s and effect %s already at index %d", t.Key, t.Effect, first)))
		} else {
			seen[id] = i
		}
	}
	return errs
}

func validateKubeletExtraArgs(args map[string]string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(args) {
		p := fldPath.Key(name)
		if reason, reserved := cloudinit.ReservedKubeletArg(name); reserved {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("the kubelet flag %s is managed by the provider: %s", name, reason)))
			continue
		}
		if !kubeletFlagPattern.MatchString(name) {
			errs = append(errs, field.Invalid(p, name, "not a kubelet flag name: lower-case letters, digits, '-' and '.', without the leading \"--\""))
		}
	}
	return errs
}

func validateFiles(files []bootstrapv1.File, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]int{}
	for i, f := range files {
		p := fldPath.Index(i).Child("path")
		if !path.IsAbs(f.Path) {
			errs = append(errs, field.Invalid(p, f.Path, "must be an absolute path"))
			continue
		}
		clean := path.Clean(f.Path)
		if under(clean, cloudinit.ReservedDir) {
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("%s is reserved for the files the provider writes", cloudinit.ReservedDir)))
		}
		if clean == cloudinit.SentinelPath {
			errs = append(errs, field.Forbidden(p, "the bootstrap sentinel file is written once the node has joined"))
		}
		if first, dup := seen[clean]; dup {
			errs = append(errs, field.Duplicate(p, fmt.Sprintf("%s (same file as files[%d])", f.Path, first)))
		} else {
			seen[clean] = i
		}
	}
	return errs
}

func validateCommands(cmds []string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range cmds {
		if strings.TrimSpace(c) == "" {
			errs = append(errs, field.Required(fldPath.Index(i), "a command may not be empty"))
		}
	}
	return errs
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
