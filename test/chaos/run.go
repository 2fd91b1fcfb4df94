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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/securitybaseline/securitybaseline-operator/test/internal/harness"
)

// runner is one chaos run.
type runner struct {
	o       options
	f       *findings
	sum     summary
	rng     *rand.Rand
	cluster *harness.Cluster
	c       client.Client
	op      *harness.Operator
	starts  int
	// selected are the namespaces the baseline must target; initial holds every Namespace's
	// Pod Security labels before the baseline existed.
	selected map[string]bool
	initial  map[string]map[string]string
	uid      types.UID
	// applied is when the baseline was created, lastStart when the last killed operator was
	// restarted.
	applied, lastStart time.Time
}

// run does the whole test; it returns an error when it cannot go on (the findings hold the
// failed checks), and always stops what it started.
func (r *runner) run(ctx context.Context) error {
	r.rng = rand.New(rand.NewPCG(uint64(r.o.seed), uint64(r.o.seed)>>32|1))
	logf("N=%d K=%d seed=%d", r.o.n, r.o.k, r.o.seed)
	defer r.stopAll()
	if err := r.setUp(ctx); err != nil {
		return err
	}
	if err := r.rollOutUnderChaos(ctx); err != nil {
		return err
	}
	converged, err := r.converge(ctx)
	if err != nil {
		return err
	}
	if converged {
		if err := r.quietRestart(ctx); err != nil {
			return err
		}
	} else {
		logf("step 5 skipped: the baseline never converged")
	}
	return r.deleteBaseline(ctx)
}

func (r *runner) stopAll() {
	if r.op != nil {
		if exited, _ := r.op.Exited(); !exited {
			r.stopOperator("final")
		}
	}
	if r.cluster != nil && !r.o.keep {
		r.cluster.Stop()
	}
}

// setUp starts the cluster, installs the CRD, creates the namespaces and builds the operator.
func (r *runner) setUp(ctx context.Context) error {
	start := time.Now()
	logf("step 1: starting the cluster in %s", r.o.dir)
	var err error
	r.cluster, err = harness.StartCluster(harness.ClusterOptions{
		Root: r.o.root, ControlPlane: r.o.controlplane, Dir: filepath.Join(r.o.dir, "cluster"),
		APIPort: r.o.apiPort, EtcdPort: r.o.etcdPort, KCMPort: r.o.kcmPort,
	})
	if err != nil {
		return err
	}
	r.sum.cluster = time.Since(start)
	if r.c, err = r.cluster.NewClient(clientgoscheme.Scheme, 0, 0); err != nil {
		return err
	}
	cfg, err := r.cluster.RESTConfig()
	if err != nil {
		return err
	}
	if err := harness.InstallCRDs(cfg, clientgoscheme.Scheme, filepath.Join(r.o.root, "config", "crd", "bases")); err != nil {
		return err
	}
	if err := r.createNamespaces(ctx); err != nil {
		return err
	}
	logf("step 2: building %s", r.o.manager)
	return harness.BuildManager(r.o.root, r.o.manager)
}

// createNamespaces creates the N selected namespaces and, all carrying the target label too
// except the first two, unselected ones: one with another label value, one unlabelled, one in
// excludeNamespaces, and the protected namespaces (the operator's own among them).
func (r *runner) createNamespaces(ctx context.Context) error {
	logf("step 1: creating %d selected namespaces and the unselected ones", r.o.n)
	r.selected = map[string]bool{}
	names := make([]string, r.o.n)
	for i := range names {
		names[i] = fmt.Sprintf("chaos-%05d", i)
		r.selected[names[i]] = true
	}
	create := func(name string, labels map[string]string) error {
		return r.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
	}
	yes := map[string]string{targetLabel: "yes"}
	if err := harness.Parallel(r.o.workers, len(names), func(i int) error { return create(names[i], yes) }); err != nil {
		return err
	}
	for name, labels := range map[string]map[string]string{
		"chaos-other-value": {targetLabel: "no"}, "chaos-unlabelled": nil, excludedNamespace: yes, harness.OperatorNamespace: yes,
	} {
		if err := create(name, labels); err != nil {
			return err
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": yes}})
	for _, name := range []string{metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := r.c.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("labelling %s: %w", name, err)
		}
	}
	s, err := readCluster(ctx, r.c)
	if err != nil {
		return err
	}
	r.initial = s.podSecurityLabels()
	return nil
}

// startOperator starts a new manager process without waiting for it.
func (r *runner) startOperator() error {
	metrics, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	probe, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	r.starts++
	r.op, err = harness.StartOperator(harness.OperatorOptions{
		Binary:      r.o.manager,
		Kubeconfig:  r.cluster.Kubeconfig,
		LogPath:     filepath.Join(r.o.dir, fmt.Sprintf("manager-%d.log", r.starts)),
		MetricsAddr: metrics, ProbeAddr: probe,
		Args: []string{"--kube-api-qps", strconv.Itoa(r.o.qps), "--kube-api-burst", strconv.Itoa(r.o.burst),
			"--workers", strconv.Itoa(r.o.workers)},
	})
	return err
}

// stopOperator stops the manager with SIGTERM; an unclean exit is a finding.
func (r *runner) stopOperator(when string) {
	if err := r.op.Stop(); err != nil {
		r.f.add("operator: clean exit on SIGTERM", "%s: %v", when, err)
	}
}

// checkAlive records a manager that exited although nobody killed it.
func (r *runner) checkAlive(when string) bool {
	if exited, err := r.op.Exited(); exited {
		r.f.add("operator: exited by itself", "%s: %v (see %s)", when, err, r.op.LogPath())
		return false
	}
	return true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// randomDelay is a kill moment: 0.2 to 3 s.
func (r *runner) randomDelay() time.Duration {
	return 200*time.Millisecond + time.Duration(r.rng.Int64N(int64(2800*time.Millisecond)))
}
