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
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
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
	flag.StringVar(&sizes, "n", "100,1000", "Comma-separated namespace counts.")
	flag.IntVar(&o.qps, "qps", 100, "Client QPS of the operator and of the rate-limited plain client.")
	flag.IntVar(&o.burst, "burst", 200, "Client burst of the operator and of the rate-limited plain client.")
	flag.IntVar(&o.workers, "workers", 16, "Concurrency of the operator (--workers) and of the plain client.")
	flag.IntVar(&o.driftSamples, "drift", 200, "Managed objects deleted or edited, one at a time, to time repairs.")
	flag.DurationVar(&o.idle, "idle", 2*time.Minute, "Idle time over which writes at rest are counted.")
	flag.IntVar(&o.unrelated, "unrelated", 10000, "Unrelated Roles and ConfigMaps (half each) present for the memory run.")
	flag.StringVar(&o.root, "root", ".", "Project root.")
	flag.StringVar(&o.controlplane, "controlplane", "bin/k8s/1.37.2", "Directory of the control plane binaries.")
	flag.StringVar(&o.manager, "manager", "bin/manager", "The operator binary.")
	flag.StringVar(&o.out, "out", "bin/bench/results.json", "Where the JSON results go.")
	flag.BoolVar(&o.keepCluster, "keep-cluster", false, "Leave the last cluster running.")
	operatorArgs := flag.String("operator-args", "", "Extra operator flags, space-separated (e.g. --pprof-bind-address=127.0.0.1:6060).")
	flag.Parse()
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

// runSize measures everything at one N on a fresh cluster.
func runSize(ctx context.Context, o options, n int) (Result, error) {
	res := Result{N: n, QPS: o.qps, Burst: o.burst, Workers: o.workers, DriftSamples: o.driftSamples,
		IdleSeconds: o.idle.Seconds(), UnrelatedObjects: o.unrelated}
	cl, err := startCluster(o)
	if err != nil {
		return res, err
	}
	if !o.keepCluster {
		defer cl.stop()
	}
	fast, err := newClient(cl.kubeconfig, 0, 0)
	if err != nil {
		return res, err
	}
	limited, err := newClient(cl.kubeconfig, o.qps, o.burst)
	if err != nil {
		return res, err
	}
	if err := installCRDs(ctx, fast, filepath.Join(o.root, "config", "crd", "bases")); err != nil {
		return res, err
	}
	namespaces := make([]string, n)
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("bench-%05d", i)
	}
	logf("N=%d: creating %d namespaces", n, n)
	if err := parallel(o.workers, n, func(i int) error {
		return fast.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i], Labels: map[string]string{benchLabel: "yes"}}})
	}); err != nil {
		return res, err
	}
	b := benchBaseline()
	template, err := desired.ForNamespace(b, "x")
	if err != nil {
		return res, err
	}
	res.ObjectsPerNamespace = len(template) + 1 // and the Namespace's Pod Security labels

	logf("N=%d: raw plain client at QPS %d / burst %d, %d workers", n, o.qps, o.burst, o.workers)
	if res.RawSeconds, err = rawCreate(ctx, limited, b, namespaces, o.workers); err != nil {
		return res, err
	}
	if err := cleanup(ctx, fast, namespaces, o.workers); err != nil {
		return res, err
	}
	logf("N=%d: raw plain client with no rate limit, %d workers", n, o.workers)
	if res.RawUnlimitedSeconds, err = rawCreate(ctx, fast, b, namespaces, o.workers); err != nil {
		return res, err
	}
	if err := cleanup(ctx, fast, namespaces, o.workers); err != nil {
		return res, err
	}

	// Convergence, drift, writes at rest and memory at the default budget.
	op, err := startOperator(o, cl.kubeconfig, "default", strconv.Itoa(o.qps), strconv.Itoa(o.burst))
	if err != nil {
		return res, err
	}
	logf("N=%d: operator convergence at QPS %d / burst %d", n, o.qps, o.burst)
	if res.ConvergeSeconds, err = converge(ctx, fast, n); err != nil {
		op.stop()
		return res, err
	}
	res.ConvergeRatio = res.ConvergeSeconds / res.RawSeconds
	logf("N=%d: drift repair latency over %d objects", n, o.driftSamples)
	lat, err := driftLatencies(ctx, fast, b, namespaces, o.driftSamples)
	if err != nil {
		op.stop()
		return res, err
	}
	res.DriftP50Ms, res.DriftP90Ms, res.DriftP99Ms, res.DriftMaxMs = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 100)
	logf("N=%d: counting writes at rest over %s", n, o.idle)
	if res.WritesAtRest, err = writesAtRest(ctx, o.idle); err != nil {
		op.stop()
		return res, err
	}
	res.PeakRSSMiB = op.peakRSSMiB()
	op.stop()
	if err := removeBaseline(ctx, fast, namespaces, o.workers); err != nil {
		return res, err
	}

	// Convergence with the operator's rate limit lifted.
	if op, err = startOperator(o, cl.kubeconfig, "unlimited", unlimitedRate, unlimitedRate); err != nil {
		return res, err
	}
	logf("N=%d: operator convergence with no rate limit", n)
	res.ConvergeUnlimitedSeconds, err = converge(ctx, fast, n)
	op.stop()
	if err != nil {
		return res, err
	}
	res.ConvergeUnlimitedRatio = res.ConvergeUnlimitedSeconds / res.RawUnlimitedSeconds
	if err := removeBaseline(ctx, fast, namespaces, o.workers); err != nil {
		return res, err
	}

	// Memory and convergence with unrelated objects present.
	logf("N=%d: creating %d unrelated Roles and ConfigMaps", n, o.unrelated)
	if err := createUnrelated(ctx, fast, namespaces, o.unrelated, o.workers); err != nil {
		return res, err
	}
	if op, err = startOperator(o, cl.kubeconfig, "unrelated", strconv.Itoa(o.qps), strconv.Itoa(o.burst)); err != nil {
		return res, err
	}
	logf("N=%d: operator convergence with unrelated objects present", n)
	res.ConvergeWithUnrelatedSeconds, err = converge(ctx, fast, n)
	res.PeakRSSWithUnrelatedMiB = op.peakRSSMiB()
	op.stop()
	logf("N=%d: done: %+v", n, res)
	return res, err
}

// benchBaseline is the baseline measured: per namespace 3 switch NetworkPolicies, 1 extra
// NetworkPolicy, a Role, a RoleBinding, a ServiceAccount and the Pod Security labels.
func benchBaseline() *securityv1alpha1.SecurityBaseline {
	return &securityv1alpha1.SecurityBaseline{
		ObjectMeta: metav1.ObjectMeta{Name: baselineName},
		Spec: securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{benchLabel: "yes"}},
			PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted", Warn: "restricted"},
			NetworkPolicies: &securityv1alpha1.NetworkPolicies{
				DefaultDeny: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				AllowDNS:    true, AllowSameNamespace: true,
				Policies: []securityv1alpha1.NetworkPolicy{{Name: "allow-ingress-controller", Spec: networkingv1.NetworkPolicySpec{
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "ingress-nginx"}},
					}}}},
				}}},
			},
			RBAC: &securityv1alpha1.RBAC{
				Roles: []securityv1alpha1.Role{{Name: roleName, Rules: []rbacv1.PolicyRule{{
					APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps"}, Verbs: []string{"get", "list", "watch"}}}}},
				RoleBindings: []securityv1alpha1.RoleBinding{{Name: "app-readers",
					RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName},
					Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}}}},
				ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "secrets-reader"}},
			},
		},
	}
}

// cluster is a local control plane started by hack/local-cluster.sh.
type cluster struct {
	env        []string
	script     string
	kubeconfig string
}

func startCluster(o options) (*cluster, error) {
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(o.out), "cluster"))
	if err != nil {
		return nil, err
	}
	controlplane, err := filepath.Abs(o.controlplane)
	if err != nil {
		return nil, err
	}
	c := &cluster{
		script:     filepath.Join(o.root, "hack", "local-cluster.sh"),
		kubeconfig: filepath.Join(dir, "kubeconfig"),
		env: append(os.Environ(), "LOCAL_CLUSTER_DIR="+dir, "CONTROLPLANE_DIR="+controlplane,
			"LOCAL_CLUSTER_API_PORT=16443", "LOCAL_CLUSTER_ETCD_PORT=12379", "LOCAL_CLUSTER_KCM_PORT=20257"),
	}
	c.stop()
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.script, "up")
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("starting the local cluster: %w", err)
	}
	return c, nil
}

func (c *cluster) stop() {
	cmd := exec.Command(c.script, "down")
	cmd.Env = c.env
	_ = cmd.Run()
}

// newClient returns an uncached client; qps 0 lifts the rate limit.
func newClient(kubeconfig string, qps, burst int) (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	if qps > 0 {
		cfg.QPS, cfg.Burst = float32(qps), burst
	} else {
		cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	}
	cfg.Timeout = 30 * time.Second
	return client.New(rest.CopyConfig(cfg), client.Options{Scheme: clientgoscheme.Scheme})
}

func installCRDs(ctx context.Context, c client.Client, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := c.Create(ctx, u); err != nil {
			return fmt.Errorf("installing %s: %w", f, err)
		}
	}
	return wait(2*time.Minute, func() (bool, error) {
		l := &securityv1alpha1.SecurityBaselineList{}
		return c.List(ctx, l) == nil, nil
	})
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// rawCreate creates, with a plain client, the objects the baseline produces in every namespace
// (without ownerReferences: there is no baseline) and sets the Pod Security labels; it returns
// the seconds it took.
func rawCreate(ctx context.Context, c client.Client, b *securityv1alpha1.SecurityBaseline, namespaces []string, workers int) (float64, error) {
	start := time.Now()
	labels := desired.PodSecurityLabels(b.Spec.PodSecurity)
	err := parallel(workers, len(namespaces), func(i int) error {
		objs, err := desired.ForNamespace(b, namespaces[i])
		if err != nil {
			return err
		}
		for _, o := range objs {
			m, err := apply.ToMap(o.Apply)
			if err != nil {
				return err
			}
			u := &unstructured.Unstructured{Object: m}
			u.SetOwnerReferences(nil)
			if err := c.Create(ctx, u); err != nil {
				return err
			}
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
		return c.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i]}}, client.RawPatch(types.MergePatchType, patch))
	})
	return time.Since(start).Seconds(), err
}

// cleanup deletes every object carrying the operator's label and the Pod Security labels.
func cleanup(ctx context.Context, c client.Client, namespaces []string, workers int) error {
	selector := client.MatchingLabels{desired.LabelManagedBy: desired.OperatorName}
	var unset = map[string]any{}
	for k := range desired.PodSecurityLabels(benchBaseline().Spec.PodSecurity) {
		unset[k] = nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": unset}})
	return parallel(workers, len(namespaces), func(i int) error {
		for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.ServiceAccount{}} {
			if err := c.DeleteAllOf(ctx, obj, client.InNamespace(namespaces[i]), selector); err != nil {
				return err
			}
		}
		return c.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i]}}, client.RawPatch(types.MergePatchType, patch))
	})
}

// removeBaseline takes the baseline away while no operator runs: objects and labels by the
// plain client, then the finalizer.
func removeBaseline(ctx context.Context, c client.Client, namespaces []string, workers int) error {
	if err := cleanup(ctx, c, namespaces, workers); err != nil {
		return err
	}
	b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: baselineName}}
	if err := c.Patch(ctx, b, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := c.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
		return err
	}
	return wait(time.Minute, func() (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(b), &securityv1alpha1.SecurityBaseline{})), nil
	})
}

// converge applies the baseline and returns the seconds until it reports every one of n
// namespaces compliant and Ready.
func converge(ctx context.Context, c client.Client, n int) (float64, error) {
	start := time.Now()
	if err := c.Create(ctx, benchBaseline()); err != nil {
		return 0, err
	}
	err := wait(30*time.Minute, func() (bool, error) {
		b := &securityv1alpha1.SecurityBaseline{}
		if err := c.Get(ctx, client.ObjectKey{Name: baselineName}, b); err != nil {
			return false, err
		}
		ready := meta.IsStatusConditionTrue(b.Status.Conditions, securityv1alpha1.ConditionReady)
		return ready && b.Status.ObservedGeneration == b.Generation && int(b.Status.CompliantNamespaces) == n, nil
	})
	return time.Since(start).Seconds(), err
}

func wait(timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("timed out")
}

// driftLatencies deletes or edits random managed objects one at a time and returns, in
// milliseconds, how long each took to be restored.
func driftLatencies(ctx context.Context, c client.Client, b *securityv1alpha1.SecurityBaseline, namespaces []string, samples int) ([]float64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []float64
	for i := range samples {
		ns := namespaces[rng.IntN(len(namespaces))]
		var obj client.Object
		var write func() error
		var restored func(got client.Object) bool
		switch i % 4 {
		case 0: // delete a NetworkPolicy
			obj = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name + desired.DefaultDenySuffix}}
		case 1: // delete a RoleBinding
			obj = &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-readers"}}
		case 2: // edit a Role's rules
			obj = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: roleName}}
		case 3: // edit a NetworkPolicy's policy types
			obj = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name + desired.AllowSameNamespaceSuffix}}
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		uid, rv := obj.GetUID(), obj.GetResourceVersion()
		switch o := obj.(type) {
		case *rbacv1.Role:
			o.Rules[0].Verbs = []string{"*"}
			write = func() error { return c.Update(ctx, o) }
			restored = func(got client.Object) bool {
				return got.GetResourceVersion() != rv && slices.Equal(got.(*rbacv1.Role).Rules[0].Verbs, benchBaseline().Spec.RBAC.Roles[0].Rules[0].Verbs)
			}
		case *networkingv1.NetworkPolicy:
			if i%4 == 3 {
				o.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				o.Spec.Egress = nil
				write = func() error { return c.Update(ctx, o) }
				restored = func(got client.Object) bool {
					return got.GetResourceVersion() != rv && len(got.(*networkingv1.NetworkPolicy).Spec.PolicyTypes) == 2
				}
				break
			}
			write = func() error { return c.Delete(ctx, o) }
			restored = func(got client.Object) bool { return got.GetUID() != uid }
		default:
			write = func() error { return c.Delete(ctx, obj) }
			restored = func(got client.Object) bool { return got.GetUID() != uid }
		}
		if err := write(); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		start := time.Now()
		for {
			got := obj.DeepCopyObject().(client.Object)
			err := c.Get(ctx, client.ObjectKeyFromObject(obj), got)
			if err == nil && restored(got) {
				break
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
			if time.Since(start) > time.Minute {
				return nil, fmt.Errorf("sample %d: %s %s/%s not restored within a minute", i, fmt.Sprintf("%T", obj), ns, obj.GetName())
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
	}
	return lat, nil
}

func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// writesAtRest counts the write requests (POST, PUT, PATCH, DELETE) the operator sends while idle,
// from its own client metrics.
func writesAtRest(ctx context.Context, idle time.Duration) (int, error) {
	// Let events of the drift phase settle first.
	time.Sleep(5 * time.Second)
	before, err := operatorWrites(ctx)
	if err != nil {
		return 0, err
	}
	time.Sleep(idle)
	after, err := operatorWrites(ctx)
	return after - before, err
}

func operatorWrites(ctx context.Context) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		for _, m := range []string{`method="POST"`, `method="PUT"`, `method="PATCH"`, `method="DELETE"`} {
			if strings.Contains(line, m) {
				f := strings.Fields(line)
				v, _ := strconv.ParseFloat(f[len(f)-1], 64)
				total += int(v)
			}
		}
	}
	return total, sc.Err()
}

// createUnrelated creates n unrelated objects, half Roles, half ConfigMaps, spread over the
// namespaces: objects the operator's label-filtered cache must not hold.
func createUnrelated(ctx context.Context, c client.Client, namespaces []string, n, workers int) error {
	return parallel(workers, n, func(i int) error {
		ns := namespaces[i%len(namespaces)]
		meta := metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("unrelated-%05d", i), Labels: map[string]string{"app": "unrelated"}}
		var obj client.Object
		if i%2 == 0 {
			obj = &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}}}
		} else {
			obj = &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"config": strings.Repeat("x", 512)}}
		}
		return c.Create(ctx, obj)
	})
}

// operator is the manager binary running as its own process.
type operator struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

func startOperator(o options, kubeconfig, name, qps, burst string) (*operator, error) {
	logPath := filepath.Join(filepath.Dir(o.out), "operator-"+name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", metricsPort),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", probePort),
		"--kube-api-qps", qps, "--kube-api-burst", burst, "--workers", strconv.Itoa(o.workers),
	}, o.operatorArgs...)
	cmd := exec.Command(o.manager, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "POD_NAMESPACE=securitybaseline-system")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	op := &operator{cmd: cmd, done: make(chan struct{}), log: f}
	go func() { _ = cmd.Wait(); close(op.done) }()
	err = wait(time.Minute, func() (bool, error) {
		select {
		case <-op.done:
			return false, fmt.Errorf("the operator exited; see %s", logPath)
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		op.stop()
		return nil, err
	}
	return op, nil
}

// peakRSSMiB reads the process' high-water mark of resident memory.
func (op *operator) peakRSSMiB() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", op.cmd.Process.Pid))
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

func (op *operator) stop() {
	_ = op.cmd.Process.Signal(os.Interrupt)
	select {
	case <-op.done:
	case <-time.After(15 * time.Second):
		_ = op.cmd.Process.Kill()
		<-op.done
	}
	_ = op.log.Close()
}

func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s/%s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH)
}

func writeReport(path string, r Report) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail(err)
	}
	raw, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		fail(err)
	}
}

func printTable(r Report) {
	fmt.Printf("\nmachine: %s, %s\n\n", r.Machine, r.GoVersion)
	fmt.Println("| N | objects/ns | raw (QPS/burst/workers) | operator converge | ratio | raw unlimited | operator unlimited | ratio | drift p50 / p90 / p99 / max | writes at rest | peak RSS | with unrelated: converge / peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, x := range r.Results {
		fmt.Printf("| %d | %d | %.1f s (%d/%d/%d) | %.1f s | %.2f× | %.1f s | %.1f s | %.2f× | %.0f / %.0f / %.0f / %.0f ms | %d in %.0f s | %.0f MiB | %.1f s / %.0f MiB (%d objects) |\n",
			x.N, x.ObjectsPerNamespace, x.RawSeconds, x.QPS, x.Burst, x.Workers, x.ConvergeSeconds, x.ConvergeRatio,
			x.RawUnlimitedSeconds, x.ConvergeUnlimitedSeconds, x.ConvergeUnlimitedRatio,
			x.DriftP50Ms, x.DriftP90Ms, x.DriftP99Ms, x.DriftMaxMs, x.WritesAtRest, x.IdleSeconds, x.PeakRSSMiB,
			x.ConvergeWithUnrelatedSeconds, x.PeakRSSWithUnrelatedMiB, x.UnrelatedObjects)
	}
}
