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
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// corpusCase is one document of the validation corpus.
type corpusCase struct {
	name  string // file:document, or the generated case's name
	valid bool   // what the corpus says it is
	doc   map[string]any
}

var _ = Describe("validate", func() {
	It("agrees with the API server on every document of the corpus", func() {
		validator, err := NewValidator()
		Expect(err).NotTo(HaveOccurred())
		cases := corpus()
		Expect(len(cases)).To(BeNumerically(">", 60))
		for _, c := range cases {
			stored, problems := validator.Validate(c.doc)
			cliFields := make([]string, 0, len(problems))
			for _, p := range problems {
				if p.Field != "" { // a document the server cannot decode: no field
					cliFields = append(cliFields, p.Field)
				}
			}
			accepted, serverFields, message := serverVerdict(c.doc)
			cliAccepts := len(problems) == 0
			Expect(cliAccepts).To(Equal(c.valid), "%s: the CLI says %v, the corpus says valid=%v", c.name, problems, c.valid)
			Expect(cliAccepts).To(Equal(accepted), "%s: the CLI says %v, the API server %q", c.name, problems, message)
			Expect(unique(cliFields)).To(Equal(unique(serverFields)), "%s: the CLI says %v, the API server %q", c.name, problems, message)
			if c.valid {
				Expect(stored).NotTo(BeNil())
			}
		}
	})

	It("prints file:document: field: message and exits 1 on an invalid baseline", func() {
		r := run("", "validate", "-f", filepath.Join("testdata", "validate"))
		Expect(r.code).To(Equal(ExitFindings))
		Expect(r.out).To(ContainSubstring(filepath.Join("testdata", "validate", "bad", "schema.yaml") + `:1: spec.mode: Unsupported value: "Sometimes": supported values: "Enforce", "Audit"`))
		Expect(r.out).To(ContainSubstring(filepath.Join("testdata", "validate", "bad", "cel.yaml") + ":16: spec.rbac.roleBindings: Invalid value: roleBindings[].roleRef of kind Role must name a Role declared in rbac.roles"))
		Expect(r.out).NotTo(ContainSubstring("good"))
		Expect(r.errOut).To(MatchRegexp(`\d+ of \d+ SecurityBaselines invalid`))
	})

	It("exits 0 when every baseline is valid, ignoring other kinds", func() {
		r := run("", "validate", "-f", samples, "-f", filepath.Join("testdata", "validate", "good"))
		Expect(r.code).To(Equal(ExitOK), r.out+r.errOut)
		Expect(r.out).To(BeEmpty())
		Expect(r.errOut).To(ContainSubstring("6 SecurityBaselines valid"))
	})

	It("reads stdin, counts documents from 1 and skips comment-only documents", func() {
		in := "# header\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n" +
			"apiVersion: security.baseline.dev/v1alpha1\nkind: SecurityBaseline\nmetadata: {name: x}\nspec: {namespaceSelector: {}, mode: Sometimes}\n"
		r := run(in, "validate", "-f", "-")
		Expect(r.code).To(Equal(ExitFindings))
		Expect(r.out).To(HavePrefix(`<stdin>:2: spec.mode: Unsupported value: "Sometimes"`))
	})

	It("reports a document that is not YAML", func() {
		r := run("a: [b\n", "validate", "-f", "-")
		Expect(r.code).To(Equal(ExitFindings))
		Expect(r.out).To(HavePrefix("<stdin>:1: not a YAML or JSON object"))
	})

	It("exits 2 when the input cannot be read", func() {
		r := run("", "validate", "-f", "does-not-exist.yaml")
		Expect(r.code).To(Equal(ExitError))
		Expect(r.errOut).To(ContainSubstring("does-not-exist.yaml"))
	})
})

// corpus returns every document of testdata/validate (good/ valid, bad/ invalid) and the
// generated cases for every maxItems of the CRD.
func corpus() []corpusCase {
	GinkgoHelper()
	var cases []corpusCase
	for _, dir := range []string{"good", "bad"} {
		docs, err := ReadDocuments([]string{filepath.Join("testdata", "validate", dir)}, nil)
		Expect(err).NotTo(HaveOccurred())
		for _, d := range docs {
			Expect(d.Err).NotTo(HaveOccurred(), d.Position())
			cases = append(cases, corpusCase{name: d.Position(), valid: dir == "good", doc: d.Object})
		}
	}
	return append(cases, tooMany()...)
}

// tooMany builds one baseline per maxItems of the CRD, one item over the limit.
func tooMany() []corpusCase {
	rule := map[string]any{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"get"}}
	port := map[string]any{"port": int64(80)}
	peer := map[string]any{"podSelector": map[string]any{}}
	n := func(count int, item func(i int) any) []any {
		out := make([]any, count)
		for i := range out {
			out[i] = item(i)
		}
		return out
	}
	same := func(v any) func(int) any { return func(int) any { return runtime.DeepCopyJSONValue(v) } }
	policy := func(spec map[string]any) map[string]any {
		spec["podSelector"] = map[string]any{}
		return map[string]any{"networkPolicies": map[string]any{"policies": []any{map[string]any{"name": "p", "spec": spec}}}}
	}
	specs := map[string]map[string]any{
		"excludeNamespaces": {"excludeNamespaces": n(1025, func(i int) any { return fmt.Sprintf("ns-%d", i) })},
		"policies": {"networkPolicies": map[string]any{"policies": n(65, func(i int) any {
			return map[string]any{"name": fmt.Sprintf("p-%d", i), "spec": map[string]any{"podSelector": map[string]any{}}}
		})}},
		"roles": {"rbac": map[string]any{"roles": n(65, func(i int) any {
			return map[string]any{"name": fmt.Sprintf("r-%d", i), "rules": []any{runtime.DeepCopyJSONValue(rule)}}
		})}},
		"roleBindings": {"rbac": map[string]any{"roleBindings": n(65, func(i int) any {
			return map[string]any{"name": fmt.Sprintf("rb-%d", i), "roleRef": map[string]any{"kind": "ClusterRole", "name": "view"}}
		})}},
		"serviceAccounts": {"rbac": map[string]any{"serviceAccounts": n(65, func(i int) any { return map[string]any{"name": fmt.Sprintf("sa-%d", i)} })}},
		"secretStores": {"secretStores": n(33, func(i int) any {
			return map[string]any{"name": fmt.Sprintf("s-%d", i), "csi": map[string]any{}}
		})},
		"rules":       {"rbac": map[string]any{"roles": []any{map[string]any{"name": "r", "rules": n(257, same(rule))}}}},
		"subjects":    {"rbac": map[string]any{"roleBindings": []any{map[string]any{"name": "rb", "roleRef": map[string]any{"kind": "ClusterRole", "name": "view"}, "subjects": n(257, same(map[string]any{"kind": "Group", "name": "g"}))}}}},
		"ingress":     policy(map[string]any{"ingress": n(65, same(map[string]any{}))}),
		"egress":      policy(map[string]any{"egress": n(65, same(map[string]any{}))}),
		"ports":       policy(map[string]any{"ingress": []any{map[string]any{"ports": n(65, same(port))}}}),
		"egressPorts": policy(map[string]any{"egress": []any{map[string]any{"ports": n(65, same(port))}}}),
		"from":        policy(map[string]any{"ingress": []any{map[string]any{"from": n(65, same(peer))}}}),
		"to":          policy(map[string]any{"egress": []any{map[string]any{"to": n(65, same(peer))}}}),
		"except": policy(map[string]any{"ingress": []any{map[string]any{"from": []any{map[string]any{"ipBlock": map[string]any{
			"cidr": "10.0.0.0/8", "except": n(65, func(i int) any { return fmt.Sprintf("10.%d.0.0/16", i) })}}}}}}),
		"policyTypes": policy(map[string]any{"policyTypes": []any{"Ingress", "Egress", "Ingress"}}),
	}
	var cases []corpusCase
	for _, name := range slices.Sorted(mapsKeys(specs)) {
		spec := specs[name]
		spec["namespaceSelector"] = map[string]any{}
		cases = append(cases, corpusCase{name: "maxItems " + name, doc: map[string]any{
			"apiVersion": "security.baseline.dev/v1alpha1", "kind": "SecurityBaseline",
			"metadata": map[string]any{"name": "too-many-" + strings.ToLower(name)}, "spec": spec,
		}})
	}
	return cases
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// serverVerdict creates the document with a dry run and strict field validation, as kubectl
// apply does by default, and returns whether the API server accepted it and the fields it named.
func serverVerdict(doc map[string]any) (accepted bool, fields []string, message string) {
	GinkgoHelper()
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(doc)}
	err := k8sClient.Create(ctx, u, client.DryRunAll, client.FieldValidation("Strict"))
	if err == nil {
		return true, nil, ""
	}
	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue(), "not an API error: %v", err)
	Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "unexpected error: %v", err)
	if details := status.Status().Details; details != nil {
		for _, c := range details.Causes {
			fields = append(fields, c.Field)
		}
	}
	for _, m := range unknownField.FindAllStringSubmatch(err.Error(), -1) {
		fields = append(fields, m[1])
	}
	return false, fields, err.Error()
}

func unique(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return slices.Compact(out)
}
