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

package admission

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite manifests.yaml from config/admission and config/default's name prefix")

const manifestsHeader = `# Code generated from config/admission with config/default's name prefix by
# "go test ./internal/admission -update". DO NOT EDIT: edit config/admission, then regenerate.
`

func TestAdmission(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Admission Suite")
}

// kustomization is the part of a kustomization.yaml these tests read.
type kustomization struct {
	NamePrefix string   `json:"namePrefix"`
	Resources  []string `json:"resources"`
}

func readKustomization(dir string) kustomization {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var k kustomization
	Expect(yaml.Unmarshal(raw, &k)).To(Succeed())
	return k
}

func readDocuments(raw []byte) []map[string]any {
	GinkgoHelper()
	var docs []map[string]any
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		Expect(err).NotTo(HaveOccurred())
		var obj map[string]any
		Expect(yaml.Unmarshal(doc, &obj)).To(Succeed())
		if len(obj) > 0 {
			docs = append(docs, obj)
		}
	}
}

// installedByConfig returns config/admission's objects as `kustomize build config/default`
// writes them: the name prefix on every name and on the binding's policyName.
func installedByConfig() []map[string]any {
	GinkgoHelper()
	defaults := readKustomization(filepath.Join("..", "..", "config", "default"))
	Expect(defaults.Resources).To(ContainElement("../admission"), "config/default installs the policy")
	dir := filepath.Join("..", "..", "config", "admission")
	var objs []map[string]any
	for _, file := range readKustomization(dir).Resources {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		Expect(err).NotTo(HaveOccurred())
		for _, doc := range readDocuments(raw) {
			u := &unstructured.Unstructured{Object: doc}
			u.SetName(defaults.NamePrefix + u.GetName())
			if u.GetKind() == "ValidatingAdmissionPolicyBinding" {
				policy, _, err := unstructured.NestedString(doc, "spec", "policyName")
				Expect(err).NotTo(HaveOccurred())
				Expect(unstructured.SetNestedField(doc, defaults.NamePrefix+policy, "spec", "policyName")).To(Succeed())
			}
			objs = append(objs, doc)
		}
	}
	return objs
}

var _ = Describe("the embedded admission manifests", func() {
	It("are config/admission as config/default installs it", func() {
		want := installedByConfig()
		if *update {
			out := bytes.NewBufferString(manifestsHeader)
			for _, obj := range want {
				raw, err := yaml.Marshal(obj)
				Expect(err).NotTo(HaveOccurred())
				out.WriteString("---\n")
				out.Write(raw)
			}
			Expect(os.WriteFile("manifests.yaml", out.Bytes(), 0o644)).To(Succeed())
			Skip("manifests.yaml rewritten; run the tests again without -update")
		}
		Expect(readDocuments(manifests)).To(Equal(want),
			"internal/admission/manifests.yaml is stale: run `go test ./internal/admission -update`")
	})

	It("decode strictly into the policy, then its binding, both named PolicyName", func() {
		objs, err := Objects()
		Expect(err).NotTo(HaveOccurred())
		Expect(objs).To(HaveLen(2))
		policy, ok := objs[0].(*admissionregistrationv1ac.ValidatingAdmissionPolicyApplyConfiguration)
		Expect(ok).To(BeTrue(), "the policy comes first")
		Expect(*policy.GetName()).To(Equal(PolicyName))
		binding, ok := objs[1].(*admissionregistrationv1ac.ValidatingAdmissionPolicyBindingApplyConfiguration)
		Expect(ok).To(BeTrue(), "the binding comes second")
		Expect(*binding.GetName()).To(Equal(PolicyName))
		Expect(*binding.Spec.PolicyName).To(Equal(PolicyName))
	})

	It("reject a field the API does not know", func() {
		_, err := decode([]byte("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x}\nspec: {failurePolicyy: Fail}\n"))
		Expect(err).To(MatchError(ContainSubstring("failurePolicyy")))
	})
})

// Applying on the real API server is tested by the controllers suite; here only which errors
// Install waits out.
var _ = Describe("Install", func() {
	// failing returns a client whose first n applies fail with err, and the count of applies.
	failing := func(n int, err error) (client.Client, *int) {
		calls := 0
		c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
			Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
				calls++
				if calls <= n {
					return err
				}
				return nil
			},
		}).Build()
		return c, &calls
	}

	It("waits out an API server that is restarting", func() {
		c, calls := failing(2, apierrors.NewServiceUnavailable("restarting"))
		Expect(Install(context.Background(), c, GinkgoLogr)).To(Succeed())
		Expect(*calls).To(Equal(4), "the policy after two retries, then the binding")
	})

	It("fails at once when the operator may not apply it", func() {
		c, calls := failing(1, apierrors.NewForbidden(schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}, PolicyName, errors.New("no RBAC")))
		Expect(Install(context.Background(), c, GinkgoLogr)).To(MatchError(And(
			ContainSubstring("ValidatingAdmissionPolicy "+PolicyName), ContainSubstring("no RBAC"))))
		Expect(*calls).To(Equal(1))
	})

	It("gives up when its context ends, saying what failed last", func() {
		c, _ := failing(1000, apierrors.NewServiceUnavailable("restarting"))
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		Expect(Install(ctx, c, GinkgoLogr)).To(MatchError(ContainSubstring("restarting")))
	})
})
