// Package cli is the fakecloud command line: serve runs the cloud; fault, events and state
// talk to a running one through its admin API.
package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// NewCommand returns the fakecloud root command.
func NewCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "fakecloud",
		Short: "An OpenStack-compatible cloud for KaaS Sandbox",
		Long: `fakecloud serves Keystone v3, Nova, Neutron, Octavia, Glance and Ironic on one listener,
so gophercloud and the openstack CLI work against it unchanged. Its state is durable (kill -9 it
and start it again on the same --data), its asynchronous work finishes after restarts, and
faults can be injected per service and operation.

Start one:      fakecloud serve --listen 127.0.0.1:8780 --data ./state --clouds-yaml ./clouds.yaml
Use it:         OS_CLIENT_CONFIG_FILE=./clouds.yaml OS_CLOUD=fakecloud-demo openstack server list
Break it:       fakecloud fault add outage --service load-balancer
Watch it:       fakecloud events --follow`,
		SilenceUsage: true,
	}
	root.AddCommand(newServeCommand(), newFaultCommand(), newEventsCommand(), newStateCommand(), newBenchCommand(), newDownCommand())
	return root
}

// adminFlags are the flags of every command that talks to a running fakecloud.
type adminFlags struct {
	cloudsYAML string
	cloud      string
}

func (a *adminFlags) register(cmd *cobra.Command) {
	def := os.Getenv("OS_CLIENT_CONFIG_FILE")
	if def == "" {
		if _, err := os.Stat("clouds.yaml"); err == nil {
			def, _ = filepath.Abs("clouds.yaml")
		}
	}
	cmd.Flags().StringVar(&a.cloudsYAML, "clouds-yaml", def, "clouds.yaml written by 'fakecloud serve' (default $OS_CLIENT_CONFIG_FILE or ./clouds.yaml)")
	cmd.Flags().StringVar(&a.cloud, "os-cloud", "fakecloud-admin", "the clouds.yaml entry to use; it must hold the admin role")
}
