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

package v1alpha1_test

import (
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// contractExample is the example of docs/api-contract.md, verbatim but for the name.
const contractExample = `
apiVersion: security.baseline.dev/v1alpha1
kind: SecurityBaseline
metadata:
  name: restricted-apps
spec:
  namespaceSelector:
    matchLabels:
      security.baseline.dev/profile: restricted
  excludeNamespaces: [legacy-batch]
  mode: Enforce
  suspend: false
  deletionPolicy: Delete
  podSecurity:
    enforce: restricted
    audit: restricted
    warn: restricted
    version: latest
  networkPolicies:
    defaultDeny: [Ingress, Egress]
    allowDNS: true
    allowSameNamespace: true
    policies:
      - name: allow-ingress-controller
        spec:
          podSelector: {}
          policyTypes: [Ingress]
          ingress:
            - from:
                - namespaceSelector:
                    matchLabels:
                      kubernetes.io/metadata.name: ingress-nginx
  rbac:
    roles:
      - name: app-reader
        rules:
          - apiGroups: [""]
            resources: [pods, services, configmaps]
            verbs: [get, list, watch]
    roleBindings:
      - name: app-readers
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app-reader}
        subjects:
          - kind: Group
            apiGroup: rbac.authorization.k8s.io
            name: team-$(NAMESPACE)
    serviceAccounts:
      - name: secrets-reader
  secretStores:
    - name: vault-backend
      externalSecrets:
        provider:
          vault:
            server: https://vault.example:8200
            path: secret
            version: v2
            auth:
              kubernetes:
                mountPath: kubernetes
                role: $(NAMESPACE)
                serviceAccountRef: {name: secrets-reader}
    - name: app-secrets
      csi:
        provider: vault
        parameters:
          roleName: $(NAMESPACE)
`

// example returns the contract example under a fresh name.
func example() *securityv1alpha1.SecurityBaseline {
	b := &securityv1alpha1.SecurityBaseline{}
	Expect(yaml.UnmarshalStrict([]byte(contractExample), b)).To(Succeed())
	b.Name = "sbl-" + rand.String(8)
	return b
}

// mutation edits the contract example into the spec under test.
type mutation func(b *securityv1alpha1.SecurityBaseline)

func policy(b *securityv1alpha1.SecurityBaseline) *securityv1alpha1.NetworkPolicySpec {
	return &b.Spec.NetworkPolicies.Policies[0].Spec
}

func rule(b *securityv1alpha1.SecurityBaseline) *rbacv1.PolicyRule {
	return &b.Spec.RBAC.Roles[0].Rules[0]
}

func matchLabel(key, value string) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) {
		b.Spec.NamespaceSelector.MatchLabels = map[string]string{key: value}
	}
}

func matchExpression(key string) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) {
		b.Spec.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{
			{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{"a"}}}
	}
}

// extraPolicyNamed adds a second extra NetworkPolicy; generated(name) gives its name from the baseline's.
func extraPolicyNamed(generated func(baseline string) string) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) {
		b.Spec.NetworkPolicies.Policies = append(b.Spec.NetworkPolicies.Policies,
			securityv1alpha1.NetworkPolicy{Name: generated(b.Name)})
	}
}

func ingressFrom(peers ...securityv1alpha1.NetworkPolicyPeer) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) { policy(b).Ingress[0].From = peers }
}

func egressTo(peers ...securityv1alpha1.NetworkPolicyPeer) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) {
		policy(b).PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
		policy(b).Egress = []securityv1alpha1.NetworkPolicyEgressRule{{To: peers}}
	}
}

func ipBlock(cidr string, except ...string) securityv1alpha1.NetworkPolicyPeer {
	return securityv1alpha1.NetworkPolicyPeer{IPBlock: &securityv1alpha1.IPBlock{CIDR: cidr, Except: except}}
}

func ingressPort(p securityv1alpha1.NetworkPolicyPort) mutation {
	return func(b *securityv1alpha1.SecurityBaseline) {
		policy(b).Ingress[0].Ports = []securityv1alpha1.NetworkPolicyPort{p}
	}
}

func numericPort(port int32, endPort *int32) securityv1alpha1.NetworkPolicyPort {
	return securityv1alpha1.NetworkPolicyPort{Port: new(intstr.FromInt32(port)), EndPort: endPort}
}

const firstPeer = "spec.networkPolicies.policies[0].spec.ingress[0].from[0]"
const firstPort = "spec.networkPolicies.policies[0].spec.ingress[0].ports[0]"
const firstRule = "spec.rbac.roles[0].rules[0]"

var _ = Describe("SecurityBaseline admission", func() {
	DescribeTable("rejects an invalid spec with a message naming the field",
		func(mutate mutation, field, message string) {
			b := example()
			mutate(b)
			err := k8sClient.Create(ctx, b)
			Expect(err).To(HaveOccurred(), "the API server accepted the spec")
			GinkgoWriter.Println(err)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "not an Invalid error: %v", err)
			Expect(err).To(MatchError(ContainSubstring(field)))
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		// namespaceSelector label keys and values
		Entry("a matchLabels value that is not a label value", matchLabel("team", "not a valid value!"),
			"spec.namespaceSelector.matchLabels", "values must end with an alphanumeric character"),
		Entry("a matchLabels value of 64 characters", matchLabel("team", strings.Repeat("v", 64)),
			"spec.namespaceSelector.matchLabels", "values must be at most 63 characters"),
		Entry("a matchLabels value starting with '-'", matchLabel("team", "-a"),
			"spec.namespaceSelector.matchLabels", "values must start with an alphanumeric character"),
		Entry("a matchLabels value ending with '_'", matchLabel("team", "a_"),
			"spec.namespaceSelector.matchLabels", "values must end with an alphanumeric character"),
		Entry("a matchLabels value ending with ':'", matchLabel("team", "a:"),
			"spec.namespaceSelector.matchLabels", "values must end with an alphanumeric character"),
		Entry("a matchLabels key with a space", matchLabel("bad key", "a"),
			"spec.namespaceSelector.matchLabels", "keys must be label keys"),
		Entry("a matchLabels key with an upper-case prefix", matchLabel("Example.com/team", "a"),
			"spec.namespaceSelector.matchLabels", "keys must be label keys"),
		Entry("a matchLabels key whose name has 64 characters", matchLabel("example.com/"+strings.Repeat("k", 64), "a"),
			"spec.namespaceSelector.matchLabels", "keys must be label keys"),
		Entry("an empty matchLabels key", matchLabel("", "a"),
			"spec.namespaceSelector.matchLabels", "keys must be label keys"),
		Entry("a matchExpressions key ending with '/'", matchExpression("example.com/"),
			"spec.namespaceSelector.matchExpressions", "key must be a label key"),
		Entry("an empty matchExpressions key", matchExpression(""),
			"spec.namespaceSelector.matchExpressions", "key must be a label key"),
		Entry("a matchExpressions key longer than a label key", matchExpression(strings.Repeat("k", 318)),
			"spec.namespaceSelector.matchExpressions", "key must be a label key"),
		Entry("an unknown matchExpressions operator (existing rule)", func(b *securityv1alpha1.SecurityBaseline) {
			b.Spec.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near", Values: []string{"b"}}}
		}, "spec.namespaceSelector.matchExpressions", "In, NotIn, Exists, DoesNotExist"),

		// extra NetworkPolicies named like a generated one
		Entry("an extra policy named <baseline>-default-deny", extraPolicyNamed(func(n string) string { return n + "-default-deny" }),
			"spec.networkPolicies.policies", "the operator generates NetworkPolicies of these names"),
		Entry("an extra policy named <baseline>-allow-dns", extraPolicyNamed(func(n string) string { return n + "-allow-dns" }),
			"spec.networkPolicies.policies", "the operator generates NetworkPolicies of these names"),
		Entry("an extra policy named <baseline>-allow-same-namespace", extraPolicyNamed(func(n string) string { return n + "-allow-same-namespace" }),
			"spec.networkPolicies.policies", "the operator generates NetworkPolicies of these names"),

		// CIDRs
		Entry("an ipBlock.cidr with a /33 prefix", ingressFrom(ipBlock("10.0.0.0/33")),
			firstPeer+".ipBlock.cidr", "ipBlock.cidr must be a CIDR"),
		Entry("an ipBlock.cidr without a prefix", ingressFrom(ipBlock("10.0.0.1")),
			firstPeer+".ipBlock.cidr", "ipBlock.cidr must be a CIDR"),
		Entry("an egress ipBlock.cidr that is not a CIDR", egressTo(ipBlock("fd00::/129")),
			"spec.networkPolicies.policies[0].spec.egress[0].to[0].ipBlock.cidr", "ipBlock.cidr must be a CIDR"),
		Entry("an ipBlock.except entry with a /33 prefix", ingressFrom(ipBlock("10.0.0.0/8", "10.0.0.0/33")),
			firstPeer+".ipBlock.except[0]", "must be of type cidr"),

		// peers
		Entry("a peer with ipBlock and podSelector", ingressFrom(securityv1alpha1.NetworkPolicyPeer{
			IPBlock: &securityv1alpha1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{}}),
			firstPeer, "a peer must set either ipBlock alone, or podSelector and/or namespaceSelector"),
		Entry("an empty peer", ingressFrom(securityv1alpha1.NetworkPolicyPeer{}),
			firstPeer, "a peer must set either ipBlock alone, or podSelector and/or namespaceSelector"),

		// ports
		Entry("port 0", ingressPort(numericPort(0, nil)), firstPort+".port", "port must be a number from 1 to 65535"),
		Entry("port 65536", ingressPort(numericPort(65536, nil)), firstPort+".port", "port must be a number from 1 to 65535"),
		Entry("endPort below port", ingressPort(numericPort(8080, new(int32(8000)))),
			firstPort+".endPort", "endPort requires a numeric port and must be greater than or equal to port"),
		Entry("endPort with a named port", ingressPort(securityv1alpha1.NetworkPolicyPort{
			Port: new(intstr.FromString("http")), EndPort: new(int32(8000))}),
			firstPort+".endPort", "endPort requires a numeric port"),
		Entry("endPort without port", ingressPort(securityv1alpha1.NetworkPolicyPort{EndPort: new(int32(8000))}),
			firstPort+".endPort", "endPort requires a numeric port"),
		Entry("endPort 65536", ingressPort(numericPort(1, new(int32(65536)))),
			firstPort+".endPort", "65535"),
		Entry("an unknown protocol", ingressPort(securityv1alpha1.NetworkPolicyPort{Protocol: new(corev1.Protocol("ICMP"))}),
			firstPort+".protocol", "Unsupported value"),
		Entry("an unknown policy type", func(b *securityv1alpha1.SecurityBaseline) {
			policy(b).PolicyTypes = []networkingv1.PolicyType{"Sideways"}
		}, "spec.networkPolicies.policies[0].spec.policyTypes[0]", "Unsupported value"),
		Entry("more than 64 ingress rules", func(b *securityv1alpha1.SecurityBaseline) {
			policy(b).Ingress = make([]securityv1alpha1.NetworkPolicyIngressRule, 65)
		}, "spec.networkPolicies.policies[0].spec.ingress", "must have at most 64 items"),

		// Role rules
		Entry("a Role rule without verbs", func(b *securityv1alpha1.SecurityBaseline) { rule(b).Verbs = nil },
			firstRule+".verbs", "Required value"),
		Entry("a Role rule with an empty verbs list", func(b *securityv1alpha1.SecurityBaseline) { rule(b).Verbs = []string{} },
			firstRule+".verbs", "rules[].verbs must list at least one verb"),
		Entry("a Role rule with nonResourceURLs", func(b *securityv1alpha1.SecurityBaseline) {
			*rule(b) = rbacv1.PolicyRule{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}
		}, firstRule+".nonResourceURLs", "rules[].nonResourceURLs are not allowed in a namespaced Role"),
		Entry("a Role rule without resources", func(b *securityv1alpha1.SecurityBaseline) { rule(b).Resources = nil },
			firstRule+".resources", "rules[].resources must list at least one resource"),
		Entry("a Role rule without apiGroups", func(b *securityv1alpha1.SecurityBaseline) { rule(b).APIGroups = nil },
			firstRule+".apiGroups", "rules[].apiGroups must list at least one API group"),
	)

	DescribeTable("accepts a valid spec",
		func(mutate mutation) {
			b := example()
			mutate(b)
			Expect(k8sClient.Create(ctx, b)).To(Succeed())
			Expect(k8sClient.Delete(ctx, b)).To(Succeed())
		},
		Entry("the contract example", func(*securityv1alpha1.SecurityBaseline) {}),
		Entry("an empty selector, selecting every namespace", func(b *securityv1alpha1.SecurityBaseline) {
			b.Spec.NamespaceSelector = metav1.LabelSelector{}
		}),
		Entry("an empty matchLabels value", matchLabel("team", "")),
		Entry("a one-character matchLabels key and value", matchLabel("a", "b")),
		Entry("a 63-character matchLabels value with '-', '_' and '.' inside", matchLabel("team", "a-b_c.d"+strings.Repeat("e", 56))),
		Entry("a prefixed matchLabels key", matchLabel("kubernetes.io/metadata.name", "team-a")),
		Entry("matchExpressions with prefixed keys", func(b *securityv1alpha1.SecurityBaseline) {
			b.Spec.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{
				{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"legacy"}},
				{Key: "Team_1.x", Operator: metav1.LabelSelectorOpExists},
			}
		}),
		Entry("an extra policy named like another baseline's generated policy",
			extraPolicyNamed(func(string) string { return "other-baseline-allow-dns" })),
		Entry("an extra policy whose name only ends like a generated one",
			extraPolicyNamed(func(n string) string { return "x" + n + "-default-deny" })),
		Entry("an extra policy named after a generated one with a suffix",
			extraPolicyNamed(func(n string) string { return n + "-allow-same-namespace-2" })),
		Entry("IPv4 and IPv6 CIDRs with excepts", ingressFrom(ipBlock("10.0.0.0/8", "10.1.0.0/16"), ipBlock("2001:db8::/64", "2001:db8::/96"))),
		Entry("an except outside cidr (the API server rejects it when the operator writes the NetworkPolicy)",
			ingressFrom(ipBlock("10.0.0.0/16", "192.168.0.0/24"))),
		Entry("egress to an IPv6 block", egressTo(ipBlock("::/0"))),
		Entry("a named port", ingressPort(securityv1alpha1.NetworkPolicyPort{Protocol: new(corev1.ProtocolUDP), Port: new(intstr.FromString("http"))})),
		Entry("a port range", ingressPort(numericPort(32000, new(int32(32768))))),
		Entry("a port range of one port", ingressPort(numericPort(65535, new(int32(65535))))),
		Entry("a peer with podSelector and namespaceSelector", ingressFrom(securityv1alpha1.NetworkPolicyPeer{
			PodSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{}})),
		Entry("a Role rule with resourceNames and a wildcard", func(b *securityv1alpha1.SecurityBaseline) {
			*rule(b) = rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"configmaps"}, ResourceNames: []string{"app"}, Verbs: []string{"*"}}
		}),
	)

	It("accepts the contract example as written (unstructured) and reads it back through the Go types", func() {
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(contractExample), &u.Object)).To(Succeed())
		u.SetName("contract-" + rand.String(8))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		got := &securityv1alpha1.SecurityBaseline{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed())
		want, _, err := unstructured.NestedFieldCopy(u.Object, "spec", "networkPolicies", "policies")
		Expect(err).NotTo(HaveOccurred())
		Expect(roundTrip(got.Spec.NetworkPolicies.Policies)).To(Equal(want))
		Expect(k8sClient.Delete(ctx, got)).To(Succeed())
	})
})

var _ = Describe("NetworkPolicySpec", func() {
	It("has the JSON of networking.k8s.io/v1 NetworkPolicySpec", func() {
		full := networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolUDP), Port: new(intstr.FromInt32(53)), EndPort: new(int32(54))}},
				From: []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}},
				},
			}},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: new(intstr.FromString("dns"))}},
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}}},
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		}
		for _, in := range []networkingv1.NetworkPolicySpec{full, {}} {
			raw, err := json.Marshal(in)
			Expect(err).NotTo(HaveOccurred())
			var ours securityv1alpha1.NetworkPolicySpec
			Expect(json.Unmarshal(raw, &ours)).To(Succeed())
			back, err := json.Marshal(ours)
			Expect(err).NotTo(HaveOccurred())
			Expect(back).To(MatchJSON(raw))
			var theirs networkingv1.NetworkPolicySpec
			Expect(json.Unmarshal(back, &theirs)).To(Succeed())
			Expect(theirs).To(Equal(in))
		}
	})
})

// roundTrip renders v as the generic JSON value an unstructured object holds.
func roundTrip(v any) any {
	raw, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	var out any
	Expect(json.Unmarshal(raw, &out)).To(Succeed())
	return out
}
