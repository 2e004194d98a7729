// Package versions holds the project's one pinned version list: the Kubernetes minors the
// sandbox offers (with the etcd, CoreDNS and pause versions each one's kubeadm expects), kind
// and Cluster API. hack/ scripts read the same file with jq.
package versions

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed versions.json
var raw []byte

// Kubernetes is one pinned Kubernetes release and the component versions its kubeadm expects.
type Kubernetes struct {
	Version string `json:"version"`
	Etcd    string `json:"etcd"`
	CoreDNS string `json:"coredns"`
	Pause   string `json:"pause"`
}

// Minor returns the release's "1.Y" minor version.
func (k Kubernetes) Minor() string {
	parts := strings.SplitN(strings.TrimPrefix(k.Version, "v"), ".", 3)
	if len(parts) < 2 {
		return k.Version
	}
	return parts[0] + "." + parts[1]
}

// List is the whole pinned version list.
type List struct {
	Kind       string       `json:"kind"`
	ClusterAPI string       `json:"clusterAPI"`
	Kubernetes []Kubernetes `json:"kubernetes"`
}

// Load decodes the embedded version list.
func Load() (List, error) {
	var l List
	if err := json.Unmarshal(raw, &l); err != nil {
		return List{}, fmt.Errorf("decoding versions.json: %w", err)
	}
	if len(l.Kubernetes) == 0 {
		return List{}, fmt.Errorf("versions.json lists no Kubernetes version")
	}
	return l, nil
}

// Newest returns the newest pinned Kubernetes release (the list is kept oldest first).
func (l List) Newest() Kubernetes { return l.Kubernetes[len(l.Kubernetes)-1] }

// Find returns the pinned release with this exact version (e.g. "v1.36.3").
func (l List) Find(version string) (Kubernetes, bool) {
	for _, k := range l.Kubernetes {
		if k.Version == version {
			return k, true
		}
	}
	return Kubernetes{}, false
}

// Versions returns the pinned Kubernetes versions, oldest first.
func (l List) Versions() []string {
	out := make([]string, 0, len(l.Kubernetes))
	for _, k := range l.Kubernetes {
		out = append(out, k.Version)
	}
	return out
}
