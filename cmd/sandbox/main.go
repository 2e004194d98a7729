// Command sandbox is KaaS Sandbox's command line; see `sandbox --help`.
package main

import (
	"context"
	"os"

	"github.com/kaas-sandbox/sandbox/cmd/sandbox/cli"
)

func main() {
	if err := cli.NewCommand().ExecuteContext(context.Background()); err != nil {
		os.Exit(1)
	}
}
