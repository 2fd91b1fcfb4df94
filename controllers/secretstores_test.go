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
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// secretStoreSpec binds namespaces to a Vault SecretStore and a Vault SecretProviderClass,
// both with $(NAMESPACE) deep in their specs.
func secretStoreSpec(selectorValue string) securityv1alpha1.SecurityBaselineSpec {
	return securityv1alpha1.SecurityBaselineSpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: selectorValue}},
		RBAC:              &securityv1alpha1.RBAC{ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "secrets-reader"}}},
		SecretStores: []securityv1alpha1.SecretStore{
			{Name: "vault-backend", ExternalSecrets: jsonObject(`{"provider":{"vault":{
				"server":"https://vault.example:8200","path":"secret","version":"v2",
				"auth":{"kubernetes":{"mountPath":"kubernetes","role":"$(NAMESPACE)",
					"serviceAccountRef":{"name":"secrets-reader"}}}}}}`)},
			{Name: "app-secrets", CSI: jsonObject(`{"provider":"vault","parameters":{
				"roleName":"$(NAMESPACE)","vaultAddress":"https://vault.example:8200",
				"objects":"- objectName: db\n  secretPath: secret/data/$(NAMESPACE)/db\n  secretKey: password\n"}}`)},
		},
	}
}

// secretStore is the spec's SecretStore, vault-backend, in a namespace.
func secretStore(namespace string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(desired.SecretStoreGVK)
	u.SetNamespace(namespace)
	u.SetName("vault-backend")
	return u
}

// secretProviderClass is the spec's SecretProviderClass, app-secrets, in a namespace.
func secretProviderClass(namespace string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(desired.SecretProviderClassGVK)
	u.SetNamespace(namespace)
	u.SetName("app-secrets")
	return u
}

// The specs share the third-party CRDs, installed by the first one: they run in order.
var _ = Describe("secret store bindings", Ordered, func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("reports missing CRDs, converges everything else, and converges the stores once the CRDs are installed", func() {
		nsA, nsB := newNamespace(sel), newNamespace(sel)
		name := uniqueName("stores")
		createBaseline(name, secretStoreSpec(sel))

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			ready := condition(b, securityv1alpha1.ConditionReady)
			g.Expect(ready).To(HaveField("Reason", securityv1alpha1.ReasonCRDNotInstalled))
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Message).To(And(ContainSubstring("secretstores.external-secrets.io"),
				ContainSubstring("secretproviderclasses.secrets-store.csi.x-k8s.io")))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(HaveField("Reason", securityv1alpha1.ReasonCRDNotInstalled))
			g.Expect(b.Status.MatchedNamespaces).To(Equal(int32(2)))
			expectHealth(g, name, "crd-not-installed")
		}).Should(Succeed())
		for _, ns := range []string{nsA.Name, nsB.Name} {
			Expect(getObject(&corev1.ServiceAccount{}, ns, "secrets-reader")).To(Succeed(), "everything else converges")
		}

		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
			Paths: []string{filepath.Join("..", "test", "testdata", "crds")}, ErrorIfPathMissing: true,
		})
		Expect(err).NotTo(HaveOccurred())

		for _, ns := range []string{nsA.Name, nsB.Name} {
			Eventually(getObject, "60s").WithArguments(secretStore(ns), ns, "vault-backend").Should(Succeed())
			Eventually(getObject, "60s").WithArguments(secretProviderClass(ns), ns, "app-secrets").Should(Succeed())
		}
		expectReady(name, 2)
	})

	It("creates a store of each kind in every namespace, labelled, owned and with $(NAMESPACE) substituted deep in its spec", func() {
		nsA, nsB := newNamespace(sel), newNamespace(sel)
		name := uniqueName("stores")
		b := createBaseline(name, secretStoreSpec(sel))
		expectReady(name, 2)

		for _, ns := range []string{nsA.Name, nsB.Name} {
			ss := secretStore(ns)
			Expect(getObject(ss, ns, "vault-backend")).To(Succeed())
			Expect(ss.GetLabels()).To(Equal(map[string]string{desired.LabelManagedBy: desired.OperatorName, desired.LabelBaseline: name}))
			Expect(ss.GetOwnerReferences()).To(ConsistOf(And(HaveField("Name", name), HaveField("UID", b.UID))))
			Expect(nestedString(ss.Object, "spec", "provider", "vault", "auth", "kubernetes", "role")).To(Equal(ns))
			Expect(nestedString(ss.Object, "spec", "provider", "vault", "server")).To(Equal("https://vault.example:8200"))
			Expect(nestedString(ss.Object, "spec", "provider", "vault", "auth", "kubernetes", "serviceAccountRef", "name")).To(Equal("secrets-reader"))

			spc := secretProviderClass(ns)
			Expect(getObject(spc, ns, "app-secrets")).To(Succeed())
			Expect(nestedString(spc.Object, "spec", "provider")).To(Equal("vault"))
			Expect(nestedString(spc.Object, "spec", "parameters", "roleName")).To(Equal(ns))
			Expect(nestedString(spc.Object, "spec", "parameters", "objects")).To(ContainSubstring("secret/data/" + ns + "/db"))
		}
		Expect(getBaseline(Default, name).Status.ManagedObjects).To(Equal(int32(2 * 3)))
	})

	It("restores a deleted store and an edited one", func() {
		ns := newNamespace(sel)
		name := uniqueName("drift")
		createBaseline(name, secretStoreSpec(sel))
		expectReady(name, 1)

		ss := secretStore(ns.Name)
		Expect(getObject(ss, ns.Name, "vault-backend")).To(Succeed())
		Expect(k8sClient.Delete(ctx, ss)).To(Succeed())
		spc := secretProviderClass(ns.Name)
		Expect(getObject(spc, ns.Name, "app-secrets")).To(Succeed())
		Expect(unstructured.SetNestedField(spc.Object, "other-team", "spec", "parameters", "roleName")).To(Succeed())
		Expect(k8sClient.Update(ctx, spc)).To(Succeed())

		Eventually(func(g Gomega) {
			restored := secretStore(ns.Name)
			g.Expect(getObject(restored, ns.Name, "vault-backend")).To(Succeed())
			g.Expect(restored.GetUID()).NotTo(Equal(ss.GetUID()))
			got := secretProviderClass(ns.Name)
			g.Expect(getObject(got, ns.Name, "app-secrets")).To(Succeed())
			g.Expect(nestedString(got.Object, "spec", "parameters", "roleName")).To(Equal(ns.Name))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.DriftCorrections).To(BeNumerically(">=", 2))
		}).Should(Succeed())
	})

	It("prunes a store removed from the spec from every namespace", func() {
		nsA, nsB := newNamespace(sel), newNamespace(sel)
		name := uniqueName("prune")
		createBaseline(name, secretStoreSpec(sel))
		expectReady(name, 2)
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) { s.SecretStores = s.SecretStores[:1] })
		for _, ns := range []string{nsA.Name, nsB.Name} {
			Eventually(isNotFound(secretProviderClass(ns), ns, "app-secrets")).Should(BeTrue())
			Expect(getObject(secretStore(ns), ns, "vault-backend")).To(Succeed())
		}
		expectReady(name, 2)
	})

	It("reports a team's own SecretStore of the same name as a Conflict and leaves it alone", func() {
		ns := newNamespace(sel)
		own := secretStore(ns.Name)
		Expect(unstructured.SetNestedField(own.Object, map[string]any{"fake": map[string]any{"data": []any{}}}, "spec", "provider")).To(Succeed())
		Expect(k8sClient.Create(ctx, own)).To(Succeed())
		name := uniqueName("conflict")
		createBaseline(name, secretStoreSpec(sel))
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.Drift).To(ConsistOf(
				driftEntry(ns.Name, "SecretStore", "vault-backend", securityv1alpha1.DriftConflict)))
		}).Should(Succeed())
		got := secretStore(ns.Name)
		Expect(getObject(got, ns.Name, "vault-backend")).To(Succeed())
		Expect(got.GetLabels()).To(BeEmpty())
		Expect(got.Object).To(HaveKeyWithValue("spec", HaveKeyWithValue("provider", HaveKey("fake"))))
	})

	It("removes a field the spec no longer declares from the stores it created, without counting drift", func() {
		ns := newNamespace(sel)
		name := uniqueName("rollout")
		createBaseline(name, secretStoreSpec(sel))
		expectReady(name, 1)
		Expect(nestedString(getStore(ns.Name).Object, "spec", "provider", "vault", "path")).To(Equal("secret"))

		By("the spec no longer setting the Vault path")
		updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
			s.SecretStores[0].ExternalSecrets = jsonObject(`{"provider":{"vault":{
				"server":"https://vault.example:8200","version":"v2",
				"auth":{"kubernetes":{"mountPath":"kubernetes","role":"$(NAMESPACE)",
					"serviceAccountRef":{"name":"secrets-reader"}}}}}}`)
		})
		Eventually(func(g Gomega) {
			_, found, _ := unstructured.NestedString(getStore(ns.Name).Object, "spec", "provider", "vault", "path")
			g.Expect(found).To(BeFalse(), "the store holds what the spec says, not a leftover of the first write")
		}).Should(Succeed())
		expectReady(name, 1)
		Expect(getBaseline(Default, name).Status.DriftCorrections).To(BeZero(), "a rollout is not drift")
	})

	It("in Audit mode reports missing stores and writes none", func() {
		ns := newNamespace(sel)
		name := uniqueName("audit")
		spec := secretStoreSpec(sel)
		spec.Mode = securityv1alpha1.ModeAudit
		createBaseline(name, spec)
		Eventually(func(g Gomega) {
			g.Expect(getBaseline(g, name).Status.Drift).To(ContainElements(
				driftEntry(ns.Name, "SecretStore", "vault-backend", securityv1alpha1.DriftMissing),
				driftEntry(ns.Name, "SecretProviderClass", "app-secrets", securityv1alpha1.DriftMissing)))
		}).Should(Succeed())
		Expect(isNotFound(secretStore(ns.Name), ns.Name, "vault-backend")()).To(BeTrue())
	})
})

// getStore reads the spec's SecretStore, vault-backend, of a namespace from the API server.
func getStore(namespace string) *unstructured.Unstructured {
	GinkgoHelper()
	u := secretStore(namespace)
	Expect(getObject(u, namespace, "vault-backend")).To(Succeed())
	return u
}

// nestedString reads a string field of an unstructured object ("" when absent).
func nestedString(obj map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj, fields...)
	return s
}
