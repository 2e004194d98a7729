// Command fakecloud is KaaS Sandbox's OpenStack-compatible cloud; see `fakecloud --help`.
package main

import (
	"context"
	"os"

	"github.com/kaas-sandbox/sandbox/fakecloud/cli"
)

func main() {
	if err := cli.NewCommand().ExecuteContext(context.Background()); err != nil {
		os.Exit(1)
	}
}
