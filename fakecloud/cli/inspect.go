package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func newEventsCommand() *cobra.Command {
	var (
		a      adminFlags
		follow bool
		since  uint64
		output string
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print the event log (every state change and fault); --follow to keep watching",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output must be table or json, got %q", output)
			}
			c, err := adminclient.FromCloudsYAML(cmd.Context(), a.cloudsYAML, a.cloud)
			if err != nil {
				return err
			}
			print := func(e store.Event) error {
				if output == "json" {
					return json.NewEncoder(os.Stdout).Encode(e)
				}
				sev := e.Severity
				if sev == "" {
					sev = "info"
				}
				_, err := fmt.Printf("%6d %s %-7s %-13s %-14s %-36s %-10s %s\n", e.Seq, e.Time.Format("15:04:05.000"), sev, e.Service, e.Kind, e.ID, e.Action, e.Detail)
				return err
			}
			if !follow {
				evs, err := c.Events(cmd.Context(), since)
				if err != nil {
					return err
				}
				for _, e := range evs {
					if err := print(e); err != nil {
						return err
					}
				}
				return nil
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return c.Follow(ctx, since, print)
		},
	}
	a.register(cmd)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().Uint64Var(&since, "since", 0, "print events after this sequence number")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json (one object per line)")
	return cmd
}

func newStateCommand() *cobra.Command {
	var (
		a       adminFlags
		project string
		output  string
	)
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Print every resource by project, and the pending asynchronous tasks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output must be table or json, got %q", output)
			}
			c, err := adminclient.FromCloudsYAML(cmd.Context(), a.cloudsYAML, a.cloud)
			if err != nil {
				return err
			}
			st, err := c.State(cmd.Context(), project)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tSERVICE\tKIND\tNAME\tID\tSTATUS")
			for _, r := range st.Resources {
				project := st.Projects[r.Project]
				switch {
				case r.Project == "":
					project = "(region)"
				case project == "":
					project = r.Project
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", project, r.Service, r.Kind, r.Name, r.ID, r.Status)
			}
			if len(st.Tasks) > 0 {
				fmt.Fprintln(tw, "\nPENDING TASK\tRESOURCE\tATTEMPTS\tNOT BEFORE\tLAST ERROR\t")
				for _, t := range st.Tasks {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t\n", t.Kind, t.ResourceID, t.Attempts, t.NotBefore.Format("15:04:05"), t.LastError)
				}
			}
			return tw.Flush()
		},
	}
	a.register(cmd)
	cmd.Flags().StringVar(&project, "project", "", "only this project id")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}
