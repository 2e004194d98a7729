package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaas-sandbox/sandbox/fakecloud/cloud"
	"github.com/kaas-sandbox/sandbox/fakecloud/docker"
)

func newServeCommand() *cobra.Command {
	var (
		listen, data, backend, cloudsYAML, publicURL, logLevel, seedPath string
		timeScale                                                        float64
		cfg                                                              cloud.Config
		dcfg                                                             docker.Config
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the cloud",
		Long: `Run every service on one listener until interrupted. On start it writes --clouds-yaml with
the clouds fakecloud-admin (admin of project admin), fakecloud-demo (member of project demo) and
fakecloud-demo-reader (reader of project demo). Passwords are generated on the first start and
kept in --data, so later starts write the same file.

A fresh region is seeded with flavors g1.small..g1.xlarge and bm1.medium/bm1.large, one image
per pinned Kubernetes version, the external network "public", zone "nova" and three bare-metal
nodes. --seed FILE changes that on the first start of a --data directory, e.g.:

` + seedExample,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			switch backend {
			case "memory":
				if timeScale < 0 {
					return fmt.Errorf("--time-scale must be >= 0, got %g", timeScale)
				}
				cfg.Timing = cloud.MemoryTiming.Scaled(timeScale)
			case "docker":
				dcfg.DataDir, dcfg.Log = filepath.Join(data, "docker"), log
				b, err := docker.New(cmd.Context(), dcfg)
				if err != nil {
					return err
				}
				cfg.Backends = cloud.Backends{Compute: b, Network: b, LoadBalancer: b, BareMetal: b, World: b, Reserved: docker.ReservedBlock}
			default:
				return fmt.Errorf("--backend %q: choose memory (timers only) or docker (containers and networks on this machine)", backend)
			}
			if seedPath != "" {
				if err := applySeedFile(seedPath, &cfg.Seed); err != nil {
					return err
				}
			}
			cfg.DataDir, cfg.PublicURL, cfg.Log = data, publicURL, log
			return serve(cmd.Context(), listen, cloudsYAML, cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8780", "address to serve every service on")
	f.StringVar(&data, "data", "./fakecloud-data", "directory holding the durable state")
	f.StringVar(&backend, "backend", "memory", "what makes resources real: memory (timers only) or docker (servers, routers and load balancers as containers, networks as docker networks)")
	f.StringVar(&dcfg.Instance, "instance", "fakecloud", "docker backend: name of this fakecloud in container names and labels (two on one machine need two names)")
	f.StringVar(&dcfg.PublicNetwork, "public-network", "public", "docker backend: docker network standing for the external network (the sandbox's Internet)")
	f.StringVar(&cloudsYAML, "clouds-yaml", "./clouds.yaml", "where to write clouds.yaml for the seeded users")
	f.StringVar(&publicURL, "public-url", "", "base URL put into the service catalog (default: the address each client used)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.Float64Var(&timeScale, "time-scale", 1, "memory backend: multiply the simulated durations (server build 2s, load balancer 3s...) by this")
	f.BoolVar(&cfg.Sync, "sync", false, "fsync every state change (survives host crashes, not only kill -9)")
	f.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of Keystone tokens")
	f.IntVar(&cfg.Workers, "workers", 8, "asynchronous tasks run at once")
	f.StringVar(&cfg.Seed.ExternalCIDR, "external-cidr", "172.24.4.0/24", "subnet of the external (floating IP) network seeded on first start")
	f.StringVar(&seedPath, "seed", "", "YAML describing the fresh region (zones, flavors, images, external network, bare-metal nodes); see 'fakecloud serve --help'")
	f.IntVar(&cfg.Seed.BareMetalNodes, "baremetal-nodes", 3, "bare-metal nodes enrolled on first start")
	f.IntVar(&cfg.Seed.BareMetalNodes, "baremetal-hosts", 3, "same as --baremetal-nodes; with the docker backend each node is a host container (32 CPUs, 128 GiB as limits)")
	f.StringVar(&cfg.Seed.AdminPassword, "admin-password", "", "admin's password on first start (default: random)")
	f.StringVar(&cfg.Seed.DemoPassword, "demo-password", "", "demo's password on first start (default: random)")
	return cmd
}

func serve(ctx context.Context, listen, cloudsYAML string, cfg cloud.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := cloud.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another fakecloud running? choose another --listen)", listen, err)
	}
	authURL := cfg.PublicURL
	if authURL == "" {
		authURL = "http://" + ln.Addr().String()
	}
	if err := c.WriteCloudsYAML(cloudsYAML, authURL+"/identity/v3"); err != nil {
		return err
	}
	c.Start(ctx)
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Info("fakecloud is serving", "url", authURL, "data", cfg.DataDir, "clouds_yaml", cloudsYAML,
		"resources", len(c.Resources()), "pending_tasks", len(c.Tasks.Pending()), "startup", time.Since(start).Round(time.Millisecond))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("fakecloud stopped")
	return nil
}
