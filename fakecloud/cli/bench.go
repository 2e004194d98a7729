package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/fakecloud/bench"
)

func newBenchCommand() *cobra.Command {
	var opts bench.Options
	var dopts bench.DockerOptions
	var backend string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure fakecloud at scale and print a table",
		Long: `Start a memory-backend fakecloud on loopback in a temporary directory, create --n servers,
ports and load balancers through gophercloud with --concurrency clients, measure p50/p99 of get
and list-with-filter with all of them stored, then time a restart that loads them back.
Targets: p99 under 5 ms for get and list-with-filter at 10,000; 1,000 creates per second;
restart under 2 s.

With --backend docker it starts a docker-backend fakecloud of its own instead and times a
server to ACTIVE and to cloud-init done (alone and --servers at once), a load balancer to
ACTIVE and the memory of idle VM containers; it removes everything it made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Progress = os.Stderr
			start := time.Now()
			if backend == "docker" {
				dopts.Progress = os.Stderr
				fmt.Fprintf(os.Stderr, "fakecloud bench (docker backend): node image %s, %d servers at once\n", dopts.Version, dopts.Servers)
				rep, err := bench.RunDocker(cmd.Context(), dopts)
				return finish(rep, start, err)
			}
			if backend != "memory" {
				return fmt.Errorf("--backend %q: choose memory or docker", backend)
			}
			fmt.Fprintf(os.Stderr, "fakecloud bench: %d of each, %d clients\n", opts.N, opts.Concurrency)
			rep, err := bench.Run(cmd.Context(), opts)
			return finish(rep, start, err)
		},
	}
	cmd.Flags().StringVar(&backend, "backend", "memory", "memory: the API at scale; docker: boot times of real containers (needs make images)")
	cmd.Flags().IntVar(&dopts.Servers, "servers", 10, "docker: servers created at once in the burst")
	cmd.Flags().StringVar(&dopts.Version, "version", "v1.37.2", "docker: Kubernetes version of the node image the servers boot")
	cmd.Flags().IntVar(&opts.N, "n", 10000, "resources of each kind to store")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 16, "parallel clients for creates")
	cmd.Flags().IntVar(&opts.Samples, "samples", 1000, "gets and lists measured per kind")
	return cmd
}

// finish prints a benchmark's table (what was measured, even after a failure) and its time.
func finish(rep interface{ Print(io.Writer) }, start time.Time, err error) error {
	rep.Print(os.Stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(start).Round(time.Second))
	return nil
}
