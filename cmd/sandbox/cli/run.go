package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kaas-sandbox/sandbox/scenarios"
	"github.com/kaas-sandbox/sandbox/scenarios/runner"
)

// runDeps are what `scenario run` needs from outside: the sandbox's environment and the
// runner; tests replace them.
type runDeps struct {
	newEnv func(ctx context.Context) (*runner.Env, error)
	run    func(ctx context.Context, sc *scenarios.Scenario, env *runner.Env) (*runner.Result, error)
}

func sandboxDeps() runDeps {
	return runDeps{
		newEnv: func(ctx context.Context) (*runner.Env, error) {
			return runner.NewSandboxEnv(ctx, runner.SandboxPaths{})
		},
		run: runner.Run,
	}
}

func newScenarioRunCommand(deps runDeps) *cobra.Command {
	var (
		selector, reportDir string
		files, sets         []string
		keepGoing, all      bool
	)
	cmd := &cobra.Command{
		Use:   "run NAME... | --label SELECTOR | --all",
		Short: "Run scenarios against the running sandbox; write report.md and junit.xml",
		Long: `Run scenarios against the running sandbox (make sandbox): each creates its own cluster in a
namespace of its own, runs its steps with progress on every step, and always runs its cleanup.
Scenarios are picked by name, by label (--label, as kubectl's -l), or all of them (--all); the
built-in ones, or those of --file (a file or a directory, repeatable).

The report directory gets report.md (a Markdown table: scenario, Kubernetes version, result,
the failed step with its message, each measurement against its SLO, the cloud events during
each fault, leaks) and junit.xml (a testcase per scenario, the measurements as properties).
A failed run dumps the providers' logs, the namespace's events and fakecloud's events and
state into <report-dir>/<scenario>-<time>/.

The exit status is 1 when a scenario fails, misses an SLO or leaves cloud resources. Without
--keep-going, the first failed scenario ends the run (its cleanup still runs).

Examples:
  sandbox scenario run octavia-outage
  sandbox scenario run --label smoke
  sandbox scenario run -l chaos,octavia --keep-going --report-dir /tmp/reports
  sandbox scenario run upgrade --set KUBERNETES_VERSION_UPGRADE_FROM=v1.35.4 --set KUBERNETES_VERSION_UPGRADE_TO=v1.36.3
  sandbox scenario run --file ./my-scenarios --all`,
		RunE: func(cmd *cobra.Command, names []string) error {
			picked, err := pickScenarios(names, selector, files, sets, all)
			if err != nil {
				return err
			}
			env, err := deps.newEnv(cmd.Context())
			if err != nil {
				return fmt.Errorf("connecting to the sandbox: %w", err)
			}
			env.Progress = cmd.OutOrStdout()
			env.ArtifactsRoot = reportDir
			results, runErr := runAll(cmd.Context(), deps, env, picked, keepGoing, cmd.OutOrStdout())
			if err := writeReports(reportDir, results); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reports: %s, %s\n", filepath.Join(reportDir, "report.md"), filepath.Join(reportDir, "junit.xml"))
			if runErr != nil {
				return runErr
			}
			var failed []string
			for _, r := range results {
				if !r.Passed() {
					failed = append(failed, r.Scenario)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d scenarios failed: %s", len(failed), len(picked), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&selector, "label", "l", "", "run the scenarios this label selector picks, e.g. smoke or chaos,octavia")
	f.BoolVar(&all, "all", false, "run every scenario")
	f.StringArrayVar(&files, "file", nil, "scenario file or directory instead of the built-in scenarios (repeatable)")
	f.StringVar(&reportDir, "report-dir", runner.DefaultArtifactsRoot, "where report.md, junit.xml and failure dumps go")
	f.StringArrayVar(&sets, "set", nil, "VAR=VALUE: set a scenario variable, ahead of the environment (repeatable)")
	f.BoolVar(&keepGoing, "keep-going", false, "run the remaining scenarios after one fails")
	return cmd
}

// pickScenarios loads the scenarios and picks those named, labelled, or all.
func pickScenarios(names []string, selector string, files, sets []string, all bool) ([]*scenarios.Scenario, error) {
	if len(names) == 0 && selector == "" && !all {
		return nil, errors.New("name the scenarios to run, or pick them with --label or --all (sandbox scenario list shows them)")
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--label %q: %w", selector, err)
	}
	overrides := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want VAR=VALUE", s)
		}
		overrides[k] = v
	}
	l, err := scenarios.NewLoader(scenarios.Options{Overrides: overrides})
	if err != nil {
		return nil, err
	}
	var list []*scenarios.Scenario
	if len(files) > 0 {
		fs, ferr := scenarios.ReadFiles(files)
		if ferr != nil {
			return nil, ferr
		}
		list, err = l.ParseAll(fs)
	} else {
		list, err = l.Builtin()
	}
	if err != nil {
		return nil, fmt.Errorf("scenarios not valid (sandbox scenario validate checks them):\n%w", err)
	}
	byName := map[string]*scenarios.Scenario{}
	for _, s := range list {
		byName[s.Metadata.Name] = s
	}
	var picked []*scenarios.Scenario
	seen := map[string]bool{}
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("no scenario named %q (sandbox scenario list shows them)", n)
		}
		if !seen[n] {
			picked, seen[n] = append(picked, s), true
		}
	}
	if selector != "" || all {
		for _, s := range list {
			if !seen[s.Metadata.Name] && sel.Matches(labels.Set(s.Metadata.Labels)) {
				picked, seen[s.Metadata.Name] = append(picked, s), true
			}
		}
	}
	if len(picked) == 0 {
		return nil, fmt.Errorf("no scenario has the labels %q", selector)
	}
	return picked, nil
}

// runAll runs the scenarios in order; without keepGoing it stops after the first failure.
func runAll(ctx context.Context, deps runDeps, env *runner.Env, list []*scenarios.Scenario, keepGoing bool, out io.Writer) ([]*runner.Result, error) {
	var results []*runner.Result
	for i, sc := range list {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		fmt.Fprintf(out, "=== scenario %d/%d: %s\n", i+1, len(list), sc.Metadata.Name)
		res, err := deps.run(ctx, sc, env)
		if err != nil {
			return results, fmt.Errorf("running scenario %s: %w", sc.Metadata.Name, err)
		}
		results = append(results, res)
		fmt.Fprintf(out, "=== scenario %s: %s\n", sc.Metadata.Name, res.Verdict())
		if !res.Passed() && !keepGoing && i+1 < len(list) {
			fmt.Fprintf(out, "=== %d scenarios not run (--keep-going runs them after a failure)\n", len(list)-i-1)
			break
		}
	}
	return results, nil
}

// writeReports writes report.md and junit.xml into dir.
func writeReports(dir string, results []*runner.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the report directory: %w", err)
	}
	for name, write := range map[string]func(io.Writer, []*runner.Result) error{"report.md": runner.WriteMarkdown, "junit.xml": runner.WriteJUnit} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("creating %s: %w", name, err)
		}
		werr := write(f, results)
		cerr := f.Close()
		if err := errors.Join(werr, cerr); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
		}
	}
	return nil
}
