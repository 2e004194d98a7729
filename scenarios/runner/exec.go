package runner

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Commander runs a command and returns its standard output; the error carries its standard
// error. env adds to the process's environment.
type Commander interface {
	Run(ctx context.Context, env []string, name string, args ...string) ([]byte, error)
}

// execRunner runs commands with os/exec.
type execRunner struct{}

func (execRunner) Run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, oneLine(stderr.String(), 2000))
	}
	return stdout.Bytes(), nil
}
