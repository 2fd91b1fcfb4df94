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

package argohealth

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// checkDir is the health check in Argo CD's resource_customizations layout.
const checkDir = "../../config/argocd/resource_customizations/security.baseline.dev/SecurityBaseline"

// states are the testdata files, one per state of the contract's "GitOps health" table.
var states = []string{
	"not-reconciled.yaml", "rolling-out.yaml", "healthy.yaml", "conflict.yaml", "forbidden.yaml",
	"invalid-spec.yaml", "crd-not-installed.yaml", "audit-drift.yaml", "audit-healthy.yaml",
	"suspended.yaml", "deleting.yaml",
}

// healthTest is Argo CD's health_test.yaml (util/lua/health_test.go).
type healthTest struct {
	Tests []struct {
		InputPath    string `json:"inputPath"`
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
	} `json:"tests"`
}

func readScript() string {
	GinkgoHelper()
	script, err := os.ReadFile(filepath.Join(checkDir, "health.lua"))
	Expect(err).NotTo(HaveOccurred())
	return string(script)
}

func readHealthTest() healthTest {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(checkDir, "health_test.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var ht healthTest
	Expect(yaml.UnmarshalStrict(data, &ht)).To(Succeed())
	Expect(ht.Tests).NotTo(BeEmpty())
	return ht
}

// readObject reads a testdata file as Argo CD's test harness does (numbers as float64).
func readObject(inputPath string) map[string]any {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(checkDir, inputPath))
	Expect(err).NotTo(HaveOccurred())
	obj := map[string]any{}
	Expect(yaml.Unmarshal(data, &obj)).To(Succeed())
	return obj
}

// readUnstructured reads a testdata file as a client reads it from the API server (integers
// as int64), which kstatus needs.
func readUnstructured(inputPath string) *unstructured.Unstructured {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(checkDir, inputPath))
	Expect(err).NotTo(HaveOccurred())
	json, err := yaml.YAMLToJSON(data)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	Expect(u.UnmarshalJSON(json)).To(Succeed())
	return u
}

// kstatusFor is the contract's "GitOps health" table read from the Argo CD side.
func kstatusFor(u *unstructured.Unstructured, argo string) kstatus.Status {
	if u.GetDeletionTimestamp() != nil {
		return kstatus.TerminatingStatus
	}
	return map[string]kstatus.Status{
		Progressing: kstatus.InProgressStatus,
		Healthy:     kstatus.CurrentStatus,
		Suspended:   kstatus.CurrentStatus,
		Degraded:    kstatus.FailedStatus,
	}[argo]
}

var _ = Describe("health.lua", func() {
	It("returns health_test.yaml's status and message for every case, as Argo CD's test harness does", func() {
		script := readScript()
		for _, tc := range readHealthTest().Tests {
			status, message, err := Evaluate(script, readObject(tc.InputPath))
			Expect(err).NotTo(HaveOccurred(), tc.InputPath)
			Expect([]string{status, message}).To(Equal([]string{tc.HealthStatus.Status, tc.HealthStatus.Message}), tc.InputPath)
		}
	})

	It("returns the same for objects as the API server returns them (int64 numbers)", func() {
		script := readScript()
		for _, tc := range readHealthTest().Tests {
			status, message, err := Evaluate(script, readUnstructured(tc.InputPath).Object)
			Expect(err).NotTo(HaveOccurred(), tc.InputPath)
			Expect([]string{status, message}).To(Equal([]string{tc.HealthStatus.Status, tc.HealthStatus.Message}), tc.InputPath)
		}
	})

	It("agrees with kstatus (Flux) as the contract's GitOps health table says", func() {
		script := readScript()
		for _, tc := range readHealthTest().Tests {
			u := readUnstructured(tc.InputPath)
			res, err := kstatus.Compute(u)
			Expect(err).NotTo(HaveOccurred(), tc.InputPath)
			status, _, err := Evaluate(script, u.Object)
			Expect(err).NotTo(HaveOccurred(), tc.InputPath)
			Expect(res.Status).To(Equal(kstatusFor(u, status)), "%s: Argo CD %s, kstatus %s (%s)", tc.InputPath, status, res.Status, res.Message)
		}
	})

	It("has a case for every testdata file and a testdata file for every state", func() {
		var covered []string
		for _, tc := range readHealthTest().Tests {
			Expect(filepath.Join(checkDir, tc.InputPath)).To(BeAnExistingFile())
			covered = append(covered, filepath.Base(tc.InputPath))
		}
		files, err := filepath.Glob(filepath.Join(checkDir, "testdata", "*"))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range files {
			Expect(covered).To(ContainElement(filepath.Base(f)), "testdata file without a case in health_test.yaml")
		}
		for _, s := range states {
			Expect(covered).To(ContainElement(s), "no case for state %s", s)
		}
	})
})

// baseline builds a SecurityBaseline of generation 2 with the given status conditions.
func baseline(conditions ...map[string]any) map[string]any {
	list := make([]any, 0, len(conditions))
	for _, c := range conditions {
		list = append(list, c)
	}
	return map[string]any{
		"apiVersion": "security.baseline.dev/v1alpha1",
		"kind":       "SecurityBaseline",
		"metadata":   map[string]any{"name": "b", "generation": int64(2)},
		"spec":       map[string]any{"namespaceSelector": map[string]any{}},
		"status":     map[string]any{"observedGeneration": int64(2), "conditions": list},
	}
}

func condition(condType, status, reason, message string) map[string]any {
	return map[string]any{"type": condType, "status": status, "reason": reason, "message": message}
}

var _ = DescribeTable("health.lua on synthetic objects",
	func(obj map[string]any, wantStatus, wantMessage string) {
		status, message, err := Evaluate(readScript(), obj)
		Expect(err).NotTo(HaveOccurred())
		Expect([]string{status, message}).To(Equal([]string{wantStatus, wantMessage}))
	},
	Entry("no status at all", func() map[string]any {
		b := baseline()
		delete(b, "status")
		return b
	}(), Progressing, "Waiting for the operator to observe generation 2"),
	Entry("an older generation observed, whatever the conditions say", func() map[string]any {
		b := baseline(condition("Ready", "True", "Compliant", "1 of 1 namespaces compliant"))
		b["status"].(map[string]any)["observedGeneration"] = int64(1)
		return b
	}(), Progressing, "Waiting for the operator to observe generation 2"),
	Entry("Reconciling before Stalled: the first one counts, as in kstatus",
		baseline(condition("Reconciling", "True", "Progressing", "2 writes failed and are retried"),
			condition("Stalled", "True", "Conflict", "1 objects conflict")),
		Progressing, "2 writes failed and are retried"),
	Entry("Stalled before Reconciling",
		baseline(condition("Stalled", "True", "Conflict", "1 objects conflict"),
			condition("Reconciling", "True", "Progressing", "2 writes failed and are retried")),
		Degraded, "1 objects conflict"),
	Entry("Stalled without a message: its reason",
		baseline(condition("Stalled", "True", "Forbidden", "")), Degraded, "Forbidden"),
	Entry("Stalled False is ignored",
		baseline(condition("Stalled", "False", "Conflict", "old"), condition("Ready", "True", "Compliant", "3 of 3 namespaces compliant")),
		Healthy, "3 of 3 namespaces compliant"),
	Entry("Ready False without Stalled or Reconciling",
		baseline(condition("Ready", "False", "NotCompliant", "2 of 3 namespaces compliant")),
		Progressing, "2 of 3 namespaces compliant"),
	Entry("Ready Unknown",
		baseline(condition("Ready", "Unknown", "Progressing", "")), Progressing, "Progressing"),
	Entry("no Ready condition",
		baseline(condition("DriftDetected", "False", "NoDrift", "every managed object matches the spec")),
		Progressing, "Waiting for status"),
	Entry("being deleted with deletionPolicy Orphan", func() map[string]any {
		b := baseline()
		b["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-26T13:00:00Z"
		b["spec"].(map[string]any)["deletionPolicy"] = "Orphan"
		return b
	}(), Progressing, "Being deleted: the finalizer releases the managed objects (deletionPolicy Orphan)"),
	Entry("suspended wins over a leftover Stalled condition", func() map[string]any {
		b := baseline(condition("Stalled", "True", "Conflict", "1 objects conflict"))
		b["spec"].(map[string]any)["suspend"] = true
		return b
	}(), Suspended, "Reconciliation is suspended (spec.suspend: true)"),
)

var _ = DescribeTable("Evaluate reads a script's result as Argo CD does",
	func(script string, wantStatus, wantMessage string) {
		status, message, err := Evaluate(script, baseline())
		Expect(err).NotTo(HaveOccurred())
		Expect([]string{status, message}).To(Equal([]string{wantStatus, wantMessage}))
	},
	Entry("a health status", `return {status = "Healthy", message = obj.metadata.name}`, Healthy, "b"),
	Entry("numbers print as integers", `return {status = "Progressing", message = "generation " .. obj.metadata.generation}`, Progressing, "generation 2"),
	Entry("an invalid status", `return {status = "Fine"}`, Unknown, InvalidStatusMessage),
	Entry("an empty table", `return {}`, Unknown, InvalidStatusMessage),
	Entry("nil", `return nil`, "", ""),
	Entry("a sequence", `return {"Healthy"}`, "", ""),
	Entry("a message that is no string", `return {status = "Healthy", message = 5}`, "", ""),
	Entry("the safe os library", `return {status = "Healthy", message = type(os.time()) .. " " .. tostring(os.exit)}`, Healthy, "number nil"),
	Entry("the table library", `local t = {"b", "a"}; table.sort(t); return {status = "Healthy", message = table.concat(t, ",")}`, Healthy, "a,b"),
)

var _ = Describe("Evaluate", func() {
	It("opens only the libraries Argo CD opens for argocd-cm checks", func() {
		for _, lib := range []string{"string", "math", "io", "debug", "coroutine", "channel"} {
			status, message, err := Evaluate(fmt.Sprintf(`return {status = "Healthy", message = tostring(%s)}`, lib), baseline())
			Expect(err).NotTo(HaveOccurred())
			Expect([]string{status, message}).To(Equal([]string{Healthy, "nil"}), lib)
		}
		_, _, err := Evaluate(`return {status = string.upper("healthy")}`, baseline())
		Expect(err).To(MatchError(ContainSubstring("non-table object(nil) with key 'upper'")))
	})

	It("reports a script that returns something other than a table", func() {
		_, _, err := Evaluate(`return "Healthy"`, baseline())
		Expect(err).To(MatchError("expect table output from Lua script, not string"))
	})

	It("reports syntax and runtime errors", func() {
		_, _, err := Evaluate(`return {`, baseline())
		Expect(err).To(HaveOccurred())
		_, _, err = Evaluate(`return obj.missing.field`, baseline())
		Expect(err).To(HaveOccurred())
	})

	It("stops a script that runs too long", func() {
		_, _, err := Evaluate(`while true do end`, baseline())
		Expect(err).To(MatchError(ContainSubstring("context deadline exceeded")))
	})

	It("sees the object unchanged by earlier runs", func() {
		obj := baseline()
		_, _, err := Evaluate(`obj.metadata.name = "changed"; return {status = "Healthy"}`, obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(obj["metadata"].(map[string]any)["name"]).To(Equal("b"))
	})
})
