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
	"context"
	"crypto/tls"
	"flag"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/controllers"
	"github.com/securitybaseline/securitybaseline-operator/internal/admission"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(securityv1alpha1.AddToScheme(scheme))
}

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
	protectedNamespaces := sets.New(ownNamespace)
	for ns := range strings.SplitSeq(protected, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			protectedNamespaces.Insert(ns)
		}
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	cfg.UserAgent = desired.OperatorName

	// Metrics as kubebuilder scaffolds them: HTTPS, each scrape's bearer token checked with a
	// TokenReview and its access to /metrics with a SubjectAccessReview. HTTP/2 stays off
	// (HTTP/2 Rapid Reset, CVE-2023-44487).
	if metricsAddr == "" {
		metricsAddr = ":8080"
		if secureMetrics {
			metricsAddr = ":8443"
		}
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		CertDir:       metricsCertPath,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
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

	// Who may write a SecurityBaseline is decided at admission; the operator applies the policy
	// itself, as installers such as OLM cannot ship it.
	if *installAdmissionPolicy {
		installCtx, cancelInstall := context.WithTimeout(context.Background(), time.Minute)
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err == nil {
			err = admission.Install(installCtx, c, log)
		}
		cancelInstall()
		if err != nil {
			log.Error(err, "installing the admission policy; where it is installed otherwise, run with --install-admission-policy=false")
			os.Exit(1)
		}
	} else {
		log.Info("--install-admission-policy=false: SecurityBaseline authors are NOT checked unless the admission policy is installed otherwise (config/admission)",
			"validatingAdmissionPolicy", admission.PolicyName)
	}

	log.Info("starting manager", "protectedNamespaces", sets.List(protectedNamespaces))
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}
