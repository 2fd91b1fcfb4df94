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

package apply_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
)

func TestApply(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Apply Suite")
}

func obj(json string) map[string]any {
	GinkgoHelper()
	m, err := apply.ToMap(rawJSON(json))
	Expect(err).NotTo(HaveOccurred())
	return m
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

var _ = Describe("Diff", func() {
	DescribeTable("compares only the declared fields",
		func(desired, live, wantPath string) {
			Expect(apply.Diff(obj(desired), obj(live))).To(Equal(wantPath))
		},
		Entry("equal", `{"spec":{"a":1}}`, `{"spec":{"a":1}}`, ""),
		Entry("server defaults and other managers' fields are ignored",
			`{"metadata":{"labels":{"x":"1"}},"spec":{"ports":[{"port":53}]}}`,
			`{"metadata":{"labels":{"x":"1","y":"2"},"annotations":{"z":"3"}},"spec":{"ports":[{"port":53,"protocol":"TCP"}]}}`, ""),
		Entry("a changed value", `{"spec":{"a":1}}`, `{"spec":{"a":2}}`, "spec.a"),
		Entry("a missing field", `{"spec":{"a":1}}`, `{"spec":{}}`, "spec.a"),
		Entry("an empty declared object the server leaves out", `{"spec":{"podSelector":{}}}`, `{"spec":{}}`, ""),
		Entry("a list element changed", `{"rules":[{"verbs":["get"]}]}`, `{"rules":[{"verbs":["*"]}]}`, "rules[0].verbs[0]"),
		Entry("a list element added", `{"rules":[{"verbs":["get"]}]}`, `{"rules":[{"verbs":["get"]},{"verbs":["*"]}]}`, "rules"),
		Entry("owner references: others may be added",
			`{"metadata":{"ownerReferences":[{"uid":"a"}]}}`,
			`{"metadata":{"ownerReferences":[{"uid":"b"},{"uid":"a","controller":true}]}}`, ""),
		Entry("owner references: ours removed",
			`{"metadata":{"ownerReferences":[{"uid":"a"}]}}`,
			`{"metadata":{"ownerReferences":[{"uid":"b"}]}}`, "metadata.ownerReferences[0]"),
		Entry("identity fields the cache leaves out", `{"apiVersion":"v1","kind":"X","spec":{"a":1}}`, `{"spec":{"a":1}}`, ""),
		Entry("a type change", `{"spec":{"a":{"b":1}}}`, `{"spec":{"a":"b"}}`, "spec.a"),
	)
})
