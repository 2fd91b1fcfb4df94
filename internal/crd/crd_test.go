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

package crd

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCRD(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Embedded CRD Suite")
}

var _ = Describe("the embedded CRD", func() {
	It("is the generated one (run `make manifests` when this fails)", func() {
		generated, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "security.baseline.dev_securitybaselines.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(YAML)).To(Equal(string(generated)), "internal/crd/securitybaselines.yaml is stale: run `make manifests`")
	})

	It("decodes", func() {
		crd, err := SecurityBaseline()
		Expect(err).NotTo(HaveOccurred())
		Expect(crd.Spec.Names.Kind).To(Equal("SecurityBaseline"))
		Expect(crd.Spec.Versions).To(HaveLen(1))
	})
})
