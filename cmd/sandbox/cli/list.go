package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

func newScenarioListCommand() *cobra.Command {
	var (
		selector string
		dir      string
		output   string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the scenarios: name, labels and summary",
		Long: `List the built-in scenarios, or those of a directory (--dir), with their labels and the first
sentence of their description. --label selects by label as kubectl's -l does.

Examples:
  sandbox scenario list
  sandbox scenario list --label smoke -o names     # the smoke scenarios
  sandbox scenario list -l chaos,octavia
  sandbox scenario list -l '!chaos'                # lifecycle and upgrade
  sandbox scenario list --dir ./my-scenarios`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "names" {
				return fmt.Errorf("--output must be table or names, got %q", output)
			}
			sel, err := labels.Parse(selector)
			if err != nil {
				return fmt.Errorf("--label %q: %w", selector, err)
			}
			l, err := loader()
			if err != nil {
				return err
			}
			var list []*scenarios.Scenario
			if dir != "" {
				list, err = l.LoadDir(dir)
			} else {
				list, err = l.Builtin()
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				err = fmt.Errorf("some scenarios are not valid (see above; sandbox scenario validate checks them)")
			}
			var picked []*scenarios.Scenario
			for _, s := range list {
				if sel.Matches(labels.Set(s.Metadata.Labels)) {
					picked = append(picked, s)
				}
			}
			if werr := printScenarios(cmd.OutOrStdout(), picked, output); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&selector, "label", "l", "", "label selector, e.g. smoke, chaos,octavia or '!chaos'")
	f.StringVar(&dir, "dir", "", "list the scenarios of this directory instead of the built-in ones")
	f.StringVarP(&output, "output", "o", "table", "table or names")
	return cmd
}

func printScenarios(w io.Writer, list []*scenarios.Scenario, output string) error {
	if output == "names" {
		for _, s := range list {
			if _, err := fmt.Fprintln(w, s.Metadata.Name); err != nil {
				return fmt.Errorf("writing the list: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLABELS\tDESCRIPTION")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Metadata.Name, labelList(s.Metadata.Labels), summary(s.Spec.Description))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the list: %w", err)
	}
	return nil
}

// labelList renders labels as "chaos,octavia,smoke", with "=value" where a value is not "true".
func labelList(m map[string]string) string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v != "true" {
			k += "=" + v
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// summary is a description's first sentence, on one line.
func summary(desc string) string {
	text := strings.Join(strings.Fields(desc), " ")
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i+1]
	}
	return text
}
