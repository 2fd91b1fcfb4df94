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
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

var _ = Describe("SecurityBaseline reconciler", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("converges every matched namespace to the declared objects and reports Ready", func() {
		nsA, nsB, other := newNamespace(sel), newNamespace(sel), newNamespace("")
		name := uniqueName("full")
		b := &securityv1alpha1.SecurityBaseline{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"argocd.argoproj.io/instance": "platform"},
				Annotations: map[string]string{"gitops/note": "x"}},
			Spec: fullSpec(sel),
		}
		Expect(k8sClient.Create(ctx, b)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, b))).To(Succeed()) })

		expectReady(name, 2)
		for _, ns := range []string{nsA.Name, nsB.Name} {
			for _, np := range []string{name + "-default-deny", name + "-allow-dns", name + "-allow-same-namespace", "allow-ingress-controller"} {
				got := &networkingv1.NetworkPolicy{}
				Expect(getObject(got, ns, np)).To(Succeed())
				Expect(got.Labels).To(Equal(map[string]string{desired.LabelManagedBy: desired.OperatorName, desired.LabelBaseline: name}),
					"the baseline's own labels are not copied")
				Expect(got.Annotations).NotTo(HaveKey("gitops/note"))
				Expect(got.OwnerReferences).To(ConsistOf(And(HaveField("Kind", "SecurityBaseline"), HaveField("Name", name),
					HaveField("UID", b.UID), HaveField("Controller", HaveValue(BeTrue())))))
			}
			deny := &networkingv1.NetworkPolicy{}
			Expect(getObject(deny, ns, name+"-default-deny")).To(Succeed())
			Expect(deny.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
			Expect(deny.Spec.Ingress).To(BeEmpty())
			dns := &networkingv1.NetworkPolicy{}
			Expect(getObject(dns, ns, name+"-allow-dns")).To(Succeed())
			Expect(dns.Spec.Egress).To(HaveLen(1))
			Expect(dns.Spec.Egress[0].Ports).To(HaveLen(2))

			rb := &rbacv1.RoleBinding{}
			Expect(getObject(rb, ns, "app-readers")).To(Succeed())
			Expect(rb.Subjects).To(ConsistOf(HaveField("Name", "team-"+ns)), "$(NAMESPACE) is substituted")
			Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "app-reader"}))
			role := &rbacv1.Role{}
			Expect(getObject(role, ns, "app-reader")).To(Succeed())
			Expect(role.Rules).To(HaveLen(1))
			sa := &corev1.ServiceAccount{}
			Expect(getObject(sa, ns, "secrets-reader")).To(Succeed())
			Expect(sa.AutomountServiceAccountToken).To(HaveValue(BeFalse()))

			namespace := &corev1.Namespace{}
			Expect(getObject(namespace, "", ns)).To(Succeed())
			Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
			Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce-version", "latest"))
			Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted"))
			Expect(namespace.Labels).NotTo(HaveKey("pod-security.kubernetes.io/audit"))
			Expect(namespace.OwnerReferences).To(BeEmpty(), "a Namespace is never owned")
		}
		Expect(isNotFound(&networkingv1.NetworkPolicy{}, other.Name, name+"-default-deny")()).To(BeTrue())

		got := getBaseline(Default, name)
		Expect(got.Status.ManagedObjects).To(Equal(int32(2 * objectsPerNamespace)))
		Expect(got.Status.DriftedObjects).To(BeZero())
		Expect(condition(got, securityv1alpha1.ConditionDriftDetected)).To(HaveField("Status", metav1.ConditionFalse))
		Expect(condition(got, securityv1alpha1.ConditionReconciling)).To(BeNil())
		Expect(condition(got, securityv1alpha1.ConditionStalled)).To(BeNil())
		Expect(testutil.ToFloat64(matchedNamespaces.WithLabelValues(name))).To(Equal(2.0))
	})

	It("shows zero counts, so kubectl get sbl prints DRIFTED 0 rather than nothing", func() {
		newNamespace(sel)
		name := uniqueName("zero")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(securityv1alpha1.GroupVersion.WithKind("SecurityBaseline"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, u)).To(Succeed())
		for _, field := range []string{"driftedObjects", "driftCorrections", "matchedNamespaces", "compliantNamespaces", "managedObjects"} {
			_, found, err := unstructured.NestedInt64(u.Object, "status", field)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue(), "status."+field+" is present")
		}
	})

	It("writes nothing once converged", func() {
		ns := newNamespace(sel)
		name := uniqueName("rest")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		np := &networkingv1.NetworkPolicy{}
		Expect(getObject(np, ns.Name, name+"-default-deny")).To(Succeed())
		b := getBaseline(Default, name)
		Consistently(func(g Gomega) {
			got := &networkingv1.NetworkPolicy{}
			g.Expect(getObject(got, ns.Name, name+"-default-deny")).To(Succeed())
			g.Expect(got.ResourceVersion).To(Equal(np.ResourceVersion))
			g.Expect(getBaseline(g, name).ResourceVersion).To(Equal(b.ResourceVersion), "no status write at rest")
		}).Should(Succeed())
	})

	It("restores a deleted object, counts the correction and emits a DriftCorrected event", func() {
		ns := newNamespace(sel)
		name := uniqueName("drift")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)

		np := &networkingv1.NetworkPolicy{}
		Expect(getObject(np, ns.Name, name+"-default-deny")).To(Succeed())
		Expect(k8sClient.Delete(ctx, np)).To(Succeed())
		Eventually(func(g Gomega) {
			restored := &networkingv1.NetworkPolicy{}
			g.Expect(getObject(restored, ns.Name, name+"-default-deny")).To(Succeed())
			g.Expect(restored.UID).NotTo(Equal(np.UID))
		}).Should(Succeed())

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.DriftCorrections).To(BeNumerically(">=", 1))
			g.Expect(b.Status.LastDrift).To(HaveValue(driftEntry(ns.Name, "NetworkPolicy", name+"-default-deny", securityv1alpha1.DriftMissing)))
			g.Expect(b.Status.LastDrift.Time).NotTo(BeNil())
			g.Expect(condition(b, securityv1alpha1.ConditionDriftDetected)).To(And(
				HaveField("Status", metav1.ConditionFalse), HaveField("Reason", securityv1alpha1.ReasonDriftCorrected)))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			events := &eventsv1.EventList{}
			g.Expect(k8sClient.List(ctx, events)).To(Succeed())
			g.Expect(events.Items).To(ContainElement(And(
				HaveField("Reason", securityv1alpha1.EventDriftCorrected),
				HaveField("Type", corev1.EventTypeNormal),
				HaveField("Regarding.Name", name),
				HaveField("Note", ContainSubstring(ns.Name+"/"+name+"-default-deny")))))
		}).Should(Succeed())
		Expect(testutil.ToFloat64(driftCorrections.WithLabelValues(name))).To(BeNumerically(">=", 1))
	})

	It("restores edited declared fields and leaves undeclared fields alone", func() {
		ns := newNamespace(sel)
		name := uniqueName("edit")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)

		role := &rbacv1.Role{}
		Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
		role.Rules[0].Verbs = []string{"*"}
		role.Annotations = map[string]string{"other-controller/note": "kept"}
		Expect(k8sClient.Update(ctx, role)).To(Succeed())

		namespace := &corev1.Namespace{}
		Expect(getObject(namespace, "", ns.Name)).To(Succeed())
		namespace.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
		namespace.Labels["team"] = "a"
		Expect(k8sClient.Update(ctx, namespace)).To(Succeed())

		Eventually(func(g Gomega) {
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
			g.Expect(got.Rules[0].Verbs).To(Equal([]string{"get", "list", "watch"}))
			g.Expect(got.Annotations).To(HaveKeyWithValue("other-controller/note", "kept"))
			n := &corev1.Namespace{}
			g.Expect(getObject(n, "", ns.Name)).To(Succeed())
			g.Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
			g.Expect(n.Labels).To(HaveKeyWithValue("team", "a"))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.DriftCorrections).To(BeNumerically(">=", 2))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
			g.Expect(got.Annotations).To(HaveKeyWithValue("other-controller/note", "kept"))
		}).Should(Succeed())
	})

	It("picks up namespaces that join and cleans up namespaces that leave or are excluded", func() {
		name := uniqueName("join")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 0)

		joining := newNamespace(sel)
		excluded := newNamespace(sel)
		expectReady(name, 2)
		Expect(getObject(&rbacv1.Role{}, joining.Name, "app-reader")).To(Succeed())

		By("relabelling a namespace out of the selection")
		Expect(getObject(joining, "", joining.Name)).To(Succeed())
		delete(joining.Labels, testLabel)
		Expect(k8sClient.Update(ctx, joining)).To(Succeed())
		By("excluding the other by name")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.ExcludeNamespaces = []string{excluded.Name} })

		for _, ns := range []string{joining.Name, excluded.Name} {
			Eventually(isNotFound(&rbacv1.Role{}, ns, "app-reader")).Should(BeTrue())
			Eventually(isNotFound(&networkingv1.NetworkPolicy{}, ns, name+"-default-deny")).Should(BeTrue())
			Eventually(isNotFound(&corev1.ServiceAccount{}, ns, "secrets-reader")).Should(BeTrue())
			Eventually(func(g Gomega) {
				n := &corev1.Namespace{}
				g.Expect(getObject(n, "", ns)).To(Succeed())
				g.Expect(n.Labels).NotTo(HaveKey(HavePrefix("pod-security.kubernetes.io/")))
			}).Should(Succeed())
		}
		expectReady(name, 0)
	})

	It("applies spec edits everywhere: removed objects are pruned, a changed roleRef replaces the RoleBinding", func() {
		ns := newNamespace(sel)
		name := uniqueName("edit")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		rb := &rbacv1.RoleBinding{}
		Expect(getObject(rb, ns.Name, "app-readers")).To(Succeed())

		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NetworkPolicies.AllowDNS = false
			s.RBAC.RoleBindings[0].RoleRef = securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
			s.RBAC.Roles[0].Rules[0].Resources = []string{"pods"}
			s.PodSecurity.Warn = ""
		})
		Eventually(isNotFound(&networkingv1.NetworkPolicy{}, ns.Name, name+"-allow-dns")).Should(BeTrue())
		Eventually(func(g Gomega) {
			got := &rbacv1.RoleBinding{}
			g.Expect(getObject(got, ns.Name, "app-readers")).To(Succeed())
			g.Expect(got.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}))
			g.Expect(got.UID).NotTo(Equal(rb.UID))
			role := &rbacv1.Role{}
			g.Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
			g.Expect(role.Rules[0].Resources).To(Equal([]string{"pods"}))
			n := &corev1.Namespace{}
			g.Expect(getObject(n, "", ns.Name)).To(Succeed())
			g.Expect(n.Labels).NotTo(HaveKey("pod-security.kubernetes.io/warn"))
			g.Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		}).Should(Succeed())
		expectReady(name, 1)
		Expect(getBaseline(Default, name).Status.ManagedObjects).To(Equal(int32(objectsPerNamespace - 1)))
	})

	It("reports a user's object of the same name as a Conflict and never touches it", func() {
		ns := newNamespace(sel)
		users := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "app-reader", Namespace: ns.Name, Labels: map[string]string{"owner": "team"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		}
		Expect(k8sClient.Create(ctx, users)).To(Succeed())
		name := uniqueName("conflict")
		createBaseline(name, fullSpec(sel))

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.Drift).To(ContainElement(driftEntry(ns.Name, "Role", "app-reader", securityv1alpha1.DriftConflict)))
			g.Expect(b.Status.Drift).To(ContainElement(And(driftEntry(ns.Name, "RoleBinding", "app-readers", securityv1alpha1.DriftConflict),
				HaveField("Message", ContainSubstring("Role app-reader")))), "the binding to the team's Role is held back")
			g.Expect(b.Status.DriftedObjects).To(Equal(int32(2)))
			g.Expect(b.Status.CompliantNamespaces).To(BeZero())
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(And(HaveField("Status", metav1.ConditionFalse), HaveField("Reason", securityv1alpha1.ReasonConflict)))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(HaveField("Status", metav1.ConditionTrue))
			g.Expect(condition(b, securityv1alpha1.ConditionDriftDetected)).To(HaveField("Status", metav1.ConditionTrue))
		}).Should(Succeed())
		Expect(getObject(&networkingv1.NetworkPolicy{}, ns.Name, name+"-default-deny")).To(Succeed(), "the rest of the namespace converges")
		Consistently(func(g Gomega) {
			g.Expect(isNotFound(&rbacv1.RoleBinding{}, ns.Name, "app-readers")()).To(BeTrue(), "never bound to the team's Role")
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
			g.Expect(got.UID).To(Equal(users.UID))
			g.Expect(got.Labels).To(Equal(map[string]string{"owner": "team"}))
			g.Expect(got.OwnerReferences).To(BeEmpty())
			g.Expect(got.Rules).To(Equal(users.Rules))
		}).Should(Succeed())

		By("the user removing their object, the baseline converges")
		Expect(k8sClient.Delete(ctx, users)).To(Succeed())
		Eventually(func(g Gomega) {
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
			g.Expect(got.Labels).To(HaveKeyWithValue(desired.LabelBaseline, name))
		}, "60s").Should(Succeed())
		expectReady(name, 1)
	})

	It("finds a user's object of the same name among many new namespaces at once", func() {
		var namespaces []string
		for range maxSingleReads + 2 {
			namespaces = append(namespaces, newNamespace(sel).Name)
		}
		users := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "secrets-reader", Namespace: namespaces[3]}}
		Expect(k8sClient.Create(ctx, users)).To(Succeed())
		name := uniqueName("many")
		createBaseline(name, fullSpec(sel))
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.Drift).To(ConsistOf(driftEntry(namespaces[3], "ServiceAccount", "secrets-reader", securityv1alpha1.DriftConflict)))
			g.Expect(b.Status.CompliantNamespaces).To(Equal(int32(len(namespaces) - 1)))
		}).Should(Succeed())
		got := &corev1.ServiceAccount{}
		Expect(getObject(got, namespaces[3], "secrets-reader")).To(Succeed())
		Expect(got.Labels).NotTo(HaveKey(desired.LabelBaseline))
	})

	It("reports a Pod Security conflict on the baseline created later, keeps the earlier level and never flaps", func() {
		ns := newNamespace(sel)
		first, second := uniqueName("first"), uniqueName("second")
		createBaseline(first, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted"},
		})
		expectReady(first, 1)
		createBaseline(second, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "baseline"},
		})
		Eventually(func(g Gomega) {
			b := getBaseline(g, second)
			g.Expect(b.Status.Drift).To(ConsistOf(driftEntry(ns.Name, "Namespace", ns.Name, securityv1alpha1.DriftConflict)))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Reason", securityv1alpha1.ReasonConflict))
		}).Should(Succeed())
		n := &corev1.Namespace{}
		Expect(getObject(n, "", ns.Name)).To(Succeed())
		Consistently(func(g Gomega) {
			got := &corev1.Namespace{}
			g.Expect(getObject(got, "", ns.Name)).To(Succeed())
			g.Expect(got.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
			g.Expect(got.ResourceVersion).To(Equal(n.ResourceVersion), "nothing flaps")
			g.Expect(condition(getBaseline(g, first), securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
		}).Should(Succeed())
	})

	It("never targets protected namespaces, whatever the selector says", func() {
		ns := newNamespace("")
		name := uniqueName("protected")
		spec := fullSpec(sel)
		spec.NamespaceSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn,
			Values: []string{"kube-system", "kube-public", "kube-node-lease", operatorNamespace, ns.Name},
		}}}
		createBaseline(name, spec)
		expectReady(name, 1)
		Expect(getObject(&rbacv1.Role{}, ns.Name, "app-reader")).To(Succeed())
		for _, protected := range []string{"kube-system", "kube-public", "kube-node-lease", operatorNamespace} {
			Expect(isNotFound(&rbacv1.Role{}, protected, "app-reader")()).To(BeTrue(), protected)
			n := &corev1.Namespace{}
			Expect(getObject(n, "", protected)).To(Succeed())
			Expect(n.Labels).NotTo(HaveKey(HavePrefix("pod-security.kubernetes.io/")), protected)
		}
	})

	It("pauses all reconciliation while suspended", func() {
		ns := newNamespace(sel)
		name := uniqueName("suspend")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.Suspend = true })
		Eventually(func(g Gomega) {
			g.Expect(condition(getBaseline(g, name), securityv1alpha1.ConditionReady)).To(BeNil(), "suspended: no Ready verdict (kstatus Current)")
			expectHealth(g, name, "suspended")
		}).Should(Succeed())

		sa := &corev1.ServiceAccount{}
		Expect(getObject(sa, ns.Name, "secrets-reader")).To(Succeed())
		Expect(k8sClient.Delete(ctx, sa)).To(Succeed())
		Consistently(isNotFound(&corev1.ServiceAccount{}, ns.Name, "secrets-reader")).Should(BeTrue())

		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.Suspend = false })
		Eventually(getObject).WithArguments(&corev1.ServiceAccount{}, ns.Name, "secrets-reader").Should(Succeed())
		expectReady(name, 1)
	})

	It("in Audit mode writes nothing and reports what Enforce would change", func() {
		ns := newNamespace(sel)
		name := uniqueName("audit")
		spec := fullSpec(sel)
		spec.Mode = securityv1alpha1.ModeAudit
		createBaseline(name, spec)

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.DriftedObjects).To(Equal(int32(objectsPerNamespace)))
			g.Expect(b.Status.Drift).To(ContainElements(
				driftEntry(ns.Name, "NetworkPolicy", name+"-default-deny", securityv1alpha1.DriftMissing),
				driftEntry(ns.Name, "Namespace", ns.Name, securityv1alpha1.DriftMissing),
				driftEntry(ns.Name, "Role", "app-reader", securityv1alpha1.DriftMissing)))
			g.Expect(condition(b, securityv1alpha1.ConditionDriftDetected)).To(HaveField("Status", metav1.ConditionTrue))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
			expectHealth(g, name, "audit-drift")
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(isNotFound(&rbacv1.Role{}, ns.Name, "app-reader")()).To(BeTrue())
			g.Expect(isNotFound(&networkingv1.NetworkPolicy{}, ns.Name, name+"-default-deny")()).To(BeTrue())
			n := &corev1.Namespace{}
			g.Expect(getObject(n, "", ns.Name)).To(Succeed())
			g.Expect(n.Labels).NotTo(HaveKey(HavePrefix("pod-security.kubernetes.io/")))
		}).Should(Succeed())

		By("switching to Enforce, then back to Audit, an edit is reported as Modified and left as is")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.Mode = securityv1alpha1.ModeEnforce })
		expectReady(name, 1)
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.Mode = securityv1alpha1.ModeAudit })
		expectReady(name, 1)
		expectHealth(Default, name, "audit-healthy")
		role := &rbacv1.Role{}
		Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
		role.Rules[0].Verbs = []string{"get"}
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.Drift).To(ConsistOf(driftEntry(ns.Name, "Role", "app-reader", securityv1alpha1.DriftModified)))
			g.Expect(b.Status.Drift[0].Message).To(ContainSubstring("rules"))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
			g.Expect(got.Rules[0].Verbs).To(Equal([]string{"get"}))
		}).Should(Succeed())
	})

	It("with deletionPolicy Delete removes every managed object and label before the baseline goes", func() {
		ns := newNamespace(sel)
		name := uniqueName("delete")
		b := createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		Eventually(isNotFound(&securityv1alpha1.SecurityBaseline{}, "", name)).Should(BeTrue())
		// envtest runs no garbage collector: what is gone was deleted by the operator.
		Expect(isNotFound(&networkingv1.NetworkPolicy{}, ns.Name, name+"-default-deny")()).To(BeTrue())
		Expect(isNotFound(&rbacv1.Role{}, ns.Name, "app-reader")()).To(BeTrue())
		Expect(isNotFound(&rbacv1.RoleBinding{}, ns.Name, "app-readers")()).To(BeTrue())
		Expect(isNotFound(&corev1.ServiceAccount{}, ns.Name, "secrets-reader")()).To(BeTrue())
		n := &corev1.Namespace{}
		Expect(getObject(n, "", ns.Name)).To(Succeed())
		Expect(n.Labels).NotTo(HaveKey(HavePrefix("pod-security.kubernetes.io/")))
	})

	It("with deletionPolicy Orphan leaves managed objects without their ownerReference", func() {
		ns := newNamespace(sel)
		name := uniqueName("orphan")
		spec := fullSpec(sel)
		spec.DeletionPolicy = securityv1alpha1.DeletionPolicyOrphan
		b := createBaseline(name, spec)
		expectReady(name, 1)
		Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		Eventually(isNotFound(&securityv1alpha1.SecurityBaseline{}, "", name)).Should(BeTrue())
		for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.ServiceAccount{}} {
			objName := map[string]string{"*v1.NetworkPolicy": name + "-default-deny", "*v1.Role": "app-reader",
				"*v1.RoleBinding": "app-readers", "*v1.ServiceAccount": "secrets-reader"}[fmt.Sprintf("%T", obj)]
			Expect(getObject(obj, ns.Name, objName)).To(Succeed())
			Expect(obj.GetOwnerReferences()).To(BeEmpty(), objName)
		}
		n := &corev1.Namespace{}
		Expect(getObject(n, "", ns.Name)).To(Succeed())
		Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	})

	It("defaults status.observedGeneration to -1 so an unprocessed baseline never looks healthy", func() {
		b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("default")}, Spec: fullSpec(sel)}
		Expect(k8sClient.Create(ctx, b, client.DryRunAll)).To(Succeed())
		Expect(b.Status.ObservedGeneration).To(Equal(int64(-1)))
		Expect(b.Spec.Mode).To(Equal(securityv1alpha1.ModeEnforce))
		Expect(b.Spec.DeletionPolicy).To(Equal(securityv1alpha1.DeletionPolicyDelete))
		Expect(b.Spec.PodSecurity.Version).To(Equal("latest"))
	})
})

var _ = Describe("SecurityBaseline admission", func() {
	DescribeTable("rejects invalid specs with a message naming the field",
		func(name string, mutate func(*securityv1alpha1.SecurityBaselineSpec), wantInMessage ...string) {
			spec := fullSpec("x")
			mutate(&spec)
			b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
			err := k8sClient.Create(ctx, b, client.DryRunAll)
			Expect(err).To(HaveOccurred())
			for _, want := range wantInMessage {
				Expect(err.Error()).To(ContainSubstring(want))
			}
		},
		Entry("unknown mode", "bad-mode", func(s *securityv1alpha1.SecurityBaselineSpec) { s.Mode = "Sometimes" }, "spec.mode", "Enforce"),
		Entry("unknown deletion policy", "bad-policy", func(s *securityv1alpha1.SecurityBaselineSpec) { s.DeletionPolicy = "Keep" }, "spec.deletionPolicy"),
		Entry("unknown Pod Security level", "bad-level", func(s *securityv1alpha1.SecurityBaselineSpec) { s.PodSecurity.Enforce = "strict" }, "spec.podSecurity.enforce"),
		Entry("bad Pod Security version", "bad-version", func(s *securityv1alpha1.SecurityBaselineSpec) { s.PodSecurity.Version = "1.30" }, "spec.podSecurity.version"),
		Entry("unknown policy type", "bad-type", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NetworkPolicies.DefaultDeny = []networkingv1.PolicyType{"Sideways"}
		}, "spec.networkPolicies.defaultDeny[0]"),
		Entry("a NetworkPolicy name that is not DNS-1123", "bad-np-name", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NetworkPolicies.Policies[0].Name = "Bad_Name"
		}, "spec.networkPolicies.policies[0].name"),
		Entry("two Roles of one name", "dup-role", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.Roles = append(s.RBAC.Roles, s.RBAC.Roles[0])
		}, "spec.rbac.roles[1]", "Duplicate value"),
		Entry("a roleRef to a Role the baseline does not declare", "bad-roleref", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.RoleBindings[0].RoleRef.Name = "missing"
		}, "spec.rbac.roleBindings", "must name a Role declared in rbac.roles"),
		Entry("a roleRef of another kind", "bad-roleref-kind", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.RoleBindings[0].RoleRef.Kind = "User"
		}, "spec.rbac.roleBindings[0].roleRef.kind"),
		Entry("an unknown selector operator", "bad-operator", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near", Values: []string{"b"}}}
		}, "spec.namespaceSelector.matchExpressions", "In, NotIn, Exists, DoesNotExist"),
		Entry("In without values", "bad-values", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpIn}}
		}, "spec.namespaceSelector.matchExpressions", "values must be non-empty"),
		Entry("a secret store with both externalSecrets and csi", "bad-store", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.SecretStores = []securityv1alpha1.SecretStore{{Name: "vault", ExternalSecrets: jsonObject(`{"provider":{}}`), CSI: jsonObject(`{"provider":"vault"}`)}}
		}, "spec.secretStores[0]", "exactly one of externalSecrets or csi"),
		Entry("a secret store with neither", "empty-store", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.SecretStores = []securityv1alpha1.SecretStore{{Name: "vault"}}
		}, "spec.secretStores[0]", "exactly one of externalSecrets or csi"),
		Entry("an excluded namespace that is not a namespace name", "bad-exclude", func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.ExcludeNamespaces = []string{"Not A Namespace"}
		}, "spec.excludeNamespaces[0]"),
		Entry("a name too long for a label value", strings.Repeat("n", 64), func(*securityv1alpha1.SecurityBaselineSpec) {}, "metadata.name", "63"),
	)
})
