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

package cli

import (
	"encoding/json"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

var samples = filepath.Join("..", "..", "config", "samples")

var _ = Describe("render", func() {
	DescribeTable("prints what the operator writes (golden files)",
		func(goldenName string, args ...string) {
			r := run("", append([]string{"render"}, args...)...)
			Expect(r.code).To(Equal(ExitOK), r.errOut)
			golden(filepath.Join("render", goldenName), r.out)
		},
		Entry("the restricted sample in team-a", "restricted-apps.team-a.yaml",
			"-f", filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml"), "--namespace", "team-a"),
		Entry("the secret store sample in team-b", "vault-bindings.team-b.yaml",
			"-f", filepath.Join(samples, "security_v1alpha1_securitybaseline_secretstores.yaml"), "-n", "team-b"),
		Entry("as JSON", "restricted-apps.team-a.json",
			"-f", filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml"), "-n", "team-a", "-o", "json"),
		Entry("with the live UID", "restricted-apps.uid.yaml",
			"-f", filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml"), "-n", "team-a", "--uid", "0b6d3c1e-8a34-4b52-9d55-2f1f7c1d2e3f"),
		Entry("defaults, $(NAMESPACE) and a ClusterRole binding", "defaults.apps.yaml",
			"-f", filepath.Join("testdata", "render", "defaults.yaml"), "-n", "apps"),
		Entry("one baseline of several, from a directory", "vault-bindings.dir.yaml",
			"-f", samples, "-n", "team-b", "--name", "vault-bindings"),
	)

	It("renders exactly desired.ForNamespace, spec-hash included, when the UID is known", func() {
		uid := "0b6d3c1e-8a34-4b52-9d55-2f1f7c1d2e3f"
		r := run("", "render", "-f", filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml"), "-n", "team-a", "--uid", uid, "-o", "json")
		Expect(r.code).To(Equal(ExitOK), r.errOut)
		var list struct {
			Items []map[string]any `json:"items"`
		}
		Expect(json.Unmarshal([]byte(r.out), &list)).To(Succeed())

		loaded := loadSample("security_v1alpha1_securitybaseline.yaml")
		loaded.UID = types.UID(uid)
		objs, err := desired.ForNamespace(loaded, "team-a")
		Expect(err).NotTo(HaveOccurred())
		Expect(list.Items).To(HaveLen(len(objs) + 1)) // + the Namespace
		for i, o := range objs {
			want, err := apply.ToMap(o.Apply)
			Expect(err).NotTo(HaveOccurred())
			Expect(apply.Diff(want, list.Items[i+1])).To(BeEmpty())
			Expect(list.Items[i+1]).To(HaveKeyWithValue("metadata", HaveKeyWithValue("annotations", HaveKeyWithValue(desired.SpecHashAnnotation, o.Hash))))
		}
	})

	It("refuses an invalid baseline", func() {
		r := run("apiVersion: security.baseline.dev/v1alpha1\nkind: SecurityBaseline\nmetadata: {name: x}\nspec: {mode: Sometimes, namespaceSelector: {}}\n",
			"render", "-f", "-", "-n", "a")
		Expect(r.code).To(Equal(ExitError))
		Expect(r.errOut).To(ContainSubstring(`<stdin>:1: spec.mode: Unsupported value: "Sometimes"`))
	})

	It("requires --namespace", func() {
		r := run("", "render", "-f", filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml"))
		Expect(r.code).To(Equal(ExitError))
		Expect(r.errOut).To(ContainSubstring("--namespace is required"))
	})

	Describe("--selected", func() {
		file := filepath.Join(samples, "security_v1alpha1_securitybaseline.yaml")
		DescribeTable("says whether the baseline targets the namespace",
			func(namespace, labels string, code int, says string) {
				args := []string{"render", "-f", file, "-n", namespace, "--selected"}
				if labels != "" {
					args = append(args, "--labels", labels)
				}
				r := run("", args...)
				Expect(r.code).To(Equal(code), r.errOut)
				Expect(r.out).To(ContainSubstring(says))
			},
			Entry("labels match", "team-a", "security.baseline.dev/profile=restricted", ExitOK, "SecurityBaseline restricted-apps targets namespace team-a"),
			Entry("labels do not match", "team-a", "security.baseline.dev/profile=baseline", ExitFindings, "does not match the labels"),
			Entry("no labels", "team-a", "", ExitFindings, "does not match the labels"),
			Entry("a protected namespace", "kube-system", "security.baseline.dev/profile=restricted", ExitFindings, "is protected"),
			Entry("the operator's namespace", "securitybaseline-system", "security.baseline.dev/profile=restricted", ExitFindings, "is protected"),
		)

		It("implies the name label and honours excludeNamespaces", func() {
			in := `apiVersion: security.baseline.dev/v1alpha1
kind: SecurityBaseline
metadata: {name: by-name}
spec:
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [apps, legacy]}]
  excludeNamespaces: [legacy]
`
			Expect(run(in, "render", "-f", "-", "-n", "apps", "--selected").code).To(Equal(ExitOK))
			r := run(in, "render", "-f", "-", "-n", "legacy", "--selected")
			Expect(r.code).To(Equal(ExitFindings))
			Expect(r.out).To(ContainSubstring("excludeNamespaces"))
		})
	})
})

// loadSample reads a sample baseline as render reads it (validated and defaulted).
func loadSample(name string) *securityv1alpha1.SecurityBaseline {
	GinkgoHelper()
	o := &options{filenames: []string{filepath.Join(samples, name)}}
	loaded, err := o.loadBaselines()
	Expect(err).NotTo(HaveOccurred())
	Expect(loaded).To(HaveLen(1))
	return loaded[0].baseline
}
