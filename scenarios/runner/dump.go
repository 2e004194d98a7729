package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// SandboxDumper writes a failed run's artifacts with kubectl and fakecloud's admin API.
type SandboxDumper struct {
	Kubectl, Kubeconfig string
	Cloud               Cloud
	Exec                Commander
}

// Dump implements Dumper: the providers' and Cluster API's manager logs, the namespace's
// events and Cluster API objects, fakecloud's event log and state.
func (d *SandboxDumper) Dump(ctx context.Context, dir, namespace string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	var errs []error
	write := func(name string, data []byte, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			data = append(data, []byte("\n# error: "+err.Error()+"\n")...)
		}
		if werr := os.WriteFile(filepath.Join(dir, name), data, 0o644); werr != nil {
			errs = append(errs, werr)
		}
	}
	kubectl := func(args ...string) ([]byte, error) {
		return d.Exec.Run(ctx, nil, d.Kubectl, append([]string{"--kubeconfig", d.Kubeconfig}, args...)...)
	}
	for _, p := range []string{scenarios.ProviderCore, scenarios.ProviderInfrastructure, scenarios.ProviderControlPlane, scenarios.ProviderBootstrap} {
		where, _ := (&scenarios.KillManager{Provider: p}).Deployment()
		out, err := kubectl("logs", "-n", where.Namespace, "deploy/"+where.Name, "--all-containers", "--timestamps")
		write("logs-"+where.Name+".log", out, err)
	}
	out, err := kubectl("get", "events", "-n", namespace, "--sort-by=.lastTimestamp", "-o", "wide")
	write("events-"+namespace+".txt", out, err)
	out, err = kubectl("get", "cluster-api,pods,pvc", "-n", namespace, "-o", "yaml")
	write("objects-"+namespace+".yaml", out, err)
	if d.Cloud != nil {
		events, err := d.Cloud.Events(ctx, 0)
		write("fakecloud-events.json", marshal(events), err)
		state, err := d.Cloud.State(ctx, "")
		write("fakecloud-state.json", marshal(state), err)
	}
	return errors.Join(errs...)
}

func marshal(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte(err.Error())
	}
	return b
}
