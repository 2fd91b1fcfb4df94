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

// Command manager runs the securitybaseline-operator: the SecurityBaseline controller, its
// metrics and health endpoints.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/controllers"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(securityv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr, probeAddr, pprofAddr, protected string
		leaderElect                                  bool
		qps                                          float64
		burst, workers, concurrentReconciles         int
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address a pprof endpoint binds to; empty disables it.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so only one active manager runs.")
	flag.Float64Var(&qps, "kube-api-qps", 100, "Queries per second to the Kubernetes API server.")
	flag.IntVar(&burst, "kube-api-burst", 200, "Burst of queries to the Kubernetes API server.")
	flag.IntVar(&workers, "workers", 16, "Namespaces converged in parallel by one reconcile.")
	flag.IntVar(&concurrentReconciles, "max-concurrent-reconciles", 4, "SecurityBaselines reconciled in parallel.")
	flag.StringVar(&protected, "protected-namespaces", "kube-system,kube-public,kube-node-lease",
		"Comma-separated namespaces never targeted; the operator's own namespace (POD_NAMESPACE) is always added.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	ownNamespace := os.Getenv("POD_NAMESPACE")
	if ownNamespace == "" {
		ownNamespace = "securitybaseline-system"
	}
	protectedNamespaces := sets.New(ownNamespace)
	for ns := range strings.SplitSeq(protected, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			protectedNamespaces.Insert(ns)
		}
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	cfg.UserAgent = desired.OperatorName

	metricsOpts := metricsserver.Options{
		BindAddress: metricsAddr,
		TLSOpts:     []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "securitybaseline-operator.baseline.dev",
		LeaderElectionNamespace:       ownNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(),
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		log.Error(err, "creating the manager")
		os.Exit(1)
	}

	reconciler := &controllers.SecurityBaselineReconciler{
		Client:              mgr.GetClient(),
		APIReader:           mgr.GetAPIReader(),
		Scheme:              mgr.GetScheme(),
		Recorder:            mgr.GetEventRecorder(desired.OperatorName),
		ProtectedNamespaces: protectedNamespaces,
		Workers:             workers,
	}
	if err := reconciler.SetupWithManager(mgr, concurrentReconciles); err != nil {
		log.Error(err, "setting up the SecurityBaseline controller")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "adding the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "adding the readiness check")
		os.Exit(1)
	}

	log.Info("starting manager", "protectedNamespaces", sets.List(protectedNamespaces))
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}
