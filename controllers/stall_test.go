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
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// badIPBlock is a NetworkPolicy the CRD accepts and the API server rejects: except is not
// within cidr.
func badIPBlock(except ...string) securityv1alpha1.NetworkPolicy {
	return securityv1alpha1.NetworkPolicy{Name: "bad-ipblock", Spec: securityv1alpha1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []securityv1alpha1.NetworkPolicyIngressRule{{From: []securityv1alpha1.NetworkPolicyPeer{{
			IPBlock: &securityv1alpha1.IPBlock{CIDR: "10.0.0.0/16", Except: except},
		}}}},
	}}
}

var _ = Describe("permanent errors", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("stalls on an object the API server rejects, reports the server's words, and does not re-apply it in a loop", func() {
		ns := newNamespace(sel)
		name := uniqueName("invalid")
		spec := fullSpec(sel)
		spec.NetworkPolicies.Policies = append(spec.NetworkPolicies.Policies, badIPBlock("192.168.0.0/24"))
		createBaseline(name, spec)

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", securityv1alpha1.ReasonInvalidSpec),
				HaveField("Message", ContainSubstring("must be a strict subset"))))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
			g.Expect(b.Status.Drift).To(ContainElement(driftEntry(ns.Name, "NetworkPolicy", "bad-ipblock", securityv1alpha1.DriftFailed)))
			expectHealth(g, name, "invalid-spec")
		}).Should(Succeed())
		Expect(isNotFound(&networkingv1.NetworkPolicy{}, ns.Name, "bad-ipblock")()).To(BeTrue())
		for _, np := range []string{name + "-default-deny", "allow-ingress-controller"} {
			Expect(getObject(&networkingv1.NetworkPolicy{}, ns.Name, np)).To(Succeed(), "the other declared objects are created")
		}
		Expect(getObject(&rbacv1.RoleBinding{}, ns.Name, "app-readers")).To(Succeed())

		By("not re-applying in a loop")
		settled := getBaseline(Default, name)
		errorsBefore := reconcileCount("error")
		Consistently(func(g Gomega) {
			g.Expect(getBaseline(g, name).ResourceVersion).To(Equal(settled.ResourceVersion), "no status churn")
			g.Expect(reconcileCount("error")).To(BeNumerically("<=", errorsBefore+1), "no retry loop")
		}, "3s").Should(Succeed())

		By("fixing the spec")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.NetworkPolicies.Policies[1] = badIPBlock()
		})
		expectReady(name, 1)
		Expect(condition(getBaseline(Default, name), securityv1alpha1.ConditionStalled)).To(BeNil())
		Expect(getObject(&networkingv1.NetworkPolicy{}, ns.Name, "bad-ipblock")).To(Succeed())
	})

	DescribeTable("gives every accepted baseline a status for its generation on the first reconcile",
		func(selects bool, spec func(sel string) securityv1alpha1.SecurityBaselineSpec) {
			var matched int32
			if selects {
				newNamespace(sel)
				matched = 1
			}
			name := uniqueName("first")
			createBaseline(name, spec(sel))
			expectReady(name, matched)
		},
		Entry("a baseline that selects nothing", false, fullSpec),
		Entry("a baseline that declares nothing", true, func(sel string) securityv1alpha1.SecurityBaselineSpec {
			return securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}}}
		}),
	)

	It("stalls with InvalidSpec, for its generation, on a selector admission could not fully check", func() {
		name := uniqueName("badsel")
		// CEL checks a label value's length and its first and last characters; the space in the
		// middle only fails when the operator parses the selector.
		createBaseline(name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: "a b"}},
		})
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", securityv1alpha1.ReasonInvalidSpec),
				HaveField("Message", ContainSubstring("spec.namespaceSelector"))))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
		}).Should(Succeed())
		b := getBaseline(Default, name)
		Consistently(func(g Gomega) {
			g.Expect(getBaseline(g, name).ResourceVersion).To(Equal(b.ResourceVersion), "no status churn, no retry loop")
		}).Should(Succeed())
	})

	It("retries a delete that an admission policy denied once the policy is gone, without any other change", func() {
		ns := newNamespace(sel)
		name := uniqueName("frozen")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)

		By("freezing NetworkPolicy deletes in the namespace")
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("freeze-netpol")},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: new(admissionregistrationv1.Fail),
				MatchConstraints: &admissionregistrationv1.MatchResources{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
					ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
						RuleWithOperations: admissionregistrationv1.RuleWithOperations{
							Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Delete},
							Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"},
								Resources: []string{"networkpolicies"}},
						},
					}},
				},
				Validations: []admissionregistrationv1.Validation{{Expression: "false", Message: "NetworkPolicy deletes are frozen"}},
			},
		}
		Expect(k8sClient.Create(ctx, policy)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, policy))).To(Succeed()) })
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        policy.Name,
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		}
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, binding))).To(Succeed()) })
		np := &networkingv1.NetworkPolicy{}
		Expect(getObject(np, ns.Name, "allow-ingress-controller")).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsForbidden(k8sClient.Delete(ctx, np.DeepCopy(), client.DryRunAll)) ||
				apierrors.IsInvalid(k8sClient.Delete(ctx, np.DeepCopy(), client.DryRunAll))
		}).Should(BeTrue(), "the policy is in force")

		By("removing the policy from the spec")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.NetworkPolicies.Policies = nil })
		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
		}).Should(Succeed())
		Consistently(getObject).WithArguments(&networkingv1.NetworkPolicy{}, ns.Name, "allow-ingress-controller").
			Should(Succeed(), "the delete is denied")

		By("lifting the freeze, nothing else changing")
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Eventually(isNotFound(&networkingv1.NetworkPolicy{}, ns.Name, "allow-ingress-controller")).Should(BeTrue(),
			"the failed delete is retried with backoff")
		expectReady(name, 1)
	})
})
