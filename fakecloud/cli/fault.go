package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/fakecloud/adminclient"
	"github.com/kaas-sandbox/sandbox/fakecloud/faults"
)

func newFaultCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fault",
		Short: "Switch injected faults on and off",
		Long: `Inject failures into a running fakecloud.

Types:
  error    answer --status (default 500) for --rate of the matching requests
  latency  delay matching requests by --latency
  outage   the service is down: 503 (--mode 503) or connections dropped (--mode drop)
  stuck    asynchronous tasks matching --operation (e.g. loadbalancer.create) hang, then go to
           ERROR after --stuck-for
  quota    at most --limit of --resource (instances, ports, loadbalancer...) per project

Examples:
  fakecloud fault add outage --service load-balancer --for 2m
  fakecloud fault add error --service compute --operation 'server.*' --rate 0.3 --status 503
  fakecloud fault add stuck --operation loadbalancer.create --stuck-for 30s
  fakecloud fault add quota --resource instances --limit 2 --project <project-id>
  fakecloud fault list
  fakecloud fault rm all`,
	}
	cmd.AddCommand(newFaultAddCommand(), newFaultListCommand(), newFaultRemoveCommand())
	return cmd
}

func newFaultAddCommand() *cobra.Command {
	var (
		a    adminFlags
		spec adminclient.FaultSpec
		seed int64
	)
	cmd := &cobra.Command{
		Use:       "add TYPE",
		Short:     "Switch a fault on (TYPE: error, latency, outage, stuck, quota)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{faults.TypeError, faults.TypeLatency, faults.TypeOutage, faults.TypeStuck, faults.TypeQuota},
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.Type = args[0]
			if cmd.Flags().Changed("seed") {
				spec.Seed = &seed
			}
			c, err := adminclient.FromCloudsYAML(cmd.Context(), a.cloudsYAML, a.cloud)
			if err != nil {
				return err
			}
			r, err := c.AddFault(cmd.Context(), spec)
			if err != nil {
				return err
			}
			fmt.Printf("%s\t%s\n", r.ID, r.Describe())
			return nil
		},
	}
	a.register(cmd)
	f := cmd.Flags()
	f.StringVar(&spec.Service, "service", "*", "compute, network, load-balancer, image, baremetal, identity, or * for all")
	f.StringVar(&spec.Operation, "operation", "", "glob on the operation or task kind, e.g. 'server.*', loadbalancer.create")
	f.StringVar(&spec.Project, "project", "", "limit the fault to one project id")
	f.Float64Var(&spec.Rate, "rate", 1, "share of matching requests affected, 0 < rate <= 1")
	f.IntVar(&spec.Status, "status", 0, "error: HTTP status to answer (default 500)")
	f.StringVar(&spec.Message, "message", "", "error: the message in the error body")
	f.StringVar(&spec.Latency, "latency", "", "latency: added delay, e.g. 2s")
	f.StringVar(&spec.Mode, "mode", "", "outage: 503 (default) or drop")
	f.StringVar(&spec.StuckFor, "stuck-for", "", "stuck: time before the stuck work goes to ERROR, e.g. 30s")
	f.StringVar(&spec.Resource, "resource", "", "quota: the resource to limit")
	f.IntVar(&spec.Limit, "limit", 0, "quota: the limit")
	f.StringVar(&spec.For, "for", "", "switch the fault off by itself after this long, e.g. 5m")
	f.Int64Var(&seed, "seed", 0, "error, latency: with a --rate below 1, the same requests are hit on every run with the same seed")
	return cmd
}

func newFaultListCommand() *cobra.Command {
	var a adminFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the active faults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := adminclient.FromCloudsYAML(cmd.Context(), a.cloudsYAML, a.cloud)
			if err != nil {
				return err
			}
			rules, err := c.Faults(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tWHAT\tEXPIRES")
			for _, r := range rules {
				exp := "-"
				if r.Expires != nil {
					exp = r.Expires.Format("15:04:05")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Type, r.Describe(), exp)
			}
			return tw.Flush()
		},
	}
	a.register(cmd)
	return cmd
}

func newFaultRemoveCommand() *cobra.Command {
	var a adminFlags
	cmd := &cobra.Command{
		Use:     "rm ID|all",
		Aliases: []string{"remove", "off"},
		Short:   "Switch a fault off (or all of them)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := adminclient.FromCloudsYAML(cmd.Context(), a.cloudsYAML, a.cloud)
			if err != nil {
				return err
			}
			n, err := c.RemoveFault(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Printf("%d fault(s) switched off\n", n)
			return nil
		},
	}
	a.register(cmd)
	return cmd
}
