package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SandboxProcesses kills and restarts what the sandbox runs outside the service cluster:
// fakecloud's process (started by hack/sandbox-cloud.sh) and the kind node containers.
type SandboxProcesses struct {
	// Docker is the docker CLI.
	Docker string
	// FakecloudDir holds fakecloud.pid and fakecloud.log.
	FakecloudDir string
	// Service is the service cluster, polled until it answers after a node restart.
	Service client.Client
	Exec    Commander
	// Wait bounds the wait for fakecloud or the service cluster to answer again; default 5m.
	Wait time.Duration
}

func (s *SandboxProcesses) wait() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return 5 * time.Minute
}

// KillFakecloud implements Disruptor: it reads the running fakecloud's command line and
// working directory from /proc, kills it with SIGKILL, and starts the same command again in
// its own session with its log appended to, as hack/sandbox-cloud.sh does.
func (s *SandboxProcesses) KillFakecloud(ctx context.Context, downFor time.Duration) error {
	pidFile := filepath.Join(s.FakecloudDir, "fakecloud.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("fakecloud's pid file: %w (is the sandbox up?)", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("pid file %s holds %q", pidFile, raw)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("fakecloud (pid %d) does not run: %w", pid, err)
	}
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(argv) < 2 || filepath.Base(argv[0]) != "fakecloud" || argv[1] != "serve" {
		return fmt.Errorf("pid %d is not fakecloud serve: %q", pid, argv)
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return fmt.Errorf("fakecloud's working directory: %w", err)
	}
	probe := publicURL(argv) + "/identity/v3"
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %d: %w", pid, err)
	}
	if err := waitGone(ctx, pid); err != nil {
		return err
	}
	if err := sleep(ctx, downFor); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.FakecloudDir, "fakecloud.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("fakecloud's log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = cwd, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting fakecloud again (%s): %w", strings.Join(argv, " "), err)
	}
	newPid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }() // reap it if it exits while this process runs
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(newPid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", pidFile, err)
	}
	return poll(ctx, s.wait(), time.Second, "fakecloud to answer at "+probe, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, probe, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s answers %s", probe, resp.Status)
		}
		return nil
	})
}

// publicURL is the --public-url (or --listen) of fakecloud's command line.
func publicURL(argv []string) string {
	get := func(flag string) string {
		for i, a := range argv {
			if a == flag && i+1 < len(argv) {
				return argv[i+1]
			}
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				return v
			}
		}
		return ""
	}
	if u := get("--public-url"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	return "http://" + get("--listen")
}

// waitGone waits until a killed process is gone (or a zombie).
func waitGone(ctx context.Context, pid int) error {
	return poll(ctx, 30*time.Second, 100*time.Millisecond, fmt.Sprintf("pid %d to exit", pid), func() error {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return nil
		}
		return errors.New("still running")
	})
}

// RestartNode implements Disruptor with docker restart (or stop, wait, start).
func (s *SandboxProcesses) RestartNode(ctx context.Context, node string, downFor time.Duration) error {
	if downFor > 0 {
		if _, err := s.Exec.Run(ctx, nil, s.Docker, "stop", node); err != nil {
			return fmt.Errorf("stopping node %s: %w", node, err)
		}
		if err := sleep(ctx, downFor); err != nil {
			return err
		}
		if _, err := s.Exec.Run(ctx, nil, s.Docker, "start", node); err != nil {
			return fmt.Errorf("starting node %s: %w", node, err)
		}
	} else if _, err := s.Exec.Run(ctx, nil, s.Docker, "restart", node); err != nil {
		return fmt.Errorf("restarting node %s: %w", node, err)
	}
	return poll(ctx, s.wait(), 2*time.Second, "the service cluster's API to answer", func() error {
		var ns corev1.NamespaceList
		return s.Service.List(ctx, &ns, client.Limit(1))
	})
}

// poll calls fn every `every` until it returns nil, at most timeout.
func poll(ctx context.Context, timeout, every time.Duration, what string, fn func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting %s for %s: %w", timeout, what, err)
		}
		if serr := sleep(ctx, every); serr != nil {
			return fmt.Errorf("waiting for %s: %w", what, serr)
		}
	}
}
