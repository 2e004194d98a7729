package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

func newScenarioValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE|DIR...]",
		Short: "Check scenario files: strict decoding, variables and every rule of the format",
		Long: `Check scenario files, the built-in ones when none is given (a directory stands for its *.yaml
files). Each file is decoded strictly (an unknown field is an error), its variables expanded
(an undefined one is an error) and its steps checked: exactly one action a step, an expiry on
every fault, a seed on every probabilistic fault, known marks, intervals, conditions and
pinned versions, unique names. Every problem is printed as FILE:LINE: FIELD: MESSAGE; the exit
status is 1 when there is one.

Examples:
  sandbox scenario validate
  sandbox scenario validate scenarios/octavia-outage.yaml
  sandbox scenario validate ./my-scenarios
  KUBERNETES_VERSION_UPGRADE_FROM=v1.35.4 sandbox scenario validate`,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := loader()
			if err != nil {
				return err
			}
			var files []scenarios.File
			if len(args) == 0 {
				files, err = scenarios.BuiltinFiles()
			} else {
				files, err = scenarios.ReadFiles(args)
			}
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no scenario file in %v", args)
			}
			out, bad := cmd.OutOrStdout(), map[string]bool{}
			var valid []*scenarios.Scenario
			for _, f := range files {
				s, err := l.Parse(f.Name, f.Data)
				if err != nil {
					bad[f.Name] = true
					fmt.Fprintln(out, err)
					continue
				}
				valid = append(valid, s)
				fmt.Fprintf(out, "%s: OK (%s)\n", f.Name, s.Metadata.Name)
			}
			if err := scenarios.Duplicates(valid); err != nil {
				fmt.Fprintln(out, err)
				var fe *scenarios.FileError
				for _, e := range flatten(err) {
					if errors.As(e, &fe) {
						bad[fe.File] = true
					}
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("%d of %d scenario files are not valid", len(bad), len(files))
			}
			return nil
		},
	}
}

// flatten lists the errors an errors.Join holds.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
