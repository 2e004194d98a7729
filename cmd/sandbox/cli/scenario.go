package cli

import (
	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

func newScenarioCommand(deps runDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "scenario",
		Aliases: []string{"scenarios"},
		Short:   "List, validate and run lifecycle and chaos scenarios",
		Long: `A scenario is one YAML file (apiVersion scenarios.kaas.sandbox/v1alpha1, kind Scenario): a
cluster to create from the cluster template, then steps, each with exactly one action (a
fakecloud fault that always expires, a pod or a provider's manager killed, fakecloud killed
with -9, an upgrade, a scale, an expectation on a condition within an interval, a probe of the
customer cluster, a mark, a measure between marks against an SLO, an assertion on the cloud),
and a cleanup that always runs. The built-in scenarios are those of scenarios/ in the
repository, carried by this command.

${NAME} in a value is a variable: KUBERNETES_VERSION, KUBERNETES_VERSION_UPGRADE_FROM and
KUBERNETES_VERSION_UPGRADE_TO (defaults from versions/versions.json) or one the scenario
declares in spec.variables. An environment variable of the same name overrides the default:

  KUBERNETES_VERSION=v1.36.3 sandbox scenario validate

sandbox scenario run runs scenarios against the running sandbox and writes report.md and
junit.xml (see sandbox scenario run --help).`,
	}
	cmd.AddCommand(newScenarioListCommand(), newScenarioValidateCommand(), newScenarioRunCommand(deps))
	return cmd
}

// loader returns the scenarios' loader, reading the environment and the pinned versions.
func loader() (*scenarios.Loader, error) {
	return scenarios.NewLoader(scenarios.Options{})
}
