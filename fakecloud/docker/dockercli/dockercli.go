// Package dockercli drives the Docker engine through the docker command line, the way kind
// does: no daemon API client to pin, and every call is a command a user can paste to see what
// fakecloud saw. Errors carry the command and docker's own message.
package dockercli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// CLI runs docker commands.
type CLI struct {
	// Binary is the docker executable; default "docker".
	Binary string
}

// Error is a failed docker command.
type Error struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("docker %s: %s", strings.Join(summary(e.Args), " "), msg)
}

// summary keeps the verbs of a docker command line and the object it names (its last
// argument, or the one before a script), not every flag.
func summary(args []string) []string {
	args = shorten(args)
	var verbs []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(verbs) == 2 {
			break
		}
		verbs = append(verbs, a)
	}
	if len(args) > len(verbs) {
		verbs = append(verbs, "...", args[len(args)-1])
	}
	return verbs
}

func (e *Error) Unwrap() error { return e.Err }

// shorten keeps error messages readable when an argument is a whole script.
func shorten(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 || strings.Contains(a, "\n") {
			a = strings.SplitN(a, "\n", 2)[0]
			if len(a) > 60 {
				a = a[:60]
			}
			a += "..."
		}
		out[i] = a
	}
	return out
}

// IsNotFound reports whether err says that the container, network or volume does not exist.
func IsNotFound(err error) bool {
	var de *Error
	if !errors.As(err, &de) {
		return false
	}
	s := strings.ToLower(de.Stderr)
	return strings.Contains(s, "no such") || strings.Contains(s, "not found")
}

// Run runs docker with args and returns its trimmed standard output.
func (c CLI) Run(ctx context.Context, args ...string) (string, error) {
	return c.RunInput(ctx, nil, args...)
}

// RunInput is Run with stdin read from in.
func (c CLI) RunInput(ctx context.Context, in io.Reader, args ...string) (string, error) {
	bin := c.Binary
	if bin == "" {
		bin = "docker"
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &Error{Args: args, Stderr: stderr.String(), Err: err}
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Exec runs a shell script inside a running container.
func (c CLI) Exec(ctx context.Context, container, script string) (string, error) {
	return c.Run(ctx, "exec", container, "sh", "-c", script)
}

// Container is what fakecloud reads back from `docker inspect` of a container.
type Container struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	State  State  `json:"State"`
	Config struct {
		Image  string            `json:"Image"`
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	NetworkSettings struct {
		Networks map[string]Endpoint `json:"Networks"`
	} `json:"NetworkSettings"`
}

// State is a container's run state.
type State struct {
	Status   string `json:"Status"` // created, running, paused, restarting, removing, exited, dead
	Running  bool   `json:"Running"`
	ExitCode int    `json:"ExitCode"`
	Error    string `json:"Error"`
	Pid      int    `json:"Pid"`
}

// Endpoint is a container's leg on one network.
type Endpoint struct {
	NetworkID  string `json:"NetworkID"`
	IPAddress  string `json:"IPAddress"`
	MacAddress string `json:"MacAddress"`
}

// InspectContainer returns the container named name; IsNotFound(err) when there is none.
func (c CLI) InspectContainer(ctx context.Context, name string) (Container, error) {
	out, err := c.Run(ctx, "container", "inspect", name)
	if err != nil {
		return Container{}, err
	}
	var cs []Container
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 {
		return Container{}, fmt.Errorf("reading docker inspect of %s: %v", name, err)
	}
	cs[0].Name = strings.TrimPrefix(cs[0].Name, "/")
	return cs[0], nil
}

// Network is what fakecloud reads back from `docker network inspect`.
type Network struct {
	ID     string            `json:"Id"`
	Name   string            `json:"Name"`
	Labels map[string]string `json:"Labels"`
	IPAM   struct {
		Config []struct {
			Subnet  string `json:"Subnet"`
			Gateway string `json:"Gateway"`
			IPRange string `json:"IPRange"`
		} `json:"Config"`
	} `json:"IPAM"`
	Containers map[string]struct {
		Name string `json:"Name"`
	} `json:"Containers"`
}

// InspectNetwork returns the network named name; IsNotFound(err) when there is none.
func (c CLI) InspectNetwork(ctx context.Context, name string) (Network, error) {
	out, err := c.Run(ctx, "network", "inspect", name)
	if err != nil {
		return Network{}, err
	}
	var ns []Network
	if err := json.Unmarshal([]byte(out), &ns); err != nil || len(ns) != 1 {
		return Network{}, fmt.Errorf("reading docker network inspect of %s: %v", name, err)
	}
	return ns[0], nil
}

// Object is a labelled container, network or volume found by List.
type Object struct {
	Kind   string // "container", "network" or "volume"
	Name   string
	Labels map[string]string
}

// List returns the containers (running or not), networks and volumes carrying every label
// of selector (key=value, or key alone for any value).
func (c CLI) List(ctx context.Context, selector ...string) ([]Object, error) {
	var out []Object
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q"}
		if kind == "container" {
			args = append(args, "-a")
		}
		for _, s := range selector {
			args = append(args, "--filter", "label="+s)
		}
		ids, err := c.Run(ctx, args...)
		if err != nil {
			return nil, err
		}
		if ids == "" {
			continue
		}
		fields := strings.Fields(ids)
		labels := "{{json .Labels}}"
		if kind == "container" {
			labels = "{{json .Config.Labels}}"
		}
		inspect := append([]string{kind, "inspect", "--format", labels + "\t{{.Name}}"}, fields...)
		lines, err := c.Run(ctx, inspect...)
		if err != nil {
			if IsNotFound(err) {
				continue // removed in between: not ours to report
			}
			return nil, err
		}
		for _, line := range strings.Split(lines, "\n") {
			labels, name, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			o := Object{Kind: kind, Name: strings.TrimPrefix(name, "/")}
			if err := json.Unmarshal([]byte(labels), &o.Labels); err != nil {
				return nil, fmt.Errorf("reading labels of %s %s: %w", kind, o.Name, err)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// Remove deletes a container (with its anonymous volumes), network or volume; one that does
// not exist is not an error.
func (c CLI) Remove(ctx context.Context, kind, name string) error {
	var err error
	switch kind {
	case "container":
		_, err = c.Run(ctx, "rm", "-f", "-v", name)
	case "network":
		_, err = c.Run(ctx, "network", "rm", name)
	case "volume":
		_, err = c.Run(ctx, "volume", "rm", "-f", name)
	default:
		return fmt.Errorf("removing %s: unknown kind %q", name, kind)
	}
	if err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}
