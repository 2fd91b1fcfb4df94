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

package install

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/admission"
	"github.com/securitybaseline/securitybaseline-operator/internal/manager"
)

// forbiddenRecorder records every API response with status 403 on a wrapped transport.
type forbiddenRecorder struct {
	mu    sync.Mutex
	calls []string
}

type recordingTransport struct {
	next http.RoundTripper
	rec  *forbiddenRecorder
}

// RoundTrip implements http.RoundTripper.
func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusForbidden {
		t.rec.mu.Lock()
		t.rec.calls = append(t.rec.calls, req.Method+" "+req.URL.RequestURI())
		t.rec.mu.Unlock()
	}
	return resp, err
}

func (r *forbiddenRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return recordingTransport{next: rt, rec: r}
}

func (r *forbiddenRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// errorLogs is a logr sink that records every Error call and passes everything on.
type errorLogs struct {
	logr.LogSink
	mu     *sync.Mutex
	errors *[]string
}

// Error implements logr.LogSink.
func (s errorLogs) Error(err error, msg string, kv ...any) {
	s.mu.Lock()
	*s.errors = append(*s.errors, fmt.Sprintf("%s: %v %v", msg, err, kv))
	s.mu.Unlock()
	s.LogSink.Error(err, msg, kv...)
}

// WithValues implements logr.LogSink.
func (s errorLogs) WithValues(kv ...any) logr.LogSink {
	return errorLogs{LogSink: s.LogSink.WithValues(kv...), mu: s.mu, errors: s.errors}
}

// WithName implements logr.LogSink.
func (s errorLogs) WithName(name string) logr.LogSink {
	return errorLogs{LogSink: s.LogSink.WithName(name), mu: s.mu, errors: s.errors}
}

// operatorRun is the operator running in-process as its ServiceAccount.
type operatorRun struct {
	source      rbacSource
	forbidden   *forbiddenRecorder
	logMu       sync.Mutex
	errorLog    []string
	metricsAddr string
	stop        func()
}

func (r *operatorRun) errors() []string {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return slices.Clone(r.errorLog)
}

// installRBAC creates src's objects for real (as the install method would) and aggregates
// ClusterRoles as kube-controller-manager would (envtest runs none).
func installRBAC(src rbacSource) []*unstructured.Unstructured {
	GinkgoHelper()
	objs := src.objects()
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			ensureNamespace(o.GetName(), o.GetLabels())
			continue
		}
		c := o.DeepCopy()
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(c), client.FieldOwner("install-test"), client.ForceOwnership)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
	}
	all := &rbacv1.ClusterRoleList{}
	Expect(k8sClient.List(ctx, all)).To(Succeed())
	for _, o := range ofKind(objs, "ClusterRole") {
		role := &rbacv1.ClusterRole{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: o.GetName()}, role)).To(Succeed())
		if role.AggregationRule == nil {
			continue
		}
		role.Rules = nil
		for _, other := range all.Items {
			for _, sel := range role.AggregationRule.ClusterRoleSelectors {
				s, err := metav1.LabelSelectorAsSelector(&sel)
				Expect(err).NotTo(HaveOccurred())
				if other.Name != role.Name && s.Matches(labels.Set(other.Labels)) {
					role.Rules = append(role.Rules, other.Rules...)
					break
				}
			}
		}
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
	}
	return objs
}

// uninstall deletes what installRBAC created (not the namespace: envtest runs no namespace
// controller) and the admission policy the operator applied, so the next run applies it again.
func uninstall(objs []*unstructured.Unstructured) {
	GinkgoHelper()
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, o.DeepCopy()))).To(Succeed())
		}
	}
	for _, kind := range []string{"ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("admissionregistration.k8s.io/v1")
		u.SetKind(kind)
		u.SetName(admission.PolicyName)
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, u))).To(Succeed())
	}
}

// serviceAccountConfig returns a rest.Config holding only a TokenRequest token of the
// operator's ServiceAccount in ns: no client certificate.
func serviceAccountConfig(ns string) *rest.Config {
	GinkgoHelper()
	expiry := int64(3600)
	tr, err := clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return &rest.Config{
		Host:            cfg.Host,
		BearerToken:     tr.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cfg.CAData},
		QPS:             100,
		Burst:           200,
		UserAgent:       "securitybaseline-operator",
	}
}

// startOperatorAs installs src's RBAC and runs the operator as its ServiceAccount, wired as
// main.go wires it (internal/manager): leader election in its namespace, secured metrics, the
// admission policy applied at start-up.
func startOperatorAs(src rbacSource) *operatorRun {
	GinkgoHelper()
	applyCRDs(readObjects("../../config/crd/bases/security.baseline.dev_securitybaselines.yaml"))
	objs := installRBAC(src)
	saCfg := serviceAccountConfig(src.namespace)
	saClient, err := client.New(saCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() error {
		return saClient.List(ctx, &securityv1alpha1.SecurityBaselineList{})
	}).Should(Succeed(), "the installed RBAC is in force for the ServiceAccount's token")

	run := &operatorRun{source: src, forbidden: &forbiddenRecorder{}}
	saCfg.Wrap(run.forbidden.wrap)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	run.metricsAddr = l.Addr().String()
	Expect(l.Close()).To(Succeed())
	logger := logr.New(errorLogs{LogSink: logf.Log.GetSink(), mu: &run.logMu, errors: &run.errorLog}).WithName(src.namespace)

	mgr, err := manager.New(saCfg, manager.Options{
		MetricsAddr:                  run.metricsAddr,
		SecureMetrics:                true,
		ProbeAddr:                    "0",
		LeaderElect:                  true,
		Namespace:                    src.namespace,
		ProtectedNamespaces:          []string{"kube-system", "kube-public", "kube-node-lease"},
		Workers:                      4,
		MaxConcurrentReconciles:      2,
		InstallAdmissionPolicy:       true,
		Logger:                       logger,
		SkipControllerNameValidation: true,
	})
	Expect(err).NotTo(HaveOccurred())
	mgrCtx, mgrCancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	Eventually(mgr.Elected()).Should(BeClosed(), "the operator becomes leader (a Lease in %s)", src.namespace)
	var once sync.Once
	run.stop = func() {
		once.Do(func() {
			mgrCancel()
			<-done
			uninstall(objs)
		})
	}
	return run
}
