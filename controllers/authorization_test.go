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
	"os"
	"path/filepath"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/admission"
)

// Who may write a SecurityBaseline (docs/api-contract.md): the author-authorization admission
// policy, installed by the suite as the operator installs it, admits a baseline only from a
// user who may do what it asks. Authors here are envtest users holding exactly the
// ClusterRole rules each spec gives them.

var (
	writeBaselines = rbacv1.PolicyRule{
		APIGroups: []string{securityv1alpha1.GroupVersion.Group}, Resources: []string{"securitybaselines"},
		Verbs: []string{"create", "get", "update", "patch", "delete"},
	}
	createBaselinesOnly = rbacv1.PolicyRule{
		APIGroups: []string{securityv1alpha1.GroupVersion.Group}, Resources: []string{"securitybaselines"}, Verbs: []string{"create"},
	}
	bindView = rbacv1.PolicyRule{
		APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{"view"},
	}
	createRoles        = rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}, Verbs: []string{"create"}}
	createRoleBindings = rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: []string{"create"}}
	createSAs          = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"create"}}
	createNetpols      = rbacv1.PolicyRule{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"create"}}
	patchNamespaces    = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"patch"}}
	// appReader is what fullSpec's Role app-reader grants.
	appReader = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list", "watch"}}
)

// exactRights are what an author of viewerSpec needs.
func exactRights() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{createBaselinesOnly, bindView, createRoles, createRoleBindings, createSAs, createNetpols, patchNamespaces, appReader}
}

// installAdmissionPolicy applies the policy with the operator's own admission.Install and waits
// until the API server enforces it.
func installAdmissionPolicy() {
	GinkgoHelper()
	Expect(admission.Install(ctx, k8sClient, GinkgoLogr)).To(Succeed())
	waitForAdmissionPolicy()
}

// waitForAdmissionPolicy waits until a server-side dry run of a baseline binding cluster-admin,
// by a user who may only create baselines, is denied by the policy. It defers no cleanup, so
// that BeforeSuite and cleanup nodes may call it.
func waitForAdmissionPolicy() {
	GinkgoHelper()
	probeName, probe, revoke := newUser(createBaselinesOnly)
	defer revoke()
	Eventually(func(g Gomega) {
		err := probe.Create(ctx, &securityv1alpha1.SecurityBaseline{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("admission-probe")},
			Spec:       selfAdmin("admission-probe", probeName),
		}, client.DryRunAll)
		g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the probe is denied: %v", err)
		g.Expect(err.Error()).To(ContainSubstring(admission.PolicyName))
	}).Should(Succeed(), "the admission policy is in force")
}

// newAuthor returns the name of a new user holding exactly rules, cluster-wide, and a client
// acting as that user, once the API server's authorizer sees the rules; the rules are revoked
// when the spec ends.
func newAuthor(rules ...rbacv1.PolicyRule) (string, client.Client) {
	GinkgoHelper()
	name, c, revoke := newUser(rules...)
	DeferCleanup(revoke)
	return name, c
}

// newUser is newAuthor returning the function that revokes the rules.
func newUser(rules ...rbacv1.PolicyRule) (string, client.Client, func()) {
	GinkgoHelper()
	name := uniqueName("author")
	user, err := testEnv.AddUser(envtest.User{Name: name}, nil)
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
	}
	Expect(k8sClient.Create(ctx, role)).To(Succeed())
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	revoke := func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, binding))).To(Succeed())
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, role))).To(Succeed())
	}
	c, err := client.New(user.Config(), client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		for _, rule := range rules {
			attrs := authorizationv1.ResourceAttributes{Group: rule.APIGroups[0], Resource: rule.Resources[0], Verb: rule.Verbs[0]}
			if len(rule.ResourceNames) > 0 {
				attrs.Name = rule.ResourceNames[0]
			}
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
			g.Expect(c.Create(ctx, review)).To(Succeed())
			g.Expect(review.Status.Allowed).To(BeTrue(), "%+v", attrs)
		}
	}).Should(Succeed(), "the user's rules are in force")
	return name, c, revoke
}

// createAs creates a baseline as c's user; when that succeeds, the baseline is deleted (by the
// suite's admin) when the spec ends.
func createAs(c client.Client, name string, spec securityv1alpha1.SecurityBaselineSpec, opts ...client.CreateOption) error {
	GinkgoHelper()
	b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	err := c.Create(ctx, b, opts...)
	if err == nil && !slices.Contains(opts, client.CreateOption(client.DryRunAll)) {
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, b))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(b), &securityv1alpha1.SecurityBaseline{}))
			}).Should(BeTrue(), "the baseline's finalizer is released")
		})
	}
	return err
}

// deniedFor matches the admission policy's denial naming a field and a missing permission.
func deniedFor(field, missing string) OmegaMatcher {
	return And(
		WithTransform(apierrors.IsForbidden, BeTrue()),
		MatchError(And(ContainSubstring(admission.PolicyName), ContainSubstring(field+": "), ContainSubstring(missing))),
	)
}

func selector(sel string) metav1.LabelSelector {
	return metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}}
}

// selfAdmin is a baseline granting cluster-admin, in every selected namespace, to user.
func selfAdmin(sel, user string) securityv1alpha1.SecurityBaselineSpec {
	return securityv1alpha1.SecurityBaselineSpec{
		NamespaceSelector: selector(sel),
		RBAC: &securityv1alpha1.RBAC{RoleBindings: []securityv1alpha1.RoleBinding{{
			Name:     "me-admin",
			RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		}}},
	}
}

// viewerSpec is fullSpec with its RoleBinding granting the ClusterRole view instead of the
// baseline's Role: its author needs bind on clusterroles/view, appReader, the kinds' create and
// patch on namespaces.
func viewerSpec(sel string) securityv1alpha1.SecurityBaselineSpec {
	spec := fullSpec(sel)
	spec.RBAC.RoleBindings = []securityv1alpha1.RoleBinding{{
		Name:     "viewers",
		RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}},
	}}
	return spec
}

var _ = Describe("who may write a SecurityBaseline", func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	DescribeTable("an author who may only create SecurityBaselines is denied what they could not do themselves",
		func(spec func(sel, author string) securityv1alpha1.SecurityBaselineSpec, field, missing string) {
			authorName, author := newAuthor(createBaselinesOnly)
			name := uniqueName("denied")
			Expect(createAs(author, name, spec(sel, authorName))).To(deniedFor(field, missing))
			Expect(getObject(&securityv1alpha1.SecurityBaseline{}, "", name)).To(Satisfy(apierrors.IsNotFound), "nothing was created")
		},
		Entry("a RoleBinding of cluster-admin to themselves", selfAdmin,
			"spec.rbac.roleBindings[0].roleRef", "may not bind clusterroles/cluster-admin"),
		Entry("a Role granting get on secrets",
			func(sel, _ string) securityv1alpha1.SecurityBaselineSpec {
				return securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: selector(sel), RBAC: &securityv1alpha1.RBAC{
					Roles: []securityv1alpha1.Role{{Name: "secret-reader", Rules: []rbacv1.PolicyRule{{
						APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"},
					}}}},
				}}
			},
			"spec.rbac.roles[0].rules[0]", `does not hold get on secrets (apiGroup "")`),
		Entry("Pod Security labels",
			func(sel, _ string) securityv1alpha1.SecurityBaselineSpec {
				return securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: selector(sel),
					PodSecurity: &securityv1alpha1.PodSecurity{Enforce: "restricted"}}
			},
			"spec.podSecurity", "may not patch namespaces"),
		Entry("NetworkPolicies",
			func(sel, _ string) securityv1alpha1.SecurityBaselineSpec {
				return securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: selector(sel),
					NetworkPolicies: &securityv1alpha1.NetworkPolicies{AllowDNS: true}}
			},
			"spec.networkPolicies", "may not create networkpolicies"),
		Entry("a Secrets Store CSI SecretProviderClass",
			func(sel, _ string) securityv1alpha1.SecurityBaselineSpec {
				return securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: selector(sel),
					SecretStores: []securityv1alpha1.SecretStore{{Name: "vault", CSI: jsonObject(`{"provider":"vault"}`)}}}
			},
			"spec.secretStores[0].csi", "may not create secretproviderclasses"),
	)

	It("admits an author holding exactly what the baseline asks, and the baseline converges", func() {
		_, author := newAuthor(exactRights()...)
		newNamespace(sel)
		name := uniqueName("exact")
		Expect(createAs(author, name, viewerSpec(sel))).To(Succeed())
		expectReady(name, 1)
	})

	DescribeTable("denies an author lacking one of those rights, naming the field that needs it",
		func(drop rbacv1.PolicyRule, instead []rbacv1.PolicyRule, field, missing string) {
			rules := slices.DeleteFunc(exactRights(), func(r rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(r, drop) })
			Expect(rules).To(HaveLen(len(exactRights())-1), "the dropped right is one of them")
			_, author := newAuthor(append(rules, instead...)...)
			Expect(createAs(author, uniqueName("lacking"), viewerSpec(sel), client.DryRunAll)).To(deniedFor(field, missing))
		},
		Entry("bind on clusterroles/view", bindView, nil, "spec.rbac.roleBindings[0].roleRef", "may not bind clusterroles/view"),
		Entry("create on roles", createRoles, nil, "spec.rbac.roles", "may not create roles"),
		Entry("create on rolebindings", createRoleBindings, nil, "spec.rbac.roleBindings", "may not create rolebindings"),
		Entry("create on serviceaccounts", createSAs, nil, "spec.rbac.serviceAccounts", "may not create serviceaccounts"),
		Entry("get on pods and configmaps, a permission of the declared Role", appReader,
			[]rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"list", "watch"}}},
			"spec.rbac.roles[0].rules[0]", `does not hold get on pods (apiGroup "")`),
	)

	It("admits a Role with rules its author does not hold when the author may escalate roles", func() {
		escalate := rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}, Verbs: []string{"escalate"}}
		_, author := newAuthor(createBaselinesOnly, createRoles, escalate)
		spec := securityv1alpha1.SecurityBaselineSpec{NamespaceSelector: selector(sel), RBAC: &securityv1alpha1.RBAC{
			Roles: []securityv1alpha1.Role{{Name: "secret-reader", Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"},
			}}}},
		}}
		Expect(createAs(author, uniqueName("escalate"), spec)).To(Succeed())
	})

	It("checks a change of spec like a creation, and lets its author change metadata", func() {
		_, author := newAuthor(writeBaselines, bindView, createRoleBindings)
		name := uniqueName("edited")
		team := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}}
		viewers := securityv1alpha1.RoleBinding{Name: "viewers", Subjects: team,
			RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}
		Expect(createAs(author, name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: selector(sel),
			RBAC:              &securityv1alpha1.RBAC{RoleBindings: []securityv1alpha1.RoleBinding{viewers}},
		})).To(Succeed())

		By("adding a RoleBinding to cluster-admin")
		b := &securityv1alpha1.SecurityBaseline{}
		Expect(author.Get(ctx, client.ObjectKey{Name: name}, b)).To(Succeed())
		edited := b.DeepCopy()
		edited.Spec.RBAC.RoleBindings = append(edited.Spec.RBAC.RoleBindings, securityv1alpha1.RoleBinding{Name: "admins", Subjects: team,
			RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}})
		Expect(author.Patch(ctx, edited, client.MergeFrom(b))).To(deniedFor("spec.rbac.roleBindings[1].roleRef", "may not bind clusterroles/cluster-admin"))
		Expect(author.Get(ctx, client.ObjectKey{Name: name}, b)).To(Succeed())
		Expect(b.Spec.RBAC.RoleBindings).To(ConsistOf(HaveField("Name", "viewers")), "the spec is unchanged")

		By("adding a label")
		labelled := b.DeepCopy()
		labelled.Labels = map[string]string{"team": "platform"}
		Expect(author.Patch(ctx, labelled, client.MergeFrom(b))).To(Succeed())
	})

	It("lets an author change metadata of, and delete, a baseline whose spec they could not write", func() {
		_, author := newAuthor(writeBaselines)
		name := uniqueName("admins")
		createBaseline(name, selfAdmin(sel, "someone")) // by the suite's admin, who holds everything

		b := &securityv1alpha1.SecurityBaseline{}
		Expect(author.Get(ctx, client.ObjectKey{Name: name}, b)).To(Succeed())
		By("adding a label: spec unchanged, not checked")
		labelled := b.DeepCopy()
		labelled.Labels = map[string]string{"team": "platform"}
		Expect(author.Patch(ctx, labelled, client.MergeFrom(b))).To(Succeed())

		By("changing the spec: checked as a whole")
		edited := b.DeepCopy()
		edited.Spec.ExcludeNamespaces = []string{"legacy"}
		Expect(author.Patch(ctx, edited, client.MergeFrom(b))).To(deniedFor("spec.rbac.roleBindings[0].roleRef", "may not bind clusterroles/cluster-admin"))

		By("deleting it")
		Expect(author.Delete(ctx, b)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: name}, &securityv1alpha1.SecurityBaseline{}))
		}).Should(BeTrue(), "the baseline is gone")
	})
})

var _ = Describe("installing the admission policy", Serial, func() {
	It("works with only the RBAC the operator ships for it, and puts a changed policy back", func() {
		raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		shipped := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal(raw, shipped)).To(Succeed())
		var rules []rbacv1.PolicyRule
		for _, r := range shipped.Rules {
			if slices.Contains(r.APIGroups, admissionregistrationv1.GroupName) {
				rules = append(rules, r)
			}
		}
		Expect(rules).NotTo(BeEmpty(), "config/rbac/role.yaml lets the operator apply the policy")
		_, operator := newAuthor(rules...)

		By("creating the policy and its binding")
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: admission.PolicyName}}
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: admission.PolicyName}}
		DeferCleanup(installAdmissionPolicy) // whatever happens below, the suite keeps the policy
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Expect(k8sClient.Delete(ctx, policy)).To(Succeed())
		Expect(admission.Install(ctx, operator, GinkgoLogr)).To(Succeed())
		waitForAdmissionPolicy()

		By("putting back a policy someone changed")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		want := policy.Spec.Validations
		policy.Spec.Validations = policy.Spec.Validations[:1]
		Expect(k8sClient.Update(ctx, policy)).To(Succeed())
		Expect(admission.Install(ctx, operator, GinkgoLogr)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		Expect(policy.Spec.Validations).To(Equal(want))
	})
})
