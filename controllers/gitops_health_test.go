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

package controllers

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/argohealth"
)

// updateHealthTestdata rewrites the Argo CD health check's testdata and health_test.yaml from
// the states captured by this suite: go test ./controllers/ -args -update-health-testdata
var updateHealthTestdata = flag.Bool("update-health-testdata", false, "rewrite the Argo CD health check's testdata from the captured states")

// healthCheckDir is the shipped Argo CD health check.
var healthCheckDir = filepath.Join("..", "config", "argocd", "resource_customizations", "security.baseline.dev", "SecurityBaseline")

// gitOpsHealth is the contract's "GitOps health" table: per state (the testdata file name of the
// Argo CD health check), the kstatus and the Argo CD status.
var gitOpsHealth = map[string]struct {
	kstatus status.Status
	argo    string
}{
	"not-reconciled":    {status.InProgressStatus, argohealth.Progressing},
	"rolling-out":       {status.InProgressStatus, argohealth.Progressing},
	"healthy":           {status.CurrentStatus, argohealth.Healthy},
	"conflict":          {status.FailedStatus, argohealth.Degraded},
	"forbidden":         {status.FailedStatus, argohealth.Degraded},
	"invalid-spec":      {status.FailedStatus, argohealth.Degraded},
	"crd-not-installed": {status.FailedStatus, argohealth.Degraded},
	"audit-drift":       {status.FailedStatus, argohealth.Degraded},
	"audit-healthy":     {status.CurrentStatus, argohealth.Healthy},
	"suspended":         {status.CurrentStatus, argohealth.Suspended},
	"deleting":          {status.TerminatingStatus, argohealth.Progressing},
}

// capturedHealth holds the states captured by expectHealth, with the Argo CD result.
var capturedHealth = struct {
	sync.Mutex
	objects  map[string]map[string]any
	messages map[string]string
}{objects: map[string]map[string]any{}, messages: map[string]string{}}

// expectHealth reads a baseline as Flux and Argo CD do and expects the contract's reading of
// the given state from kstatus (cli-utils' status.Compute) and from the shipped health.lua.
func expectHealth(g Gomega, name, state string) {
	want, ok := gitOpsHealth[state]
	g.Expect(ok).To(BeTrue(), "a state of the contract's table")
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(securityv1alpha1.GroupVersion.WithKind("SecurityBaseline"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, u)).To(Succeed())

	res, err := status.Compute(u)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Status).To(Equal(want.kstatus), "kstatus of %s: %s", state, res.Message)

	script, err := os.ReadFile(filepath.Join(healthCheckDir, "health.lua"))
	g.Expect(err).NotTo(HaveOccurred())
	argo, message, err := argohealth.Evaluate(string(script), u.Object)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(argo).To(Equal(want.argo), "Argo CD health of %s: %s", state, message)

	capturedHealth.Lock()
	defer capturedHealth.Unlock()
	capturedHealth.objects[state] = testdataObject(u)
	capturedHealth.messages[state] = message
	GinkgoWriter.Printf("GitOps health of %s: kstatus %s, Argo CD %s (%s)\n", state, res.Status, argo, message)
}

// testdataObject is a captured baseline as kubectl get -o yaml shows it, without managedFields.
func testdataObject(u *unstructured.Unstructured) map[string]any {
	obj := u.DeepCopy()
	obj.SetManagedFields(nil)
	return obj.Object
}

// checkCapturedHealth runs after the suite: every state of the table must have been read
// from a real baseline; with -update-health-testdata the captured objects become the health
// check's testdata.
func checkCapturedHealth() {
	capturedHealth.Lock()
	defer capturedHealth.Unlock()
	if suite, _ := GinkgoConfiguration(); len(suite.FocusStrings) > 0 || len(suite.FocusFiles) > 0 || suite.LabelFilter != "" {
		return // a focused run captures only some states
	}
	var missing []string
	for state := range gitOpsHealth {
		if _, ok := capturedHealth.objects[state]; !ok {
			missing = append(missing, state)
		}
	}
	sort.Strings(missing)
	Expect(missing).To(BeEmpty(), "every state of the GitOps health table is read from a real baseline")
	if !*updateHealthTestdata {
		return
	}
	type testCase struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	}
	var cases []testCase
	states := make([]string, 0, len(gitOpsHealth))
	for state := range gitOpsHealth {
		states = append(states, state)
	}
	sort.Strings(states)
	for _, state := range states {
		raw, err := yaml.Marshal(capturedHealth.objects[state])
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(healthCheckDir, "testdata", state+".yaml"), raw, 0o644)).To(Succeed())
		var c testCase
		c.HealthStatus.Status, c.HealthStatus.Message = gitOpsHealth[state].argo, capturedHealth.messages[state]
		c.InputPath = "testdata/" + state + ".yaml"
		cases = append(cases, c)
	}
	raw, err := yaml.Marshal(map[string]any{"tests": cases})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(healthCheckDir, "health_test.yaml"), raw, 0o644)).To(Succeed())
}

var _ = Describe("GitOps health at every state of the contract's table", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("reads a baseline the operator has not reconciled yet as in progress", func() {
		newNamespace(sel)
		name := uniqueName("unobserved")
		restartManager(func() {
			createBaseline(name, fullSpec(sel))
			expectHealth(Default, name, "not-reconciled")
		})
		expectReady(name, 1)
		expectHealth(Default, name, "healthy")
	})

	It("reads a rollout whose writes are being retried as in progress, then as healthy", func() {
		ns := newNamespace(sel)
		fail := admissionregistrationv1.Fail
		none := admissionregistrationv1.SideEffectClassNone
		webhook := &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("unreachable")},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:                    "unreachable.test.baseline.dev",
				ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: new("https://127.0.0.1:1/validate")},
				Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"networkpolicies"}}}},
				NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns.Name}},
				FailurePolicy:           &fail,
				SideEffects:             &none,
				AdmissionReviewVersions: []string{"v1"},
				TimeoutSeconds:          new(int32(1)),
			}},
		}
		Expect(k8sClient.Create(ctx, webhook)).To(Succeed())
		name := uniqueName("retrying")
		createBaseline(name, fullSpec(sel))
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(condition(b, securityv1alpha1.ConditionReconciling)).To(HaveField("Status", metav1.ConditionTrue))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionUnknown))
			expectHealth(g, name, "rolling-out")
		}).Should(Succeed())
		Expect(k8sClient.Delete(ctx, webhook)).To(Succeed())
		expectReady(name, 1)
		Expect(condition(getBaseline(Default, name), securityv1alpha1.ConditionReconciling)).To(BeNil())
	})

	It("reads a baseline being deleted as terminating", func() {
		newNamespace(sel)
		name := uniqueName("deleting")
		b := createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		const hold = "test.baseline.dev/hold"
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(b), b)).To(Succeed())
		b.Finalizers = append(b.Finalizers, hold)
		Expect(k8sClient.Update(ctx, b)).To(Succeed())
		Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getBaseline(g, name)
			g.Expect(got.Finalizers).To(Equal([]string{hold}), "the operator has released its finalizer")
			expectHealth(g, name, "deleting")
		}).Should(Succeed())
		Eventually(func() error {
			got := &securityv1alpha1.SecurityBaseline{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
				return client.IgnoreNotFound(err)
			}
			got.Finalizers = nil
			return k8sClient.Update(ctx, got)
		}).Should(Succeed())
	})
})
