package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/fakecloud/docker"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
)

func newDownCommand() *cobra.Command {
	var cfg docker.Config
	var data string
	var all bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove every container, network and volume a docker-backend fakecloud made",
		Long: `Remove every docker object labelled with the instance (kaas.fakecloud/instance=NAME):
servers, routers, load balancers, bare-metal hosts, their volumes and networks, and the
backend's files under --data/docker. The state (--data/state.db) is kept: delete --data to
start from a fresh region. Stop 'fakecloud serve' first; running down twice is harmless.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				done, err := docker.DownAll(cmd.Context(), cfg.Docker)
				report(cmd, done)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "every instance: %d docker objects removed\n", len(done))
				return nil
			}
			cfg.DataDir = filepath.Join(data, "docker")
			b, err := docker.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			done, err := b.Down(cmd.Context())
			report(cmd, done)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "instance %s: %d docker objects removed\n", b.Instance(), len(done))
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Instance, "instance", "fakecloud", "the --instance given to 'fakecloud serve'")
	cmd.Flags().BoolVar(&all, "all", false, "remove the docker objects of every fakecloud instance on this machine (make sandbox-down does)")
	cmd.Flags().StringVar(&data, "data", "./fakecloud-data", "the --data given to 'fakecloud serve'")
	return cmd
}

func report(cmd *cobra.Command, done []services.RealObject) {
	for _, o := range done {
		fmt.Fprintf(cmd.OutOrStdout(), "removed %s %s (%s %s)\n", o.Kind, o.Name, o.Type, o.ID)
	}
}
