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
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

var _ = Describe("drift accounting", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("does not count a rollout after a spec edit as drift", func() {
		namespaces := []*corev1.Namespace{newNamespace(sel), newNamespace(sel), newNamespace(sel)}
		name := uniqueName("rollout")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 3)
		Eventually(noDriftAccounted).WithArguments(name).Should(Succeed(), "a first creation is no drift either")

		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.Roles[0].Rules[0].Verbs = append(s.RBAC.Roles[0].Rules[0].Verbs, "create")
		})
		for _, ns := range namespaces {
			Eventually(func(g Gomega) {
				role := &rbacv1.Role{}
				g.Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
				g.Expect(role.Rules[0].Verbs).To(ContainElement("create"))
			}).Should(Succeed(), ns.Name)
		}
		expectReady(name, 3)
		Consistently(noDriftAccounted).WithArguments(name).Should(Succeed())
	})

	It("does not count a namespace joining, leaving and joining again as drift", func() {
		first := newNamespace(sel)
		name := uniqueName("joins")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		Expect(getObject(&rbacv1.Role{}, first.Name, "app-reader")).To(Succeed())

		By("a namespace joining")
		joining := newNamespace("")
		setNamespaceLabel(joining.Name, testLabel, sel)
		Eventually(getObject).WithArguments(&rbacv1.Role{}, joining.Name, "app-reader").Should(Succeed())
		expectReady(name, 2)
		Consistently(noDriftAccounted).WithArguments(name).Should(Succeed())

		By("the namespace leaving")
		setNamespaceLabel(joining.Name, testLabel, "")
		Eventually(isNotFound(&rbacv1.Role{}, joining.Name, "app-reader")).Should(BeTrue())
		Eventually(isNotFound(&networkingv1.NetworkPolicy{}, joining.Name, name+"-default-deny")).Should(BeTrue())
		expectReady(name, 1)

		By("the namespace joining again")
		setNamespaceLabel(joining.Name, testLabel, sel)
		Eventually(getObject).WithArguments(&rbacv1.Role{}, joining.Name, "app-reader").Should(Succeed())
		Eventually(getObject).WithArguments(&networkingv1.NetworkPolicy{}, joining.Name, name+"-default-deny").Should(Succeed())
		expectReady(name, 2)
		Consistently(noDriftAccounted).WithArguments(name).Should(Succeed())
	})

	It("does not count a namespace deleted and re-created with the same name as drift", func() {
		first := newNamespace(sel)
		recreated := newNamespace(sel)
		name := uniqueName("recreate")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 2)
		Expect(getObject(&rbacv1.Role{}, first.Name, "app-reader")).To(Succeed())

		By("deleting the namespace, the test standing in for the namespace controller envtest lacks")
		deleteNamespace(recreated.Name)
		expectReady(name, 1)

		By("re-creating it under the same name")
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: recreated.Name, Labels: map[string]string{testLabel: sel},
		}})).To(Succeed())
		Eventually(getObject).WithArguments(&rbacv1.Role{}, recreated.Name, "app-reader").Should(Succeed())
		expectReady(name, 2)
		Consistently(noDriftAccounted).WithArguments(name).Should(Succeed())
	})

	It("counts each repaired object once and names each in its own DriftCorrected event", func() {
		namespaces := []*corev1.Namespace{newNamespace(sel), newNamespace(sel), newNamespace(sel)}
		name := uniqueName("repairs")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 3)

		deleted := map[string]*rbacv1.Role{}
		for _, ns := range namespaces {
			role := &rbacv1.Role{}
			Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
			Expect(k8sClient.Delete(ctx, role)).To(Succeed())
			deleted[ns.Name] = role
		}
		for _, ns := range namespaces {
			Eventually(func(g Gomega) {
				role := &rbacv1.Role{}
				g.Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
				g.Expect(role.UID).NotTo(Equal(deleted[ns.Name].UID))
			}).Should(Succeed(), ns.Name)
		}
		expectReady(name, 3)
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.DriftCorrections).To(Equal(int64(3)))
		}).Should(Succeed())

		var each []any
		for _, ns := range namespaces {
			each = append(each, And(
				HaveField("Type", corev1.EventTypeNormal),
				relatedTo("Role", ns.Name, "app-reader"),
				HaveField("Note", ContainSubstring(ns.Name+"/app-reader"))))
		}
		Eventually(func(g Gomega) {
			g.Expect(baselineEvents(g, name, securityv1alpha1.EventDriftCorrected)).To(ConsistOf(each...),
				"three events, none folded into another's series")
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.DriftCorrections).To(Equal(int64(3)))
		}).Should(Succeed())
	})

	It("emits one Conflict warning per conflict, naming the object, not one per retry", func() {
		ns := newNamespace(sel)
		users := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "app-reader", Namespace: ns.Name},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		}
		Expect(k8sClient.Create(ctx, users)).To(Succeed())
		name := uniqueName("warn")
		createBaseline(name, fullSpec(sel))

		// The Role is in the way, and the RoleBinding to it is held back: one event each.
		var seen []eventsv1.Event
		Eventually(func(g Gomega) {
			events := baselineEvents(g, name, securityv1alpha1.EventConflict)
			g.Expect(events).To(ConsistOf(
				And(HaveField("Type", corev1.EventTypeWarning), relatedTo("Role", ns.Name, "app-reader")),
				And(HaveField("Type", corev1.EventTypeWarning), relatedTo("RoleBinding", ns.Name, "app-readers"))))
			seen = events
		}).Should(Succeed())

		By("touching the namespace, so the baseline looks at it again")
		setNamespaceLabel(ns.Name, "touched", "yes")
		Consistently(func(g Gomega) {
			events := baselineEvents(g, name, securityv1alpha1.EventConflict)
			g.Expect(events).To(HaveLen(len(seen)))
			for i := range seen {
				g.Expect(events).To(ContainElement(And(HaveField("UID", seen[i].UID), HaveField("Series", Equal(seen[i].Series)))),
					"no new event, no series of repeats")
			}
		}, "5s").Should(Succeed())
		Expect(getBaseline(Default, name).Status.Drift).To(ContainElement(
			driftEntry(ns.Name, "Role", "app-reader", securityv1alpha1.DriftConflict)), "the conflict still stands")
	})
})

// deleteNamespace deletes a namespace for good, doing what the namespace controller (absent from
// envtest) would: delete its content, then finalize it.
func deleteNamespace(name string) {
	GinkgoHelper()
	Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	for _, kind := range []client.Object{&networkingv1.NetworkPolicy{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
		&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &corev1.Secret{}} {
		Expect(k8sClient.DeleteAllOf(ctx, kind, client.InNamespace(name))).To(Succeed())
	}
	Eventually(func() error {
		ns := &corev1.Namespace{}
		if err := getObject(ns, "", name); err != nil {
			return err
		}
		ns.Spec.Finalizers = nil
		return k8sClient.SubResource("finalize").Update(ctx, ns)
	}).Should(Succeed())
	Eventually(isNotFound(&corev1.Namespace{}, "", name)).Should(BeTrue())
}
