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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

var _ = Describe("Pod Security from two baselines", func() {
	It("keeps the earlier baseline's level on a namespace created after both, reports the later one's Conflict, and never flaps", func() {
		sel := uniqueName("sel")
		earlier, later := uniqueName("earlier"), uniqueName("later")
		a := createBaseline(earlier, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "baseline"},
		})
		expectReady(earlier, 0)
		time.Sleep(1100 * time.Millisecond) // creationTimestamps have a resolution of one second
		b := createBaseline(later, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted"},
		})
		Expect(b.CreationTimestamp.After(a.CreationTimestamp.Time)).To(BeTrue())
		expectReady(later, 0)

		ns := newNamespace(sel)
		var settled *corev1.Namespace
		Eventually(func(g Gomega) {
			got := &corev1.Namespace{}
			g.Expect(getObject(got, "", ns.Name)).To(Succeed())
			g.Expect(got.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "baseline"))
			g.Expect(getBaseline(g, later).Status.Drift).To(ConsistOf(driftEntry(ns.Name, "Namespace", ns.Name, securityv1alpha1.DriftConflict)))
			g.Expect(condition(getBaseline(g, earlier), securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
			settled = got
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			got := &corev1.Namespace{}
			g.Expect(getObject(got, "", ns.Name)).To(Succeed())
			g.Expect(got.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "baseline"))
			g.Expect(got.ResourceVersion).To(Equal(settled.ResourceVersion), "nothing flaps")
		}, "3s").Should(Succeed())
	})
})
