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

// Command chaos crashes the operator while it rolls a baseline out, then checks the exact
// result. On its own local control plane (hack/local-cluster.sh under bin/chaos/, on ports no
// developer cluster or test suite uses), with the operator built from this tree running as a
// separate process:
//
//  1. it installs the CRD and creates N namespaces labelled for the baseline, plus unselected,
//     excluded and protected namespaces that carry the label too;
//  2. it starts the operator and applies one SecurityBaseline (Pod Security labels, three
//     switch NetworkPolicies and an extra one, a Role, a RoleBinding with a $(NAMESPACE)
//     subject, a ServiceAccount);
//  3. while it rolls out, it kills the operator with SIGKILL K times at random moments,
//     restarting it each time, and once kills and restarts kube-apiserver;
//  4. it waits for Ready with every namespace compliant and checks, straight from the API
//     server, every object, label and ownerReference, and the exact status counts;
//  5. it stops the operator, starts a fresh one and checks that it writes nothing at all;
//  6. it deletes the baseline and checks that nothing of it is left.
//
// It prints every failed check with what it saw, and exits non-zero when any failed.
//
//	make test-chaos                              # N=100, K=5
//	make test-chaos CHAOS_ARGS="-n 1000 -k 20"   # -seed S replays a run; -h lists every flag
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

type options struct {
	n, k                int
	seed                int64
	keep                bool
	root, controlplane  string
	manager, dir        string
	apiPort, etcdPort   int
	kcmPort, workers    int
	qps, burst          int
	readyTimeoutPerNS   time.Duration
	readyTimeoutInitial time.Duration
}

func main() {
	var o options
	// Its own flag set: the libraries register flags (-kubeconfig) the chaos test does not use.
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	fs.IntVar(&o.n, "n", 100, "Namespaces the baseline selects.")
	fs.IntVar(&o.k, "k", 5, "Times the operator is killed with SIGKILL during the rollout.")
	fs.Int64Var(&o.seed, "seed", 0, "Seed of the random kill moments (0: from the clock); printed, so a run can be replayed.")
	fs.BoolVar(&o.keep, "keep", false, "Leave the cluster running at the end (its kubeconfig is printed).")
	fs.StringVar(&o.root, "root", ".", "Project root.")
	fs.StringVar(&o.controlplane, "controlplane", "bin/k8s/1.37.2", "Directory of the control plane binaries.")
	fs.StringVar(&o.manager, "manager", "bin/manager", "Where the operator binary is built.")
	fs.StringVar(&o.dir, "dir", "bin/chaos", "Directory of the cluster's state and of the operator logs.")
	fs.IntVar(&o.apiPort, "api-port", 26443, "kube-apiserver port.")
	fs.IntVar(&o.etcdPort, "etcd-port", 22379, "etcd client port (the peer port is the next one).")
	fs.IntVar(&o.kcmPort, "kcm-port", 30257, "kube-controller-manager port.")
	fs.IntVar(&o.workers, "workers", 16, "Operator --workers, and the concurrency creating namespaces.")
	fs.IntVar(&o.qps, "qps", 100, "Operator --kube-api-qps.")
	fs.IntVar(&o.burst, "burst", 200, "Operator --kube-api-burst.")
	fs.DurationVar(&o.readyTimeoutInitial, "ready-timeout", 2*time.Minute, "Time allowed to reach Ready after the last restart, plus -ready-timeout-per-ns for each namespace.")
	fs.DurationVar(&o.readyTimeoutPerNS, "ready-timeout-per-ns", 300*time.Millisecond, "Time allowed to reach Ready per namespace.")
	_ = fs.Parse(os.Args[1:])
	if o.n <= 0 || o.k < 0 {
		fmt.Fprintln(os.Stderr, "chaos: -n must be positive and -k not negative")
		os.Exit(2)
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano()
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	start := time.Now()
	r := &runner{o: o, f: &findings{}}
	err := r.run(ctx)
	r.sum.total = time.Since(start)

	fmt.Println()
	r.f.print(os.Stdout)
	r.printSummary()
	switch {
	case err != nil:
		fmt.Printf("chaos: FAIL: aborted: %v\n", err)
		os.Exit(1)
	case r.f.count() > 0:
		fmt.Printf("chaos: FAIL: %d checks failed (replay with -seed %d)\n", r.f.count(), o.seed)
		os.Exit(1)
	}
	fmt.Println("chaos: PASS")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[chaos %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// summary is what the run prints at the end.
type summary struct {
	cluster, rollout, afterLastKill, quiet, deletion, total time.Duration
	killDelays                                              []time.Duration
	apiRestartRound                                         int
	apiRestart                                              time.Duration
	quietReconciles                                         float64
}

func (r *runner) printSummary() {
	s := r.sum
	fmt.Printf("chaos: N=%d K=%d seed=%d\n", r.o.n, r.o.k, r.o.seed)
	fmt.Printf("  kills after (s):        %s\n", durations(s.killDelays))
	fmt.Printf("  kube-apiserver restart: in round %d of %d (before its kill), took %.1f s\n", s.apiRestartRound+1, max(r.o.k, 1), s.apiRestart.Seconds())
	fmt.Printf("  times (s):              cluster %.1f, rollout to Ready %.1f (%.1f after the last restart), quiet restart %.1f (%.0f reconciles), deletion %.1f, total %.1f\n",
		s.cluster.Seconds(), s.rollout.Seconds(), s.afterLastKill.Seconds(), s.quiet.Seconds(), s.quietReconciles,
		s.deletion.Seconds(), s.total.Seconds())
	fmt.Printf("  operator logs:          %s\n", filepath.Join(r.o.dir, "manager-*.log"))
	if r.o.keep && r.cluster != nil {
		fmt.Printf("  cluster kept:           export KUBECONFIG=%s\n", r.cluster.Kubeconfig)
	}
}

func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(s, " ")
}
