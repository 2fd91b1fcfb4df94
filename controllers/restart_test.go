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
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// resourceVersions reads the resourceVersion of each object, keyed by kind, namespace and name.
func resourceVersions(g Gomega, objs map[string]func() (client.Object, string, string)) map[string]string {
	versions := map[string]string{}
	for key, get := range objs {
		obj, namespace, name := get()
		g.Expect(getObject(obj, namespace, name)).To(Succeed(), key)
		versions[key] = obj.GetResourceVersion()
	}
	return versions
}

// The specs stop the suite's manager and start a fresh one (a cold process): they run alone, and
// after the other specs (SpecPriority), so the secret store CRDs they install are installed by
// then anyway.
var _ = Describe("a restarted operator", Serial, SpecPriority(-1), func() {
	var sel string
	BeforeEach(func() { sel = uniqueName("sel") })

	It("writes nothing when the cluster did not change while it was down", func() {
		nsA, nsB := newNamespace(sel), newNamespace(sel)
		name := uniqueName("cold")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 2)

		objs := map[string]func() (client.Object, string, string){
			"SecurityBaseline " + name: func() (client.Object, string, string) { return &securityv1alpha1.SecurityBaseline{}, "", name },
		}
		for _, ns := range []string{nsA.Name, nsB.Name} {
			objs["Namespace "+ns] = func() (client.Object, string, string) { return &corev1.Namespace{}, "", ns }
			for objName, newObj := range managedObjectsOf(name) {
				objs[kindOf(newObj())+" "+ns+"/"+objName] = func() (client.Object, string, string) { return newObj(), ns, objName }
			}
		}
		Expect(objs).To(HaveLen(1 + 2*8))
		var before map[string]string
		Eventually(func(g Gomega) {
			before = resourceVersions(g, objs)
			g.Consistently(func(g Gomega) {
				g.Expect(resourceVersions(g, objs)).To(Equal(before))
			}, "1s").Should(Succeed())
		}).Should(Succeed(), "the baseline is at rest before the restart")

		restartManager(nil)
		Consistently(func(g Gomega) {
			g.Expect(resourceVersions(g, objs)).To(Equal(before))
		}, "5s").Should(Succeed())
	})

	It("prunes a secret store removed from the spec while it was down", func() {
		installSecretStoreCRDs()
		ns := newNamespace(sel)
		name := uniqueName("pruned")
		createBaseline(name, secretStoreSpec(sel))
		expectReady(name, 1)
		Expect(getObject(secretStore(ns.Name), ns.Name, "vault-backend")).To(Succeed())

		restartManager(func() {
			updateBaseline(name, func(s *securityv1alpha1.SecurityBaselineSpec) {
				Expect(s.SecretStores[0].Name).To(Equal("vault-backend"))
				s.SecretStores = s.SecretStores[1:]
			})
		})
		Eventually(isNotFound(secretStore(ns.Name), ns.Name, "vault-backend")).Should(BeTrue())
		Expect(getObject(secretProviderClass(ns.Name), ns.Name, "app-secrets")).To(Succeed())
		expectReady(name, 1)
	})
})
