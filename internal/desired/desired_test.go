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
	"encoding/json"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

func TestDesired(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Desired State Suite")
}

func baseline(spec securityv1alpha1.SecurityBaselineSpec) *securityv1alpha1.SecurityBaseline {
	return &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{
		Name: "apps", UID: "uid-1",
		Labels:      map[string]string{"argocd.argoproj.io/instance": "platform"},
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"},
	}, Spec: spec}
}

// asMap renders an object's apply configuration as the JSON the API server receives.
func asMap(o desired.Object) map[string]any {
	raw, err := json.Marshal(o.Apply)
	Expect(err).NotTo(HaveOccurred())
	m := map[string]any{}
	Expect(json.Unmarshal(raw, &m)).To(Succeed())
	return m
}

var _ = Describe("ForNamespace", func() {
	It("declares nothing for an empty baseline", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(objs).To(BeEmpty())
	})

	DescribeTable("names every object as the contract says",
		func(spec securityv1alpha1.SecurityBaselineSpec, want ...desired.Key) {
			objs, err := desired.ForNamespace(baseline(spec), "team-a")
			Expect(err).NotTo(HaveOccurred())
			keys := make([]desired.Key, 0, len(objs))
			for _, o := range objs {
				keys = append(keys, o.Key())
			}
			Expect(keys).To(Equal(want))
		},
		Entry("default deny", securityv1alpha1.SecurityBaselineSpec{NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			DefaultDeny: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}},
			desired.Key{"NetworkPolicy", "team-a", "apps-default-deny"}),
		Entry("all network switches and an extra policy", securityv1alpha1.SecurityBaselineSpec{NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			DefaultDeny: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, AllowDNS: true, AllowSameNamespace: true,
			Policies: []securityv1alpha1.NetworkPolicy{{Name: "extra"}}}},
			desired.Key{"NetworkPolicy", "team-a", "apps-default-deny"}, desired.Key{"NetworkPolicy", "team-a", "apps-allow-dns"},
			desired.Key{"NetworkPolicy", "team-a", "apps-allow-same-namespace"}, desired.Key{"NetworkPolicy", "team-a", "extra"}),
		Entry("rbac", securityv1alpha1.SecurityBaselineSpec{RBAC: &securityv1alpha1.RBAC{
			Roles:           []securityv1alpha1.Role{{Name: "r"}},
			RoleBindings:    []securityv1alpha1.RoleBinding{{Name: "rb", RoleRef: securityv1alpha1.RoleRef{Kind: "Role", Name: "r"}}},
			ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "sa"}}}},
			desired.Key{"Role", "team-a", "r"}, desired.Key{"RoleBinding", "team-a", "rb"}, desired.Key{"ServiceAccount", "team-a", "sa"}),
		Entry("secret stores", securityv1alpha1.SecurityBaselineSpec{SecretStores: []securityv1alpha1.SecretStore{
			{Name: "vault", ExternalSecrets: &apiextensionsv1.JSON{Raw: []byte(`{"provider":{}}`)}},
			{Name: "csi", CSI: &apiextensionsv1.JSON{Raw: []byte(`{"provider":"vault"}`)}}}},
			desired.Key{"SecretStore", "team-a", "vault"}, desired.Key{"SecretProviderClass", "team-a", "csi"}),
	)

	It("labels, owns and stamps every object with its content hash, never copying the baseline's own labels or annotations", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{
			NetworkPolicies: &securityv1alpha1.NetworkPolicies{AllowDNS: true},
			RBAC:            &securityv1alpha1.RBAC{ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "sa"}}},
			SecretStores:    []securityv1alpha1.SecretStore{{Name: "csi", CSI: &apiextensionsv1.JSON{Raw: []byte(`{}`)}}},
		}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(objs).To(HaveLen(3))
		for _, o := range objs {
			m := asMap(o)
			Expect(m).To(HaveKeyWithValue("metadata", And(
				HaveKeyWithValue("labels", Equal(map[string]any{desired.LabelManagedBy: desired.OperatorName, desired.LabelBaseline: "apps"})),
				HaveKeyWithValue("annotations", Equal(map[string]any{desired.SpecHashAnnotation: o.Hash})),
				HaveKeyWithValue("ownerReferences", ConsistOf(And(
					HaveKeyWithValue("kind", "SecurityBaseline"), HaveKeyWithValue("name", "apps"),
					HaveKeyWithValue("uid", "uid-1"), HaveKeyWithValue("controller", true))))),
			), o.Name)
		}
	})

	It("changes an object's hash when, and only when, its declared content changes", func() {
		spec := func(verbs ...string) securityv1alpha1.SecurityBaselineSpec {
			return securityv1alpha1.SecurityBaselineSpec{
				NetworkPolicies: &securityv1alpha1.NetworkPolicies{AllowDNS: true},
				RBAC: &securityv1alpha1.RBAC{Roles: []securityv1alpha1.Role{{Name: "r", Rules: []rbacv1.PolicyRule{
					{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: verbs}}}}},
			}
		}
		before, err := desired.ForNamespace(baseline(spec("get")), "team-a")
		Expect(err).NotTo(HaveOccurred())
		after, err := desired.ForNamespace(baseline(spec("get", "list")), "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(after[0].Hash).To(Equal(before[0].Hash), "the policy did not change")
		Expect(after[1].Hash).NotTo(Equal(before[1].Hash), "the role did")
		other, err := desired.ForNamespace(baseline(spec("get")), "team-b")
		Expect(err).NotTo(HaveOccurred())
		Expect(other[1].Hash).NotTo(Equal(before[1].Hash), "objects of other namespaces differ")
	})

	It("names what a RoleBinding and a secret store depend on", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{
			RBAC: &securityv1alpha1.RBAC{
				Roles: []securityv1alpha1.Role{{Name: "reader"}},
				RoleBindings: []securityv1alpha1.RoleBinding{
					{Name: "to-role", RoleRef: securityv1alpha1.RoleRef{Kind: "Role", Name: "reader"}},
					{Name: "to-clusterrole", RoleRef: securityv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"}},
				},
				ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "sa"}},
			},
			SecretStores: []securityv1alpha1.SecretStore{
				{Name: "vault", ExternalSecrets: &apiextensionsv1.JSON{Raw: []byte(
					`{"provider":{"vault":{"auth":{"kubernetes":{"serviceAccountRef":{"name":"sa"}}}}}}`)}},
				{Name: "other", ExternalSecrets: &apiextensionsv1.JSON{Raw: []byte(
					`{"provider":{"vault":{"auth":{"kubernetes":{"serviceAccountRef":{"name":"not-declared"}}}}}}`)}},
			},
		}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		deps := map[string][]desired.Key{}
		for _, o := range objs {
			deps[o.Name] = o.DependsOn
		}
		Expect(deps["to-role"]).To(ConsistOf(desired.Key{Kind: "Role", Namespace: "team-a", Name: "reader"}))
		Expect(deps["to-clusterrole"]).To(BeEmpty())
		Expect(deps["vault"]).To(ConsistOf(desired.Key{Kind: "ServiceAccount", Namespace: "team-a", Name: "sa"}))
		Expect(deps["other"]).To(BeEmpty(), "only ServiceAccounts of the baseline are dependencies")
	})

	It("builds the DNS and same-namespace policies", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			AllowDNS: true, AllowSameNamespace: true}}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		dns, same := asMap(objs[0])["spec"], asMap(objs[1])["spec"]
		Expect(dns).To(Equal(map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": []any{"Egress"},
			"egress": []any{map[string]any{
				"to": []any{map[string]any{
					"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "kube-system"}},
					"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
				}},
				"ports": []any{
					map[string]any{"protocol": "UDP", "port": float64(53)},
					map[string]any{"protocol": "TCP", "port": float64(53)},
				},
			}},
		}))
		Expect(same).To(Equal(map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": []any{"Ingress", "Egress"},
			"ingress":     []any{map[string]any{"from": []any{map[string]any{"podSelector": map[string]any{}}}}},
			"egress":      []any{map[string]any{"to": []any{map[string]any{"podSelector": map[string]any{}}}}},
		}))
	})

	It("substitutes $(NAMESPACE) in RBAC subjects and defaults a ServiceAccount subject's namespace", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{RBAC: &securityv1alpha1.RBAC{
			Roles: []securityv1alpha1.Role{{Name: "r-$(NAMESPACE)", Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"$(NAMESPACE)"}}}}},
			RoleBindings: []securityv1alpha1.RoleBinding{{Name: "rb", RoleRef: securityv1alpha1.RoleRef{Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{
					{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"},
					{Kind: "ServiceAccount", Name: "deployer"},
					{Kind: "ServiceAccount", Name: "ci", Namespace: "$(NAMESPACE)-ci"},
				}}}}}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(objs[0].Name).To(Equal("r-$(NAMESPACE)"), "names are not substituted")
		Expect(asMap(objs[0])["rules"]).To(Equal([]any{map[string]any{"verbs": []any{"get"}, "resources": []any{"$(NAMESPACE)"}}}),
			"rules are not substituted")
		Expect(asMap(objs[1])).To(And(
			HaveKeyWithValue("roleRef", map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}),
			HaveKeyWithValue("subjects", []any{
				map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "team-team-a"},
				map[string]any{"kind": "ServiceAccount", "name": "deployer", "namespace": "team-a"},
				map[string]any{"kind": "ServiceAccount", "name": "ci", "namespace": "team-a-ci"},
			})))
	})

	It("creates ServiceAccounts without token automount", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{RBAC: &securityv1alpha1.RBAC{
			ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "sa"}}}}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(asMap(objs[0])).To(HaveKeyWithValue("automountServiceAccountToken", false))
	})

	It("substitutes $(NAMESPACE) in every string value of a secret store spec, however deep, and not in keys", func() {
		objs, err := desired.ForNamespace(baseline(securityv1alpha1.SecurityBaselineSpec{SecretStores: []securityv1alpha1.SecretStore{{
			Name: "vault",
			ExternalSecrets: &apiextensionsv1.JSON{Raw: []byte(`{"provider":{"vault":{"server":"https://vault:8200","version":"v2",
				"auth":{"kubernetes":{"role":"$(NAMESPACE)","serviceAccountRef":{"name":"sa-$(NAMESPACE)"}}},
				"caProvider":{"keys":["a-$(NAMESPACE)", 3, true]},"$(NAMESPACE)":"key"}}}`)},
		}}}), "team-a")
		Expect(err).NotTo(HaveOccurred())
		m := asMap(objs[0])
		Expect(m).To(HaveKeyWithValue("apiVersion", "external-secrets.io/v1"))
		Expect(m).To(HaveKeyWithValue("kind", "SecretStore"))
		Expect(m["spec"]).To(Equal(map[string]any{"provider": map[string]any{"vault": map[string]any{
			"server": "https://vault:8200", "version": "v2",
			"auth":         map[string]any{"kubernetes": map[string]any{"role": "team-a", "serviceAccountRef": map[string]any{"name": "sa-team-a"}}},
			"caProvider":   map[string]any{"keys": []any{"a-team-a", float64(3), true}},
			"$(NAMESPACE)": "key",
		}}}))
	})
})

var _ = Describe("PodSecurityLabels", func() {
	DescribeTable("sets a level and a version label per declared mode",
		func(ps *securityv1alpha1.PodSecurity, want map[string]string) {
			Expect(desired.PodSecurityLabels(ps)).To(Equal(want))
		},
		Entry("none", nil, map[string]string{}),
		Entry("enforce only, version defaults to latest", &securityv1alpha1.PodSecurity{Enforce: "restricted"}, map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}),
		Entry("all modes, pinned version", &securityv1alpha1.PodSecurity{Enforce: "baseline", Audit: "restricted", Warn: "restricted", Version: "v1.37"},
			map[string]string{
				"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.37",
				"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.37",
				"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.37",
			}),
	)

	It("releases every label with an empty apply configuration", func() {
		raw, err := json.Marshal(desired.NamespaceLabels("team-a", nil))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).To(MatchJSON(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team-a"}}`))
	})
})
