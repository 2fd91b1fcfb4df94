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

package desired_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// BenchmarkForNamespace measures building what a baseline of 7 objects requires in one
// namespace, done once per namespace that has no verdict yet.
func BenchmarkForNamespace(b *testing.B) {
	bl := baseline(securityv1alpha1.SecurityBaselineSpec{
		NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			DefaultDeny: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			AllowDNS:    true, AllowSameNamespace: true,
			Policies: []securityv1alpha1.NetworkPolicy{{Name: "extra"}},
		},
		RBAC: &securityv1alpha1.RBAC{
			Roles: []securityv1alpha1.Role{{Name: "r", Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}}},
			RoleBindings: []securityv1alpha1.RoleBinding{{Name: "rb", RoleRef: securityv1alpha1.RoleRef{Kind: "Role", Name: "r"},
				Subjects: []rbacv1.Subject{{Kind: "Group", Name: "team-$(NAMESPACE)"}}}},
			ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "sa"}},
		},
	})
	b.ReportAllocs()
	for b.Loop() {
		objs, err := desired.ForNamespace(bl, "team-a")
		if err != nil || len(objs) != 7 {
			b.Fatalf("got %d objects, %v", len(objs), err)
		}
	}
}
