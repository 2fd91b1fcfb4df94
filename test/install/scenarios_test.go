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
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

const testLabel = "install.test/selector"

// Every scenario runs once per install method, with the operator running as its ServiceAccount
// holding exactly that method's RBAC. A call the API server forbids, or an error the operator
// logs, fails the run.
var _ = Describe("the operator running as its ServiceAccount with the shipped RBAC", Serial, func() {
	for _, src := range rbacSources {
		Context("installed from "+src.name, Ordered, func() {
			var run *operatorRun

			BeforeAll(func() {
				run = startOperatorAs(src)
				DeferCleanup(func() { run.stop() }) // also when a scenario failed
			})

			It("converges network policies, RBAC and Pod Security labels", func() {
				sel, ns := targetNamespace()
				name := uniqueName("converge")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyDelete))
				expectReady(name)
				expectConverged(name, ns)
			})

			It("repairs drift: a deleted NetworkPolicy is restored", func() {
				sel, ns := targetNamespace()
				name := uniqueName("drift")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyDelete))
				expectReady(name)
				np := &networkingv1.NetworkPolicy{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-default-deny"}, np)).To(Succeed())
				Expect(k8sClient.Delete(ctx, np)).To(Succeed())
				Eventually(func(g Gomega) {
					restored := &networkingv1.NetworkPolicy{}
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: np.Name}, restored)).To(Succeed())
					g.Expect(restored.UID).NotTo(Equal(np.UID))
					g.Expect(getBaseline(g, name).Status.DriftCorrections).To(BeNumerically(">=", 1))
				}).Should(Succeed())
			})

			It("prunes what is removed from the spec", func() {
				sel, ns := targetNamespace()
				name := uniqueName("prune")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyDelete))
				expectReady(name)
				b := getBaseline(Default, name)
				b.Spec.NetworkPolicies.AllowDNS = false
				b.Spec.RBAC.ServiceAccounts = nil
				Expect(k8sClient.Update(ctx, b)).To(Succeed())
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-allow-dns"}, &networkingv1.NetworkPolicy{})).To(Satisfy(notFound))
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "secrets-reader"}, &corev1.ServiceAccount{})).To(Satisfy(notFound))
				}).Should(Succeed())
				expectReady(name)
			})

			It("in Audit mode reports drift and writes nothing", func() {
				sel, ns := targetNamespace()
				name := uniqueName("audit")
				spec := fullSpec(sel, securityv1alpha1.DeletionPolicyDelete)
				spec.Mode = securityv1alpha1.ModeAudit
				createBaseline(name, spec)
				Eventually(func(g Gomega) {
					b := getBaseline(g, name)
					g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
					g.Expect(meta.IsStatusConditionTrue(b.Status.Conditions, securityv1alpha1.ConditionDriftDetected)).To(BeTrue())
				}).Should(Succeed())
				nps := &networkingv1.NetworkPolicyList{}
				Expect(k8sClient.List(ctx, nps, client.InNamespace(ns))).To(Succeed())
				Expect(nps.Items).To(BeEmpty())
				n := &corev1.Namespace{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
				Expect(n.Labels).NotTo(HaveKey("pod-security.kubernetes.io/enforce"))
			})

			It("binds secret stores (External Secrets and Secrets Store CSI CRDs installed)", func() {
				sel, ns := targetNamespace()
				name := uniqueName("stores")
				spec := fullSpec(sel, securityv1alpha1.DeletionPolicyDelete)
				spec.SecretStores = []securityv1alpha1.SecretStore{
					{Name: "vault-backend", ExternalSecrets: rawJSON(`{"provider":{"vault":{"server":"https://vault.example:8200","path":"secret","version":"v2",` +
						`"auth":{"kubernetes":{"mountPath":"kubernetes","role":"$(NAMESPACE)","serviceAccountRef":{"name":"secrets-reader"}}}}}}`)},
					{Name: "app-secrets", CSI: rawJSON(`{"provider":"vault","parameters":{"roleName":"$(NAMESPACE)"}}`)},
				}
				createBaseline(name, spec)
				expectReady(name)
				for _, gvk := range [][3]string{{"external-secrets.io/v1", "SecretStore", "vault-backend"}, {"secrets-store.csi.x-k8s.io/v1", "SecretProviderClass", "app-secrets"}} {
					u := &unstructured.Unstructured{}
					u.SetAPIVersion(gvk[0])
					u.SetKind(gvk[1])
					Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: gvk[2]}, u)).To(Succeed(), gvk[1])
				}
			})

			It("with deletionPolicy Delete removes every managed object and label with the baseline", func() {
				sel, ns := targetNamespace()
				name := uniqueName("delete")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyDelete))
				expectReady(name)
				deleteBaseline(name)
				Expect(managedNetworkPolicies(ns)).To(BeEmpty())
				Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-reader"}, &rbacv1.Role{})).To(Satisfy(notFound))
				n := &corev1.Namespace{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
				Expect(n.Labels).NotTo(HaveKey("pod-security.kubernetes.io/enforce"))
			})

			It("with deletionPolicy Orphan keeps the objects, released", func() {
				sel, ns := targetNamespace()
				name := uniqueName("orphan")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyOrphan))
				expectReady(name)
				deleteBaseline(name)
				nps := managedNetworkPolicies(ns)
				Expect(nps).To(HaveLen(3))
				for _, np := range nps {
					Expect(np.OwnerReferences).To(BeEmpty())
				}
				role := &rbacv1.Role{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-reader"}, role)).To(Succeed())
				Expect(role.OwnerReferences).To(BeEmpty())
			})

			It("serves metrics to a scraper bound to the metrics-reader ClusterRole", func() {
				// The operator checks each scrape with a TokenReview and a SubjectAccessReview.
				scraper := uniqueName("scraper")
				Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: scraper, Namespace: src.namespace}})).To(Succeed())
				Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
					ObjectMeta: metav1.ObjectMeta{Name: scraper},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "securitybaseline-metrics-reader"},
					Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: scraper, Namespace: src.namespace}},
				})).To(Succeed())
				tr, err := clientset.CoreV1().ServiceAccounts(src.namespace).CreateToken(ctx, scraper, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test endpoint
				Eventually(func(g Gomega) {
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+run.metricsAddr+"/metrics", nil)
					g.Expect(err).NotTo(HaveOccurred())
					req.Header.Set("Authorization", "Bearer "+tr.Status.Token)
					resp, err := httpClient.Do(req)
					g.Expect(err).NotTo(HaveOccurred())
					defer func() { _ = resp.Body.Close() }()
					g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
				}).Should(Succeed())
			})

			It("writes per-namespace compliance reports (OpenReports CRD installed) and deletes them with the baseline", func() {
				sel, ns := targetNamespace()
				name := uniqueName("reports")
				createBaseline(name, fullSpec(sel, securityv1alpha1.DeletionPolicyDelete))
				expectReady(name)
				report := &unstructured.Unstructured{}
				report.SetAPIVersion("openreports.io/v1alpha1")
				report.SetKind("Report")
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sbl-" + name}, report)).To(Succeed())
					g.Expect(report.Object["summary"]).To(HaveKeyWithValue("fail", BeNumerically("==", 0)))
				}).Should(Succeed())
				Expect(k8sClient.Delete(ctx, getBaseline(Default, name))).To(Succeed())
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sbl-" + name}, report)).To(Satisfy(notFound))
				}).Should(Succeed())
			})

			// Last: stop the operator (releasing its Lease, as at shutdown), then check the run.
			It("made no API call the shipped RBAC forbids, and logged no error", func() {
				run.stop()
				forbidden := run.forbidden.all()
				for _, call := range forbidden {
					GinkgoWriter.Println("forbidden:", call)
				}
				Expect(forbidden).To(BeEmpty(), "API calls the shipped RBAC (%s) forbids", src.name)
				var logged []string
				for _, e := range run.errors() {
					// controller-runtime logs this on every shutdown with LeaderElectionReleaseOnCancel
					// (main.go's setting): releasing the Lease reports "lost" after the stop began.
					// A reconcile in flight when the stop began ends with its context cancelled.
					if e != "error received after stop sequence was engaged: leader election lost []" &&
						!strings.HasSuffix(e, "context canceled []") && !strings.HasSuffix(e, "context canceled] []") {
						logged = append(logged, e)
					}
				}
				Expect(logged).To(BeEmpty(), "errors the operator logged")
				GinkgoWriter.Printf("%s: no forbidden call, no error logged\n", src.name)
			})
		})
	}
})

func notFound(err error) bool { return err != nil && client.IgnoreNotFound(err) == nil }

func uniqueName(prefix string) string { return fmt.Sprintf("%s-%s", prefix, rand.String(6)) }

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

// targetNamespace creates a namespace with a fresh selector label.
func targetNamespace() (sel, ns string) {
	GinkgoHelper()
	sel, ns = uniqueName("sel"), uniqueName("team")
	ensureNamespace(ns, map[string]string{testLabel: sel})
	return sel, ns
}

// fullSpec declares every kind of object: Pod Security labels, the three NetworkPolicies, a
// Role, RoleBindings to it and to the allow-listed ClusterRole view, and a ServiceAccount.
func fullSpec(sel string, policy securityv1alpha1.DeletionPolicy) securityv1alpha1.SecurityBaselineSpec {
	team := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}}
	return securityv1alpha1.SecurityBaselineSpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
		DeletionPolicy:    policy,
		PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted", Warn: "restricted", Audit: "restricted"},
		NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			DefaultDeny: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			AllowDNS:    true, AllowSameNamespace: true,
		},
		RBAC: &securityv1alpha1.RBAC{
			Roles: []securityv1alpha1.Role{{Name: "app-reader", Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
			}}},
			RoleBindings: []securityv1alpha1.RoleBinding{
				{Name: "app-readers", RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "app-reader"}, Subjects: team},
				{Name: "viewers", RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}, Subjects: team},
			},
			ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "secrets-reader"}},
		},
	}
}

func createBaseline(name string, spec securityv1alpha1.SecurityBaselineSpec) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec})).To(Succeed())
}

func getBaseline(g Gomega, name string) *securityv1alpha1.SecurityBaseline {
	b := &securityv1alpha1.SecurityBaseline{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, b)).To(Succeed())
	return b
}

// expectReady waits for Ready=True at the baseline's current generation.
func expectReady(name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		b := getBaseline(g, name)
		g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
		ready := meta.FindStatusCondition(b.Status.Conditions, securityv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s: %s", ready.Reason, ready.Message)
	}).Should(Succeed())
}

func expectConverged(name, ns string) {
	GinkgoHelper()
	for _, np := range []string{name + "-default-deny", name + "-allow-dns", name + "-allow-same-namespace"} {
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: np}, &networkingv1.NetworkPolicy{})).To(Succeed(), np)
	}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-reader"}, &rbacv1.Role{})).To(Succeed())
	for _, rb := range []string{"app-readers", "viewers"} {
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: rb}, &rbacv1.RoleBinding{})).To(Succeed(), rb)
	}
	sa := &corev1.ServiceAccount{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "secrets-reader"}, sa)).To(Succeed())
	n := &corev1.Namespace{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
	Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
}

func deleteBaseline(name string) {
	GinkgoHelper()
	Expect(k8sClient.Delete(ctx, &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Name: name}, &securityv1alpha1.SecurityBaseline{})
	}).Should(Satisfy(notFound), "the finalizer is released")
}

func managedNetworkPolicies(ns string) []networkingv1.NetworkPolicy {
	GinkgoHelper()
	nps := &networkingv1.NetworkPolicyList{}
	Expect(k8sClient.List(ctx, nps, client.InNamespace(ns))).To(Succeed())
	return nps.Items
}
