package dockercli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestShorten(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, c := range []struct {
		in, want []string
	}{
		{nil, []string{}},
		{[]string{"exec", "c1", "ip", "-o", "link"}, []string{"exec", "c1", "ip", "-o", "link"}},
		{[]string{"sh", "-c", "set -e\niptables-restore <<'RULES'\n*nat\nCOMMIT\nRULES"}, []string{"sh", "-c", "set -e..."}},
		{[]string{long}, []string{strings.Repeat("x", 60) + "..."}},
		{[]string{strings.Repeat("y", 80)}, []string{strings.Repeat("y", 80)}}, // 80 is still short
		{[]string{strings.Repeat("z", 70) + "\nmore"}, []string{strings.Repeat("z", 60) + "..."}},
	} {
		in := slices.Clone(c.in)
		if got := shorten(c.in); !slices.Equal(got, c.want) {
			t.Errorf("shorten(%q) = %q, want %q", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("shorten changed its argument: %q", c.in)
		}
	}
}

func TestSummary(t *testing.T) {
	script := "set -e\nnat() { iptables -w 5 -t nat \"$@\"; }\n" + strings.Repeat("ip addr replace 10.0.0.1/24 dev eth1\n", 20)
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"start", "kaas-server-1"}, "start kaas-server-1"},
		{[]string{"rm", "-f", "-v", "kaas-server-1"}, "rm ... kaas-server-1"},
		{[]string{"container", "inspect", "kaas-router-1"}, "container inspect ... kaas-router-1"},
		{[]string{"create", "--name", "kaas-server-1", "--label", "a=b", "--privileged", "--network", "kaas-n1", "--ip", "10.0.0.5", "kaas/node:v1.36"},
			"create ... kaas/node:v1.36"},
		{[]string{"network", "connect", "--ip", "10.0.0.5", "kaas-n1", "kaas-server-1"}, "network connect ... kaas-server-1"},
		{[]string{"exec", "kaas-router-1", "sh", "-c", script}, "exec kaas-router-1 ... set -e..."},
		{[]string{"ps"}, "ps"},
		{nil, ""},
	} {
		if got := strings.Join(summary(c.in), " "); got != c.want {
			t.Errorf("summary(%.60q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Args: []string{"start", "kaas-server-1"}, Stderr: "Error response from daemon: No such container: kaas-server-1\n", Err: errors.New("exit status 1")},
			"docker start kaas-server-1: Error response from daemon: No such container: kaas-server-1"},
		{&Error{Args: []string{"exec", "c", "sh", "-c", "set -e\nexit 3"}, Stderr: "  \n", Err: errors.New("exit status 3")},
			"docker exec c ... set -e...: exit status 3"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if !errors.Is(c.err, c.err.Err) {
			t.Errorf("%v does not unwrap to %v", c.err, c.err.Err)
		}
	}
}

func TestIsNotFound(t *testing.T) {
	de := func(stderr string) error {
		return &Error{Args: []string{"container", "inspect", "x"}, Stderr: stderr, Err: errors.New("exit status 1")}
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"no such container", de("Error response from daemon: No such container: x\n"), true},
		{"no such object", de("Error: No such object: x"), true},
		{"network not found", de("Error response from daemon: network kaas-n1 not found"), true},
		{"wrapped", fmt.Errorf("inspecting x: %w", de("Error: No such container: x")), true},
		{"other stderr", de("Error response from daemon: Cannot connect to the Docker daemon"), false},
		{"empty stderr", de(""), false},
		{"not a docker error", errors.New("No such container: x"), false},
		{"nil", nil, false},
	} {
		if got := IsNotFound(c.err); got != c.want {
			t.Errorf("%s: IsNotFound(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
