package infrastructure

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// tagFor returns a cloud tag for a namespaced object: short enough for Neutron's and Nova's
// 60-character limit, free of the characters they refuse, stable across restarts and moves.
func tagFor(kind, namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return fmt.Sprintf("kaas-%s-%s", kind, hex.EncodeToString(sum[:8]))
}

// ClusterTag is the tag on every cloud resource of the cluster namespace/name.
func ClusterTag(namespace, name string) string { return tagFor("cluster", namespace, name) }

// MachineTag is the tag on a machine's server and port.
func MachineTag(namespace, name string) string { return tagFor("machine", namespace, name) }

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9.-]+`)

// resourceName is the readable name of a cluster's cloud resources.
func resourceName(namespace, name string) string {
	n := "k8s-" + unsafeName.ReplaceAllString(namespace+"-"+name, "-")
	return strings.TrimRight(n[:min(len(n), 200)], "-")
}
