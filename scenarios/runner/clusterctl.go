package runner

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"sort"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// Clusterctl renders the providers' cluster template with `clusterctl generate cluster`, as
// the README's "a cluster of your own" does.
type Clusterctl struct {
	// Binary is clusterctl; Config its configuration (the local repository of the providers);
	// Kubeconfig the service cluster's.
	Binary, Config, Kubeconfig string
	// CloudsYAML is the clouds.yaml the cluster's Secret carries (GCORE_CLOUDS_YAML_B64).
	CloudsYAML string
	// Infrastructure is the infrastructure provider; default "gcore".
	Infrastructure string
	Exec           Commander
}

// Generate implements Templater.
func (c *Clusterctl) Generate(ctx context.Context, name, namespace string, vars map[string]string) ([]byte, error) {
	all := map[string]string{}
	for k, v := range vars {
		all[k] = v
	}
	if all[VarCloudsYAML] == "" {
		data, err := os.ReadFile(c.CloudsYAML)
		if err != nil {
			return nil, fmt.Errorf("reading the clouds.yaml for the cluster's Secret: %w", err)
		}
		all[VarCloudsYAML] = base64.StdEncoding.EncodeToString(data)
	}
	infra := c.Infrastructure
	if infra == "" {
		infra = "gcore"
	}
	args := []string{"generate", "cluster", name, "--config", c.Config, "--kubeconfig", c.Kubeconfig,
		"--infrastructure", infra, "--target-namespace", namespace}
	if v := all[scenarios.TemplateKubernetesVersion]; v != "" {
		args = append(args, "--kubernetes-version", v)
	}
	if v := all[scenarios.TemplateControlPlaneCount]; v != "" {
		args = append(args, "--control-plane-machine-count", v)
	}
	if v := all[scenarios.TemplateWorkerCount]; v != "" {
		args = append(args, "--worker-machine-count", v)
	}
	env := make([]string, 0, len(all))
	for k, v := range all {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	out, err := c.Exec.Run(ctx, env, c.Binary, args...)
	if err != nil {
		return nil, fmt.Errorf("clusterctl generate cluster %s: %w", name, err)
	}
	return out, nil
}
