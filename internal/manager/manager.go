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

// Package manager wires the operator's controller-runtime manager the way main.go runs it:
// the SecurityBaseline controller, its cache, metrics, health checks, leader election and the
// author-authorization admission policy applied at start-up. Tests that run the operator
// in-process (for example as its ServiceAccount) use it so their wiring cannot drift from
// the binary's.
package manager

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/controllers"
	"github.com/securitybaseline/securitybaseline-operator/internal/admission"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// LeaderElectionID names the Lease the operator's replicas elect a leader with.
const LeaderElectionID = "securitybaseline-operator.baseline.dev"

// Options are the manager's settings; main.go fills them from its flags.
type Options struct {
	// MetricsAddr is the metrics endpoint's bind address; "0" disables it.
	MetricsAddr string
	// SecureMetrics serves metrics over HTTPS to authenticated, authorized callers only.
	SecureMetrics bool
	// MetricsCertPath is a directory holding tls.crt and tls.key; empty: self-signed.
	MetricsCertPath string
	// ProbeAddr is the health probe endpoint's bind address; "0" disables it.
	ProbeAddr string
	// PprofAddr is the pprof endpoint's bind address; empty disables it.
	PprofAddr string
	// LeaderElect elects a leader with a Lease in Namespace.
	LeaderElect bool
	// Namespace is the operator's own namespace (POD_NAMESPACE); never targeted.
	Namespace string
	// ProtectedNamespaces are never targeted, besides Namespace.
	ProtectedNamespaces []string
	// Workers is the number of namespaces one reconcile converges in parallel.
	Workers int
	// MaxConcurrentReconciles is the number of SecurityBaselines reconciled in parallel.
	MaxConcurrentReconciles int
	// InstallAdmissionPolicy applies the author-authorization policy when New runs.
	InstallAdmissionPolicy bool
	// Logger is the manager's logger; the zero value uses controller-runtime's global one.
	Logger logr.Logger
	// SkipControllerNameValidation lets one process create several managers (tests).
	SkipControllerNameValidation bool
}

// NewScheme returns the scheme the operator's clients use: client-go's kinds and SecurityBaseline.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(securityv1alpha1.AddToScheme(scheme))
	return scheme
}

// New builds the operator's manager on cfg (whose QPS, Burst and UserAgent the caller sets),
// registers the SecurityBaseline controller and the health checks, and, with
// InstallAdmissionPolicy, applies the admission policy before returning. Start the returned
// manager to run the operator.
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	log := o.Logger
	if log.GetSink() == nil {
		log = ctrl.Log
	}
	log = log.WithName("setup")
	scheme := NewScheme()
	protected := sets.New(o.Namespace)
	for _, ns := range o.ProtectedNamespaces {
		if ns != "" {
			protected.Insert(ns)
		}
	}

	// Metrics as kubebuilder scaffolds them: HTTPS, each scrape's bearer token checked with a
	// TokenReview and its access to /metrics with a SubjectAccessReview. HTTP/2 stays off
	// (HTTP/2 Rapid Reset, CVE-2023-44487).
	metricsOpts := metricsserver.Options{
		BindAddress:   o.MetricsAddr,
		SecureServing: o.SecureMetrics,
		CertDir:       o.MetricsCertPath,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if o.SecureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgrOpts := ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(),
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	}
	if o.Logger.GetSink() != nil {
		mgrOpts.Logger = o.Logger
	}
	if o.SkipControllerNameValidation {
		skip := true
		mgrOpts.Controller = config.Controller{SkipNameValidation: &skip}
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}

	reconciler := &controllers.SecurityBaselineReconciler{
		Client:              mgr.GetClient(),
		APIReader:           mgr.GetAPIReader(),
		Scheme:              mgr.GetScheme(),
		Recorder:            mgr.GetEventRecorder(desired.OperatorName),
		ProtectedNamespaces: protected,
		Workers:             o.Workers,
	}
	if err := reconciler.SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("setting up the SecurityBaseline controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the readiness check: %w", err)
	}

	// Who may write a SecurityBaseline is decided at admission; the operator applies the policy
	// itself, as installers such as OLM cannot ship it.
	if o.InstallAdmissionPolicy {
		installCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err == nil {
			err = admission.Install(installCtx, c, log)
		}
		if err != nil {
			return nil, fmt.Errorf("installing the admission policy; where it is installed otherwise, run with --install-admission-policy=false: %w", err)
		}
	} else {
		log.Info("--install-admission-policy=false: SecurityBaseline authors are NOT checked unless the admission policy is installed otherwise (config/admission)",
			"validatingAdmissionPolicy", admission.PolicyName)
	}
	log.Info("starting manager", "protectedNamespaces", sets.List(protected))
	return mgr, nil
}
