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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// objectVersion is what a user sees of an object that nobody touched: its UID and resourceVersion.
type objectVersion struct {
	uid             types.UID
	resourceVersion string
}

// managedObjectsOf are fullSpec's objects in a namespace (Pod Security labels aside).
func managedObjectsOf(baseline string) map[string]func() client.Object {
	return map[string]func() client.Object{
		baseline + "-default-deny":         func() client.Object { return &networkingv1.NetworkPolicy{} },
		baseline + "-allow-dns":            func() client.Object { return &networkingv1.NetworkPolicy{} },
		baseline + "-allow-same-namespace": func() client.Object { return &networkingv1.NetworkPolicy{} },
		"allow-ingress-controller":         func() client.Object { return &networkingv1.NetworkPolicy{} },
		"app-reader":                       func() client.Object { return &rbacv1.Role{} },
		"app-readers":                      func() client.Object { return &rbacv1.RoleBinding{} },
		"secrets-reader":                   func() client.Object { return &corev1.ServiceAccount{} },
	}
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *networkingv1.NetworkPolicy:
		return "NetworkPolicy"
	case *rbacv1.Role:
		return "Role"
	case *rbacv1.RoleBinding:
		return "RoleBinding"
	case *corev1.ServiceAccount:
		return "ServiceAccount"
	}
	return ""
}

var _ = Describe("ownership by UID", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("never deletes a user's copy of a managed object, even though the copy kept the baseline's labels", func() {
		ns := newNamespace(sel)
		name := uniqueName("copy")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)

		role := &rbacv1.Role{}
		Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
		copied := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "my-copy", Namespace: ns.Name, Labels: role.Labels, Annotations: role.Annotations},
			Rules:      role.Rules,
		}
		Expect(copied.Labels).To(HaveKeyWithValue(desired.LabelBaseline, name), "the copy carries the baseline's labels")
		Expect(k8sClient.Create(ctx, copied)).To(Succeed())

		By("forcing a full pass: a spec edit")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.ServiceAccounts = append(s.RBAC.ServiceAccounts, securityv1alpha1.ServiceAccount{Name: "deployer"})
		})
		Eventually(getObject).WithArguments(&corev1.ServiceAccount{}, ns.Name, "deployer").Should(Succeed())
		Consistently(func(g Gomega) {
			got := &rbacv1.Role{}
			g.Expect(getObject(got, ns.Name, "my-copy")).To(Succeed(), "the user's copy is not deleted")
			g.Expect(got.UID).To(Equal(copied.UID))
		}, "3s").Should(Succeed())
	})

	It("neither deletes, overwrites nor adopts objects orphaned by an earlier baseline of the same name, and reports them", func() {
		ns := newNamespace(sel)
		name := uniqueName("reborn")
		spec := fullSpec(sel)
		spec.DeletionPolicy = securityv1alpha1.DeletionPolicyOrphan
		first := createBaseline(name, spec)
		expectReady(name, 1)
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Eventually(isNotFound(&securityv1alpha1.SecurityBaseline{}, "", name)).Should(BeTrue())

		orphans := map[string]objectVersion{}
		for objName, newObj := range managedObjectsOf(name) {
			obj := newObj()
			Expect(getObject(obj, ns.Name, objName)).To(Succeed())
			Expect(obj.GetOwnerReferences()).To(BeEmpty(), objName)
			orphans[objName] = objectVersion{obj.GetUID(), obj.GetResourceVersion()}
		}

		By("creating a new baseline of the same name and spec")
		second := createBaseline(name, spec)
		Expect(second.UID).NotTo(Equal(first.UID))
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
			for objName, newObj := range managedObjectsOf(name) {
				g.Expect(b.Status.Drift).To(ContainElement(driftEntry(ns.Name, kindOf(newObj()), objName, securityv1alpha1.DriftConflict)))
			}
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", securityv1alpha1.ReasonConflict)))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
			expectHealth(g, name, "conflict")
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			for objName, newObj := range managedObjectsOf(name) {
				obj := newObj()
				g.Expect(getObject(obj, ns.Name, objName)).To(Succeed(), objName)
				g.Expect(objectVersion{obj.GetUID(), obj.GetResourceVersion()}).To(Equal(orphans[objName]), objName+" is left as it was")
			}
		}, "3s").Should(Succeed())
	})

	It("reports a user's object of a declared name as a Conflict and takes the name within seconds once the user deletes it", func() {
		ns := newNamespace(sel)
		users := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "app-reader", Namespace: ns.Name},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		}
		Expect(k8sClient.Create(ctx, users)).To(Succeed())
		name := uniqueName("taken")
		createBaseline(name, fullSpec(sel))
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.Drift).To(ContainElement(driftEntry(ns.Name, "Role", "app-reader", securityv1alpha1.DriftConflict)))
		}).Should(Succeed())
		got := &rbacv1.Role{}
		Expect(getObject(got, ns.Name, "app-reader")).To(Succeed())
		Expect(got.ResourceVersion).To(Equal(users.ResourceVersion), "the user's Role is untouched")

		Expect(k8sClient.Delete(ctx, users)).To(Succeed())
		Eventually(func(g Gomega) {
			role := &rbacv1.Role{}
			g.Expect(getObject(role, ns.Name, "app-reader")).To(Succeed())
			g.Expect(role.OwnerReferences).To(ContainElement(HaveField("Name", name)))
		}, 10*time.Second).Should(Succeed(), "the baseline notices the deletion itself, without waiting for a periodic retry")
		expectReady(name, 1)
	})

	It("repairs a managed object whose labels someone removed instead of calling it a Conflict", func() {
		ns := newNamespace(sel)
		name := uniqueName("unlabel")
		b := createBaseline(name, fullSpec(sel))
		expectReady(name, 1)

		np := &networkingv1.NetworkPolicy{}
		Expect(getObject(np, ns.Name, name+"-default-deny")).To(Succeed())
		delete(np.Labels, desired.LabelManagedBy)
		delete(np.Labels, desired.LabelBaseline)
		Expect(k8sClient.Update(ctx, np)).To(Succeed())

		Eventually(func(g Gomega) {
			got := &networkingv1.NetworkPolicy{}
			g.Expect(getObject(got, ns.Name, name+"-default-deny")).To(Succeed())
			g.Expect(got.UID).To(Equal(np.UID))
			g.Expect(got.Labels).To(Equal(desired.Labels(name)), "the labels come back")
			g.Expect(got.OwnerReferences).To(ContainElement(HaveField("UID", b.UID)))
		}).Should(Succeed())
		expectReady(name, 1)
		Consistently(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.Drift).NotTo(ContainElement(HaveField("Reason", securityv1alpha1.DriftConflict)))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(BeNil())
		}).Should(Succeed())
	})
})

var _ = Describe("dependent objects", func() {
	It("holds back a RoleBinding to a Role in Conflict and reports it, naming the Role", func() {
		sel := uniqueName("sel")
		teamNs, freeNs := newNamespace(sel), newNamespace(sel)
		teamRole := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "ops-role", Namespace: teamNs.Name},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
		}
		Expect(k8sClient.Create(ctx, teamRole)).To(Succeed())

		name := uniqueName("dependent")
		createBaseline(name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			RBAC: &securityv1alpha1.RBAC{
				Roles: []securityv1alpha1.Role{{Name: "ops-role", Rules: []rbacv1.PolicyRule{{
					APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"},
				}}}},
				RoleBindings: []securityv1alpha1.RoleBinding{{
					Name:     "team-binding",
					RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "ops-role"},
					Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "everyone"}},
				}},
			},
		})

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.Drift).To(ContainElement(driftEntry(teamNs.Name, "Role", "ops-role", securityv1alpha1.DriftConflict)))
			g.Expect(b.Status.Drift).To(ContainElement(And(
				driftEntry(teamNs.Name, "RoleBinding", "team-binding", securityv1alpha1.DriftConflict),
				HaveField("Message", ContainSubstring("ops-role")))))
		}).Should(Succeed())
		Eventually(getObject).WithArguments(&rbacv1.Role{}, freeNs.Name, "ops-role").Should(Succeed())
		Eventually(getObject).WithArguments(&rbacv1.RoleBinding{}, freeNs.Name, "team-binding").Should(Succeed(),
			"where the Role is the baseline's, the binding is written")
		Consistently(isNotFound(&rbacv1.RoleBinding{}, teamNs.Name, "team-binding"), "3s").Should(BeTrue(),
			"no binding grants the team's Role")
	})
})
