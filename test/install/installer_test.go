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

package install

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("the release manifests dist/install.yaml", func() {
	It("hold the whole install, and the API server accepts every object", func() {
		objs := readObjects(filepath.Join(repo, "dist", "install.yaml"))
		kinds := map[string]int{}
		for _, o := range objs {
			kinds[o.GetKind()]++
		}
		for _, k := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
			"Role", "RoleBinding", "Deployment", "Service", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
			Expect(kinds).To(HaveKey(k), "dist/install.yaml holds a %s", k)
		}
		// CRDs and the namespace for real, everything else as a server-side dry run.
		applyCRDs(objs)
		for _, ns := range ofKind(objs, "Namespace") {
			ensureNamespace(ns.GetName(), ns.GetLabels())
		}
		Expect(dryRunCreate(objs)).To(BeEmpty())
		GinkgoWriter.Printf("dist/install.yaml: %d objects accepted: %v\n", len(objs), kinds)
	})
})

// podOf wraps a Deployment's pod template in a Pod in namespace ns.
func podOf(objs []*unstructured.Unstructured, ns, name string) *corev1.Pod {
	GinkgoHelper()
	d := deploymentOf(objs)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: d.Spec.Template.Labels},
		Spec:       d.Spec.Template.Spec,
	}
}

var _ = Describe("the operator's pod", func() {
	const ns = "sbo-restricted"

	BeforeEach(func() {
		ensureNamespace(ns, map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "latest",
			"pod-security.kubernetes.io/audit": "restricted",
		})
		// The ServiceAccount admission plugin wants the pod's ServiceAccount to exist.
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: ns}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, sa))).To(Succeed())
	})

	for _, source := range []struct {
		name string
		objs func() []*unstructured.Unstructured
	}{
		{"config/default", func() []*unstructured.Unstructured { return kustomizeBuild("config/default") }},
		{"the Helm chart (default values)", func() []*unstructured.Unstructured { return renderChart(ns, nil) }},
		{"the Helm chart (non-default values)", func() []*unstructured.Unstructured { return renderChart(ns, nonDefaultValues) }},
		{"the OLM bundle", func() []*unstructured.Unstructured {
			csv := committedCSV()
			d := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[0]
			return []*unstructured.Unstructured{toUnstructured(appsDeployment{d.Name, d.Spec}.Deployment())}
		}},
	} {
		It(fmt.Sprintf("from %s is admitted at the restricted Pod Security level without warnings", source.name), func() {
			pod := podOf(source.objs(), ns, "manager-pss-check")
			w := &warnings{}
			err := warningClient(w).Create(ctx, pod, client.DryRunAll)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.take()).To(BeEmpty(), "Pod Security warnings")
			Expect(pod.Spec.Containers[0].Resources.Requests).To(HaveKey(corev1.ResourceMemory))
			Expect(pod.Spec.Containers[0].Resources.Limits).To(HaveKey(corev1.ResourceMemory))
		})
	}
})
