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
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClusterOptions say where a local control plane lives and which loopback ports it uses, so
// several (a developer's, the test suite's, the benchmark's, the chaos test's) never clash.
type ClusterOptions struct {
	// Root is the project root (where hack/local-cluster.sh is).
	Root string
	// ControlPlane is the directory of the etcd, kube-apiserver, kube-controller-manager and
	// kubectl binaries.
	ControlPlane string
	// Dir holds the cluster's state, logs and kubeconfig; it is wiped on start.
	Dir string
	// APIPort, EtcdPort and KCMPort are the loopback ports of the three components.
	APIPort, EtcdPort, KCMPort int
	// Log receives the script's output (os.Stderr when nil).
	Log io.Writer
}

// Cluster is a local control plane started by hack/local-cluster.sh.
type Cluster struct {
	// Kubeconfig is the admin kubeconfig of the cluster.
	Kubeconfig string
	dir        string
	script     string
	env        []string
	log        io.Writer
}

// StartCluster stops whatever ran in opts.Dir before, wipes it and starts a fresh cluster.
func StartCluster(opts ClusterOptions) (*Cluster, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	controlplane, err := filepath.Abs(opts.ControlPlane)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
		dir:        dir,
		script:     filepath.Join(opts.Root, "hack", "local-cluster.sh"),
		env: append(os.Environ(), "LOCAL_CLUSTER_DIR="+dir, "CONTROLPLANE_DIR="+controlplane,
			"LOCAL_CLUSTER_API_PORT="+strconv.Itoa(opts.APIPort),
			"LOCAL_CLUSTER_ETCD_PORT="+strconv.Itoa(opts.EtcdPort),
			"LOCAL_CLUSTER_KCM_PORT="+strconv.Itoa(opts.KCMPort)),
		log: opts.Log,
	}
	if c.log == nil {
		c.log = os.Stderr
	}
	c.Stop()
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := c.up(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("starting the local cluster: %w", err)
	}
	return c, nil
}

// upAttempts bounds the runs of hack/local-cluster.sh up: it starts only what is not running,
// so a run that gave up on a component that was merely slow to start is completed by the next.
const upAttempts = 3

func (c *Cluster) up() error {
	var err error
	for attempt := 1; attempt <= upAttempts; attempt++ {
		cmd := exec.Command(c.script, "up")
		cmd.Env, cmd.Stdout, cmd.Stderr = c.env, c.log, c.log
		if err = cmd.Run(); err == nil {
			return nil
		}
		_, _ = fmt.Fprintf(c.log, "[harness] %s up failed (%v), attempt %d of %d\n", c.script, err, attempt, upAttempts)
	}
	return err
}

// Stop stops every component of the cluster; its state stays on disk.
func (c *Cluster) Stop() {
	cmd := exec.Command(c.script, "down")
	cmd.Env = c.env
	_ = cmd.Run()
}

// Dir is the directory of the cluster's state and logs.
func (c *Cluster) Dir() string { return c.dir }

// RESTConfig returns the admin client configuration, without a rate limit.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// NewClient returns an uncached client reading straight from the API server; qps 0 lifts the
// rate limit.
func (c *Cluster) NewClient(scheme *runtime.Scheme, qps, burst int) (client.Client, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	if qps > 0 {
		cfg.RateLimiter = nil
		cfg.QPS, cfg.Burst = float32(qps), burst
	}
	return client.New(rest.CopyConfig(cfg), client.Options{Scheme: scheme})
}

// RestartAPIServer kills kube-apiserver with SIGKILL, as a crash would, starts it again with
// hack/local-cluster.sh up (which starts only what is not running) and waits for /readyz.
func (c *Cluster) RestartAPIServer(ctx context.Context, timeout time.Duration) error {
	pidFile := filepath.Join(c.dir, "kube-apiserver.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("%s: %w", pidFile, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
	}
	if err := Poll(ctx, 50*time.Millisecond, 30*time.Second, func(context.Context) (bool, error) {
		return !alive(pid), nil
	}); err != nil {
		return fmt.Errorf("kube-apiserver (pid %d) did not exit after SIGKILL: %w", pid, err)
	}
	// The process is gone (or a zombie nobody reaped): let the script start a new one.
	_ = os.Remove(pidFile)
	if err := c.up(); err != nil {
		return fmt.Errorf("restarting kube-apiserver: %w", err)
	}
	return c.WaitReady(ctx, timeout)
}

// WaitReady waits until the API server answers /readyz with 200.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	hc.Timeout = 5 * time.Second
	err = Poll(ctx, 100*time.Millisecond, timeout, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready (see %s): %w", filepath.Join(c.dir, "kube-apiserver.log"), err)
	}
	return nil
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
