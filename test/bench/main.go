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

// Command bench measures the operator at scale on a real control plane (etcd + kube-apiserver +
// kube-controller-manager started by hack/local-cluster.sh), with the operator built from this
// tree running as a separate process, as users run it. For each N it measures:
//
//   - raw: a plain parallel client creating the objects one baseline produces (same QPS, burst
//     and concurrency as the operator; and with no rate limit);
//   - convergence: time from applying one SecurityBaseline over N namespaces to Ready with every
//     namespace compliant, at the default client budget and with the rate limit lifted;
//   - drift repair latency: deletes or edits random managed objects one at a time and times each
//     repair;
//   - writes at rest: write requests the operator sends while idle;
//   - memory: the operator's peak RSS, also with unrelated Roles and ConfigMaps present.
//
// It prints one table and writes the results as JSON.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
	"github.com/securitybaseline/securitybaseline-operator/test/internal/harness"
)

const (
	roleName      = "app-reader"
	baselineName  = "bench"
	benchLabel    = "bench.baseline.dev/target"
	metricsPort   = 18080
	probePort     = 18081
	unlimitedRate = "1000000"
)

// Result is one row of the benchmark: everything measured at one N.
type Result struct {
	N                            int     `json:"n"`
	ObjectsPerNamespace          int     `json:"objectsPerNamespace"`
	QPS                          int     `json:"qps"`
	Burst                        int     `json:"burst"`
	Workers                      int     `json:"workers"`
	RawSeconds                   float64 `json:"rawSeconds"`
	RawUnlimitedSeconds          float64 `json:"rawUnlimitedSeconds"`
	ConvergeSeconds              float64 `json:"convergeSeconds"`
	ConvergeRatio                float64 `json:"convergeRatio"`
	ConvergeUnlimitedSeconds     float64 `json:"convergeUnlimitedSeconds"`
	ConvergeUnlimitedRatio       float64 `json:"convergeUnlimitedRatio"`
	DriftSamples                 int     `json:"driftSamples"`
	DriftP50Ms                   float64 `json:"driftP50Ms"`
	DriftP90Ms                   float64 `json:"driftP90Ms"`
	DriftP99Ms                   float64 `json:"driftP99Ms"`
	DriftMaxMs                   float64 `json:"driftMaxMs"`
	IdleSeconds                  float64 `json:"idleSeconds"`
	WritesAtRest                 int     `json:"writesAtRest"`
	PeakRSSMiB                   float64 `json:"peakRSSMiB"`
	UnrelatedObjects             int     `json:"unrelatedObjects"`
	ConvergeWithUnrelatedSeconds float64 `json:"convergeWithUnrelatedSeconds"`
	PeakRSSWithUnrelatedMiB      float64 `json:"peakRSSWithUnrelatedMiB"`
}

// Report is the JSON file: the machine and every row.
type Report struct {
	Date      string   `json:"date"`
	Machine   string   `json:"machine"`
	GoVersion string   `json:"goVersion"`
	Results   []Result `json:"results"`
}

type options struct {
	sizes               []int
	qps, burst, workers int
	driftSamples        int
	idle                time.Duration
	unrelated           int
	root, controlplane  string
	manager, out        string
	keepCluster         bool
	operatorArgs        []string
}

func main() {
	var o options
	var sizes string
	// Its own flag set: the libraries register flags (-kubeconfig) the benchmark does not use.
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	fs.StringVar(&sizes, "n", "100,1000", "Comma-separated namespace counts.")
	fs.IntVar(&o.qps, "qps", 100, "Client QPS of the operator and of the rate-limited plain client.")
	fs.IntVar(&o.burst, "burst", 200, "Client burst of the operator and of the rate-limited plain client.")
	fs.IntVar(&o.workers, "workers", 16, "Concurrency of the operator (--workers) and of the plain client.")
	fs.IntVar(&o.driftSamples, "drift", 200, "Managed objects deleted or edited, one at a time, to time repairs.")
	fs.DurationVar(&o.idle, "idle", 2*time.Minute, "Idle time over which writes at rest are counted.")
	fs.IntVar(&o.unrelated, "unrelated", 10000, "Unrelated Roles and ConfigMaps (half each) present for the memory run.")
	fs.StringVar(&o.root, "root", ".", "Project root.")
	fs.StringVar(&o.controlplane, "controlplane", "bin/k8s/1.37.2", "Directory of the control plane binaries.")
	fs.StringVar(&o.manager, "manager", "bin/manager", "The operator binary.")
	fs.StringVar(&o.out, "out", "bin/bench/results.json", "Where the JSON results go.")
	fs.BoolVar(&o.keepCluster, "keep-cluster", false, "Leave the last cluster running.")
	operatorArgs := fs.String("operator-args", "", "Extra operator flags, space-separated (e.g. --pprof-bind-address=127.0.0.1:6060).")
	_ = fs.Parse(os.Args[1:])
	o.operatorArgs = strings.Fields(*operatorArgs)
	for s := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("-n: %q is not a positive number", s))
		}
		o.sizes = append(o.sizes, n)
	}
	utilruntime.Must(securityv1alpha1.AddToScheme(clientgoscheme.Scheme))
	ctrllog.SetLogger(logr.Discard())

	report := Report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), GoVersion: runtime.Version()}
	for _, n := range o.sizes {
		r, err := runSize(context.Background(), o, n)
		if err != nil {
			fail(fmt.Errorf("at %d namespaces: %w", n, err))
		}
		report.Results = append(report.Results, r)
		writeReport(o.out, report)
	}
	printTable(report)
	fmt.Printf("\nresults: %s\n", o.out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run is one N on its fresh cluster: a client without rate limit (fast), one at the operator's
// budget (limited), the namespaces and the baseline measured.
type run struct {
	o             options
	n             int
	cluster       *harness.Cluster
	fast, limited client.Client
	namespaces    []string
	baseline      *securityv1alpha1.SecurityBaseline
}

// runSize measures everything at one N on a fresh cluster.
func runSize(ctx context.Context, o options, n int) (Result, error) {
	res := Result{N: n, QPS: o.qps, Burst: o.burst, Workers: o.workers, DriftSamples: o.driftSamples,
		IdleSeconds: o.idle.Seconds(), UnrelatedObjects: o.unrelated}
	cl, err := harness.StartCluster(harness.ClusterOptions{
		Root: o.root, ControlPlane: o.controlplane, Dir: filepath.Join(filepath.Dir(o.out), "cluster"),
		APIPort: 16443, EtcdPort: 12379, KCMPort: 20257,
	})
	if err != nil {
		return res, err
	}
	if !o.keepCluster {
		defer cl.Stop()
	}
	r, err := newRun(ctx, o, n, cl)
	if err != nil {
		return res, err
	}
	template, err := desired.ForNamespace(r.baseline, "x")
	if err != nil {
		return res, err
	}
	res.ObjectsPerNamespace = len(template) + 1 // and the Namespace's Pod Security labels
	if err := r.measureRaw(ctx, &res); err != nil {
		return res, err
	}
	if err := r.measureOperator(ctx, &res); err != nil {
		return res, err
	}
	err = r.measureUnrelated(ctx, &res)
	logf("N=%d: done: %+v", n, res)
	return res, err
}

// newRun makes the clients, installs the CRDs and creates the n namespaces.
func newRun(ctx context.Context, o options, n int, cl *harness.Cluster) (*run, error) {
	r := &run{o: o, n: n, cluster: cl, baseline: benchBaseline()}
	var err error
	if r.fast, err = cl.NewClient(clientgoscheme.Scheme, 0, 0); err != nil {
		return nil, err
	}
	if r.limited, err = cl.NewClient(clientgoscheme.Scheme, o.qps, o.burst); err != nil {
		return nil, err
	}
	cfg, err := cl.RESTConfig()
	if err != nil {
		return nil, err
	}
	if err := harness.InstallCRDs(cfg, clientgoscheme.Scheme, filepath.Join(o.root, "config", "crd", "bases")); err != nil {
		return nil, err
	}
	r.namespaces = make([]string, n)
	for i := range r.namespaces {
		r.namespaces[i] = fmt.Sprintf("bench-%05d", i)
	}
	logf("N=%d: creating %d namespaces", n, n)
	err = harness.Parallel(o.workers, n, func(i int) error {
		return r.fast.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.namespaces[i], Labels: map[string]string{benchLabel: "yes"}}})
	})
	return r, err
}

// measureRaw times the plain client, rate-limited and not, cleaning up after each.
func (r *run) measureRaw(ctx context.Context, res *Result) error {
	var err error
	logf("N=%d: raw plain client at QPS %d / burst %d, %d workers", r.n, r.o.qps, r.o.burst, r.o.workers)
	if res.RawSeconds, err = rawCreate(ctx, r.limited, r.baseline, r.namespaces, r.o.workers); err != nil {
		return err
	}
	if err := cleanup(ctx, r.fast, r.namespaces, r.o.workers); err != nil {
		return err
	}
	logf("N=%d: raw plain client with no rate limit, %d workers", r.n, r.o.workers)
	if res.RawUnlimitedSeconds, err = rawCreate(ctx, r.fast, r.baseline, r.namespaces, r.o.workers); err != nil {
		return err
	}
	return cleanup(ctx, r.fast, r.namespaces, r.o.workers)
}

// measureOperator times convergence, drift repairs, writes at rest and memory at the default
// budget, then convergence with the operator's rate limit lifted.
func (r *run) measureOperator(ctx context.Context, res *Result) error {
	op, err := r.startOperator(ctx, "default", strconv.Itoa(r.o.qps), strconv.Itoa(r.o.burst))
	if err != nil {
		return err
	}
	logf("N=%d: operator convergence at QPS %d / burst %d", r.n, r.o.qps, r.o.burst)
	if res.ConvergeSeconds, err = converge(ctx, r.fast, r.n); err != nil {
		_ = op.Stop()
		return err
	}
	res.ConvergeRatio = res.ConvergeSeconds / res.RawSeconds
	logf("N=%d: drift repair latency over %d objects", r.n, r.o.driftSamples)
	lat, err := driftLatencies(ctx, r.fast, r.baseline, r.namespaces, r.o.driftSamples)
	if err != nil {
		_ = op.Stop()
		return err
	}
	res.DriftP50Ms, res.DriftP90Ms, res.DriftP99Ms, res.DriftMaxMs = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 100)
	logf("N=%d: counting writes at rest over %s", r.n, r.o.idle)
	if res.WritesAtRest, err = writesAtRest(ctx, op, r.o.idle); err != nil {
		_ = op.Stop()
		return err
	}
	res.PeakRSSMiB = op.PeakRSSMiB()
	_ = op.Stop()
	if err := removeBaseline(ctx, r.fast, r.namespaces, r.o.workers); err != nil {
		return err
	}

	if op, err = r.startOperator(ctx, "unlimited", unlimitedRate, unlimitedRate); err != nil {
		return err
	}
	logf("N=%d: operator convergence with no rate limit", r.n)
	res.ConvergeUnlimitedSeconds, err = converge(ctx, r.fast, r.n)
	_ = op.Stop()
	if err != nil {
		return err
	}
	res.ConvergeUnlimitedRatio = res.ConvergeUnlimitedSeconds / res.RawUnlimitedSeconds
	return removeBaseline(ctx, r.fast, r.namespaces, r.o.workers)
}

// measureUnrelated times convergence and memory with unrelated objects present.
func (r *run) measureUnrelated(ctx context.Context, res *Result) error {
	logf("N=%d: creating %d unrelated Roles and ConfigMaps", r.n, r.o.unrelated)
	if err := createUnrelated(ctx, r.fast, r.namespaces, r.o.unrelated, r.o.workers); err != nil {
		return err
	}
	op, err := r.startOperator(ctx, "unrelated", strconv.Itoa(r.o.qps), strconv.Itoa(r.o.burst))
	if err != nil {
		return err
	}
	logf("N=%d: operator convergence with unrelated objects present", r.n)
	res.ConvergeWithUnrelatedSeconds, err = converge(ctx, r.fast, r.n)
	res.PeakRSSWithUnrelatedMiB = op.PeakRSSMiB()
	_ = op.Stop()
	return err
}

// startOperator runs the manager at the given client budget and waits until it is ready.
func (r *run) startOperator(ctx context.Context, name, qps, burst string) (*harness.Operator, error) {
	op, err := harness.StartOperator(harness.OperatorOptions{
		Binary:      r.o.manager,
		Kubeconfig:  r.cluster.Kubeconfig,
		LogPath:     filepath.Join(filepath.Dir(r.o.out), "operator-"+name+".log"),
		MetricsAddr: fmt.Sprintf("127.0.0.1:%d", metricsPort),
		ProbeAddr:   fmt.Sprintf("127.0.0.1:%d", probePort),
		Args: append([]string{"--kube-api-qps", qps, "--kube-api-burst", burst, "--workers", strconv.Itoa(r.o.workers)},
			r.o.operatorArgs...),
	})
	if err != nil {
		return nil, err
	}
	if err := op.WaitReady(ctx, time.Minute); err != nil {
		_ = op.Stop()
		return nil, err
	}
	return op, nil
}

// benchBaselineYAML is the baseline measured: per namespace 3 switch NetworkPolicies, 1 extra
// NetworkPolicy, a Role, a RoleBinding, a ServiceAccount and the Pod Security labels. It is
// written as the user writes it, so the benchmark does not depend on the Go types of the API.
const benchBaselineYAML = `
apiVersion: security.baseline.dev/v1alpha1
kind: SecurityBaseline
metadata:
  name: ` + baselineName + `
spec:
  namespaceSelector:
    matchLabels:
      ` + benchLabel + `: "yes"
  podSecurity:
    enforce: restricted
    warn: restricted
  networkPolicies:
    defaultDeny: [Ingress, Egress]
    allowDNS: true
    allowSameNamespace: true
    policies:
      - name: allow-ingress-controller
        spec:
          podSelector: {}
          policyTypes: [Ingress]
          ingress:
            - from:
                - namespaceSelector:
                    matchLabels:
                      kubernetes.io/metadata.name: ingress-nginx
  rbac:
    roles:
      - name: ` + roleName + `
        rules:
          - apiGroups: [""]
            resources: [pods, services, configmaps]
            verbs: [get, list, watch]
    roleBindings:
      - name: app-readers
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ` + roleName + `}
        subjects:
          - kind: Group
            apiGroup: rbac.authorization.k8s.io
            name: team-$(NAMESPACE)
    serviceAccounts:
      - name: secrets-reader
`

// benchBaseline returns a fresh copy of the baseline measured.
func benchBaseline() *securityv1alpha1.SecurityBaseline {
	b := &securityv1alpha1.SecurityBaseline{}
	if err := yaml.UnmarshalStrict([]byte(benchBaselineYAML), b); err != nil {
		panic(fmt.Sprintf("the benchmark's baseline: %v", err))
	}
	return b
}
