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
	"flag"
	"os"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
	"github.com/securitybaseline/securitybaseline-operator/internal/manager"
)

func main() {
	var (
		metricsAddr, metricsCertPath, probeAddr, pprofAddr, protected string
		leaderElect, secureMetrics                                    bool
		qps                                                           float64
		burst, workers, concurrentReconciles                          int
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "",
		"Address the Prometheus metrics endpoint binds to; default :8443 with --metrics-secure, else :8080; 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS to callers the API server authenticates and authorizes (get on the /metrics URL); "+
			"--metrics-secure=false serves plain HTTP to anyone.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "",
		"Directory holding the metrics server's tls.crt and tls.key (reloaded on change); empty: a self-signed certificate.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address a pprof endpoint binds to; empty disables it.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so only one active manager runs.")
	flag.Float64Var(&qps, "kube-api-qps", 100, "Queries per second to the Kubernetes API server.")
	flag.IntVar(&burst, "kube-api-burst", 200, "Burst of queries to the Kubernetes API server.")
	flag.IntVar(&workers, "workers", 16, "Namespaces converged in parallel by one reconcile.")
	flag.IntVar(&concurrentReconciles, "max-concurrent-reconciles", 4, "SecurityBaselines reconciled in parallel.")
	flag.StringVar(&protected, "protected-namespaces", "kube-system,kube-public,kube-node-lease",
		"Comma-separated namespaces never targeted; the operator's own namespace (POD_NAMESPACE) is always added.")
	installAdmissionPolicy := flag.Bool("install-admission-policy", true,
		"Apply, at start-up, the ValidatingAdmissionPolicy that admits a SecurityBaseline only from a user who may do "+
			"what it asks; false where it is installed otherwise (config/admission).")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	ownNamespace := os.Getenv("POD_NAMESPACE")
	if ownNamespace == "" {
		ownNamespace = "securitybaseline-system"
	}
	var protectedNamespaces []string
	for ns := range strings.SplitSeq(protected, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			protectedNamespaces = append(protectedNamespaces, ns)
		}
	}
	if metricsAddr == "" {
		metricsAddr = ":8080"
		if secureMetrics {
			metricsAddr = ":8443"
		}
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	cfg.UserAgent = desired.OperatorName

	mgr, err := manager.New(cfg, manager.Options{
		MetricsAddr:             metricsAddr,
		SecureMetrics:           secureMetrics,
		MetricsCertPath:         metricsCertPath,
		ProbeAddr:               probeAddr,
		PprofAddr:               pprofAddr,
		LeaderElect:             leaderElect,
		Namespace:               ownNamespace,
		ProtectedNamespaces:     protectedNamespaces,
		Workers:                 workers,
		MaxConcurrentReconciles: concurrentReconciles,
		InstallAdmissionPolicy:  *installAdmissionPolicy,
	})
	if err != nil {
		log.Error(err, "setting up the operator")
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}
