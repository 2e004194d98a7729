// Package cli is the sandbox's command line. `sandbox scenario` lists, validates and
// runs the lifecycle and chaos scenarios of package scenarios.
package cli

import "github.com/spf13/cobra"

// NewCommand returns the sandbox root command.
func NewCommand() *cobra.Command { return newCommand(sandboxDeps()) }

func newCommand(deps runDeps) *cobra.Command {
	root := &cobra.Command{
		Use:   "sandbox",
		Short: "KaaS Sandbox's command line",
		Long: `sandbox works with KaaS Sandbox: a fake OpenStack cloud (fakecloud) under the real Cluster
API in kind, with the project's providers (make sandbox sets it up).

Scenarios are lifecycle and chaos runs written as data (scenarios/*.yaml, carried by this
command): a cluster created, a fault injected into the cloud or the service cluster,
expectations on conditions, recovery figures against SLOs, and a cleanup that always runs.

  sandbox scenario list                      every scenario, its labels and summary
  sandbox scenario list -l smoke -o names    the names of the smoke scenarios
  sandbox scenario validate                  check the built-in scenarios
  sandbox scenario validate my-scenario.yaml check a file of your own
  sandbox scenario run octavia-outage        run one against the sandbox: progress, report.md, junit.xml
  sandbox scenario run --label smoke         run the smoke scenarios`,
		SilenceUsage: true,
	}
	root.AddCommand(newScenarioCommand(deps))
	return root
}
