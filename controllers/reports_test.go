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
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// installReportCRD installs one of the genuine report CRDs of test/testdata/crds/reports.
func installReportCRD(file string) {
	GinkgoHelper()
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join("..", "test", "testdata", "crds", "reports", file)}, ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())
}

// getReport reads a baseline's report of a kind in a namespace from the API server.
func getReport(g Gomega, gvk schema.GroupVersionKind, namespace, baseline string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	g.Expect(getObject(u, namespace, desired.ReportName(baseline))).To(Succeed())
	return u
}

// reportResults returns a report's results keyed by rule (Pod Security's own result under
// "PodSecurity", violating pods under "PodSecurity/<pod>").
func resultsByRule(g Gomega, u *unstructured.Unstructured) map[string]map[string]any {
	items, _, err := unstructured.NestedSlice(u.Object, "results")
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]map[string]any{}
	for _, item := range items {
		m := item.(map[string]any)
		rule := m["rule"].(string)
		if reason, _, _ := unstructured.NestedString(m, "properties", "reason"); reason == "PodSecurityViolation" {
			resources, _, _ := unstructured.NestedSlice(m, "resources")
			rule += "/" + resources[0].(map[string]any)["name"].(string)
		}
		out[rule] = m
	}
	return out
}

// The report CRDs stay installed once a spec installs them, so the specs run in order: none,
// then only the Policy WG's, then OpenReports too.
var _ = Describe("per-namespace compliance reports", Ordered, func() {
	It("says in status that no report CRD is installed, and works on", func() {
		sel := uniqueName("sel")
		newNamespace(sel)
		name := uniqueName("noreports")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		Expect(getBaseline(Default, name).Status.ReportKind).To(Equal("None"))
	})

	It("writes a wgpolicyk8s.io PolicyReport where only the Policy WG's CRD is installed", func() {
		installReportCRD("wgpolicyk8s.io_policyreports.yaml")
		sel := uniqueName("sel")
		ns := newNamespace(sel)
		name := uniqueName("policyreport")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		Eventually(func(g Gomega) {
			report := getReport(g, desired.PolicyReportGVK, ns.Name, name)
			g.Expect(report.Object["summary"]).To(HaveKeyWithValue("pass", BeNumerically("==", objectsPerNamespace)))
			g.Expect(getBaseline(g, name).Status.ReportKind).To(Equal("PolicyReport"))
		}).Should(Succeed())
	})

	It("keeps an OpenReports Report per baseline and namespace, failing what drifted, and only rewrites it when a result changes", func() {
		installReportCRD("openreports.io_reports.yaml")
		sel := uniqueName("sel")
		ns, other := newNamespace(sel), newNamespace(sel)
		// A user's own Role holds a declared name in one namespace: a Conflict there.
		Expect(k8sClient.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: other.Name, Name: "app-reader"}})).To(Succeed())
		name := uniqueName("reports")
		b := createBaseline(name, fullSpec(sel))

		var report *unstructured.Unstructured
		Eventually(func(g Gomega) {
			report = getReport(g, desired.OpenReportsGVK, ns.Name, name)
			g.Expect(report.GetLabels()).To(Equal(desired.Labels(name)))
			g.Expect(report.GetOwnerReferences()).To(ConsistOf(And(HaveField("UID", b.UID), HaveField("Controller", HaveValue(BeTrue())))))
			g.Expect(report.Object).To(HaveKeyWithValue("source", "securitybaseline-operator"))
			results := resultsByRule(g, report)
			g.Expect(results).To(HaveLen(objectsPerNamespace))
			for _, rule := range []string{"NetworkPolicy/" + name + "-default-deny", "Role/app-reader", "RoleBinding/app-readers", "ServiceAccount/secrets-reader", "PodSecurity"} {
				g.Expect(results).To(HaveKeyWithValue(rule, And(HaveKeyWithValue("result", "pass"), HaveKeyWithValue("policy", name),
					HaveKeyWithValue("source", "securitybaseline-operator"))), rule)
			}
			g.Expect(results["Role/app-reader"]["resources"]).To(ConsistOf(And(HaveKeyWithValue("kind", "Role"),
				HaveKeyWithValue("namespace", ns.Name), HaveKeyWithValue("name", "app-reader"), HaveKeyWithValue("apiVersion", "rbac.authorization.k8s.io/v1"))))
			g.Expect(getBaseline(g, name).Status.ReportKind).To(Equal("Report"))

			conflicted := resultsByRule(g, getReport(g, desired.OpenReportsGVK, other.Name, name))
			g.Expect(conflicted["Role/app-reader"]).To(And(HaveKeyWithValue("result", "fail"),
				HaveKeyWithValue("properties", HaveKeyWithValue("reason", "Conflict"))))
			g.Expect(conflicted["RoleBinding/app-readers"]).To(And(HaveKeyWithValue("result", "fail"),
				HaveKeyWithValue("message", ContainSubstring("Role app-reader"))))
		}).Should(Succeed())
		By("leaving the PolicyReports of the kind written before behind no more")
		Expect(isNotFound(policyReport(), ns.Name, desired.ReportName(name))()).To(BeTrue())

		By("writing nothing when no result changes")
		setNamespaceLabel(ns.Name, "unrelated", "x") // a reconcile of every baseline
		Consistently(func(g Gomega) {
			g.Expect(getReport(g, desired.OpenReportsGVK, ns.Name, name).GetResourceVersion()).To(Equal(report.GetResourceVersion()))
		}, 3*time.Second).Should(Succeed())

		By("failing nothing again once the user's Role is gone")
		Expect(k8sClient.Delete(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: other.Name, Name: "app-reader"}})).To(Succeed())
		Eventually(func(g Gomega) {
			summary := getReport(g, desired.OpenReportsGVK, other.Name, name).Object["summary"]
			g.Expect(summary).To(And(HaveKeyWithValue("pass", BeNumerically("==", objectsPerNamespace)), HaveKeyWithValue("fail", BeNumerically("==", 0))))
		}).Should(Succeed())

		By("deleting the report of a namespace that leaves the selection")
		setNamespaceLabel(other.Name, testLabel, "elsewhere")
		Eventually(isNotFound(openReport(), other.Name, desired.ReportName(name))).Should(BeTrue())

		By("deleting every report with the baseline, whatever its deletion policy")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.DeletionPolicy = securityv1alpha1.DeletionPolicyOrphan
		})
		Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		Eventually(isNotFound(openReport(), ns.Name, desired.ReportName(name))).Should(BeTrue())
	})

	It("fails the drift of an Audit baseline in its report", func() {
		installReportCRD("openreports.io_reports.yaml") // installed already, unless this spec runs alone
		sel := uniqueName("sel")
		ns := newNamespace(sel)
		name := uniqueName("auditreport")
		spec := fullSpec(sel)
		spec.Mode = securityv1alpha1.ModeAudit
		createBaseline(name, spec)
		Eventually(func(g Gomega) {
			results := resultsByRule(g, getReport(g, desired.OpenReportsGVK, ns.Name, name))
			g.Expect(results["ServiceAccount/secrets-reader"]).To(And(HaveKeyWithValue("result", "fail"),
				HaveKeyWithValue("properties", HaveKeyWithValue("reason", "Missing"))))
			g.Expect(results["PodSecurity"]).To(HaveKeyWithValue("result", "fail"))
		}).Should(Succeed())
		if report, err := yaml.Marshal(getReport(Default, desired.OpenReportsGVK, ns.Name, name).Object); err == nil {
			GinkgoWriter.Printf("an Audit baseline's Report:\n%s\n", report)
		}
	})

	Context("Pod Security dry run before enforcing", func() {
		BeforeEach(func() { installReportCRD("openreports.io_reports.yaml") })

		// runningPod creates a pod that violates the restricted level (no securityContext).
		runningPod := func(namespace string) *corev1.Pod {
			GinkgoHelper()
			Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "default"}})).To(Succeed())
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "legacy-app"},
				Spec: corev1.PodSpec{AutomountServiceAccountToken: new(false), Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}
			Expect(k8sClient.Create(ctx, pod)).To(Succeed())
			return pod
		}
		podSecuritySpec := func(sel string, onViolation securityv1alpha1.PodSecurityViolationAction) securityv1alpha1.SecurityBaselineSpec {
			return securityv1alpha1.SecurityBaselineSpec{
				NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
				PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted", Warn: "restricted", OnViolation: onViolation},
			}
		}

		It("sets the enforce level anyway by default, reporting the running pods that violate it", func() {
			sel := uniqueName("sel")
			ns := newNamespace(sel)
			runningPod(ns.Name)
			name := uniqueName("psa-apply")
			createBaseline(name, podSecuritySpec(sel, ""))
			expectReady(name, 1)
			Eventually(func(g Gomega) {
				g.Expect(getObject(ns, "", ns.Name)).To(Succeed())
				g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
				g.Expect(getBaseline(g, name).Status.PodSecurityViolations).To(Equal(int32(1)))
				g.Expect(baselineEvents(g, name, securityv1alpha1.EventPodSecurityViolations)).To(ConsistOf(And(
					relatedTo("Namespace", "", ns.Name),
					HaveField("Type", corev1.EventTypeWarning),
					HaveField("Note", And(ContainSubstring("1 running pods violate enforce level restricted, set anyway"), ContainSubstring("legacy-app: "))))))
				results := resultsByRule(g, getReport(g, desired.OpenReportsGVK, ns.Name, name))
				g.Expect(results["PodSecurity"]).To(HaveKeyWithValue("result", "pass"))
				g.Expect(results["PodSecurity/legacy-app"]).To(And(HaveKeyWithValue("result", "warn"),
					HaveKeyWithValue("message", ContainSubstring("runAsNonRoot != true"))))
			}).Should(Succeed())
			By("keeping the finding in the report and status on later passes")
			setNamespaceLabel(ns.Name, "unrelated", "x")
			Consistently(func(g Gomega) {
				g.Expect(getBaseline(g, name).Status.PodSecurityViolations).To(Equal(int32(1)))
			}, 3*time.Second).Should(Succeed())
		})

		It("holds the enforce level back with onViolation Hold, Stalled until the pods are fixed", func() {
			sel := uniqueName("sel")
			ns := newNamespace(sel)
			pod := runningPod(ns.Name)
			name := uniqueName("psa-hold")
			createBaseline(name, podSecuritySpec(sel, securityv1alpha1.PodSecurityViolationHold))
			Eventually(func(g Gomega) {
				b := getBaseline(g, name)
				g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(HaveField("Status", metav1.ConditionTrue),
					HaveField("Reason", securityv1alpha1.ReasonPodSecurityViolations)))
				g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
				g.Expect(b.Status.PodSecurityViolations).To(Equal(int32(1)))
				g.Expect(getObject(ns, "", ns.Name)).To(Succeed())
				g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted"))
				g.Expect(ns.Labels).NotTo(HaveKey("pod-security.kubernetes.io/enforce"))
				results := resultsByRule(g, getReport(g, desired.OpenReportsGVK, ns.Name, name))
				g.Expect(results["PodSecurity"]).To(And(HaveKeyWithValue("result", "fail"), HaveKeyWithValue("message", ContainSubstring("held back"))))
				g.Expect(results["PodSecurity/legacy-app"]).To(HaveKeyWithValue("result", "fail"))
			}).Should(Succeed())

			By("enforcing once the pod is gone")
			Expect(k8sClient.Delete(ctx, pod)).To(Succeed())
			setNamespaceLabel(ns.Name, "unrelated", "x") // running pods are not watched
			expectReady(name, 1)
			Expect(getObject(ns, "", ns.Name)).To(Succeed())
			Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
			Expect(getBaseline(Default, name).Status.PodSecurityViolations).To(BeZero())
		})
	})
})

func openReport() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(desired.OpenReportsGVK)
	return u
}

func policyReport() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(desired.PolicyReportGVK)
	return u
}
