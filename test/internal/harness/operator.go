/*
Copyright 2026 The securitybaseline-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OperatorNamespace is the operator's own namespace the harness runs it with (POD_NAMESPACE).
const OperatorNamespace = "securitybaseline-system"

// OperatorOptions say how to run the manager binary.
type OperatorOptions struct {
	// Binary is the manager binary.
	Binary string
	// Kubeconfig is the cluster it runs against.
	Kubeconfig string
	// LogPath receives its standard output and error.
	LogPath string
	// MetricsAddr and ProbeAddr are the host:port of its metrics and health probe endpoints.
	MetricsAddr, ProbeAddr string
	// Args are further flags.
	Args []string
}

// Operator is the manager binary running as its own process.
type Operator struct {
	// Started is when the process started.
	Started time.Time
	opts    OperatorOptions
	cmd     *exec.Cmd
	done    chan struct{}
	log     *os.File
	exitErr error
}

// BuildManager builds the manager binary of the project at root into out.
func BuildManager(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s .: %w", out, err)
	}
	return nil
}

// FreeAddr returns a loopback host:port nobody listens on right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// StartOperator starts the manager and returns without waiting for it to be ready.
func StartOperator(opts OperatorOptions) (*Operator, error) {
	f, err := os.Create(opts.LogPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--metrics-secure=false", // plain HTTP: the harness scrapes without a token
		"--metrics-bind-address", opts.MetricsAddr,
		"--health-probe-bind-address", opts.ProbeAddr,
	}, opts.Args...)
	cmd := exec.Command(opts.Binary, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+opts.Kubeconfig, "POD_NAMESPACE="+OperatorNamespace)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, err
	}
	op := &Operator{Started: time.Now(), opts: opts, cmd: cmd, done: make(chan struct{}), log: f}
	go func() { op.exitErr = cmd.Wait(); close(op.done) }()
	return op, nil
}

// Pid is the process id.
func (op *Operator) Pid() int { return op.cmd.Process.Pid }

// LogPath is the file holding the process' output.
func (op *Operator) LogPath() string { return op.opts.LogPath }

// MetricsURL is the address of its Prometheus metrics.
func (op *Operator) MetricsURL() string { return "http://" + op.opts.MetricsAddr + "/metrics" }

// Exited reports whether the process has ended, and how.
func (op *Operator) Exited() (bool, error) {
	select {
	case <-op.done:
		return true, op.exitErr
	default:
		return false, nil
	}
}

// WaitReady waits until the manager answers /readyz with 200; it fails at once when the
// process exits.
func (op *Operator) WaitReady(ctx context.Context, timeout time.Duration) error {
	url := "http://" + op.opts.ProbeAddr + "/readyz"
	return Poll(ctx, 50*time.Millisecond, timeout, func(ctx context.Context) (bool, error) {
		if exited, err := op.Exited(); exited {
			return false, fmt.Errorf("the operator exited (%w); see %s", err, op.opts.LogPath)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// Stop sends SIGTERM and waits up to 15 s for a clean exit, then kills the process. It returns
// an error when the process did not exit cleanly (non-zero status, or the kill was needed).
func (op *Operator) Stop() error {
	_ = op.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-op.done:
		err = op.exitErr
	case <-time.After(15 * time.Second):
		_ = op.cmd.Process.Kill()
		<-op.done
		err = errors.New("did not exit within 15 s of SIGTERM; killed")
	}
	_ = op.log.Close()
	if err != nil {
		return fmt.Errorf("operator pid %d: %w (see %s)", op.Pid(), err, op.opts.LogPath)
	}
	return nil
}

// Kill ends the process with SIGKILL, as a crash or an OOM kill would, and waits for it.
func (op *Operator) Kill() {
	_ = op.cmd.Process.Kill()
	<-op.done
	_ = op.log.Close()
}

// PeakRSSMiB reads the process' high-water mark of resident memory.
func (op *Operator) PeakRSSMiB() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", op.Pid()))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
