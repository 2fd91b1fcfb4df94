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
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

var _ = Describe("RoleBinding replacement", func() {
	It("replaces the RoleBinding in every namespace when roleRef and subjects change together", func() {
		sel := uniqueName("sel")
		var namespaces []string
		for range 6 {
			namespaces = append(namespaces, newNamespace(sel).Name)
		}
		name := uniqueName("rebind")
		createBaseline(name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			RBAC: &securityv1alpha1.RBAC{RoleBindings: []securityv1alpha1.RoleBinding{{
				Name:     "viewers",
				RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}},
			}}},
		})
		expectReady(name, 6)

		subjects := []rbacv1.Subject{
			{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "editors-$(NAMESPACE)"},
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"},
		}
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.RBAC.RoleBindings[0].RoleRef.Name = "edit"
			s.RBAC.RoleBindings[0].Subjects = subjects
		})
		for _, ns := range namespaces {
			Eventually(func(g Gomega) {
				rb := &rbacv1.RoleBinding{}
				g.Expect(getObject(rb, ns, "viewers")).To(Succeed())
				g.Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}))
				g.Expect(rb.Subjects).To(Equal([]rbacv1.Subject{
					{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "editors-" + ns},
					{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"},
				}))
			}).Should(Succeed(), ns)
		}
		expectReady(name, 6)
	})
})
