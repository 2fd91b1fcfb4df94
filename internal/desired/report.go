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

package desired

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// Compliance report kinds, in order of preference: the OpenReports Report (read by Policy
// Reporter, Kubewarden's default) and, where only it is installed, the Policy WG PolicyReport.
var (
	OpenReportsGVK  = schema.GroupVersionKind{Group: "openreports.io", Version: "v1alpha1", Kind: "Report"}
	PolicyReportGVK = schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "PolicyReport"}
)

// ReportKinds lists the compliance report kinds the operator writes, most preferred first.
var ReportKinds = []schema.GroupVersionKind{OpenReportsGVK, PolicyReportGVK}

// Report result values (the reports' `result` enum).
const (
	ResultPass  = "pass"
	ResultFail  = "fail"
	ResultWarn  = "warn"
	ResultError = "error"
	ResultSkip  = "skip"
)

// RulePodSecurity is the rule of a report's Pod Security results.
const RulePodSecurity = "PodSecurity"

// ReportSource is the `source` of every report and result.
const ReportSource = OperatorName

// ReportName is the name of a baseline's report in each target namespace.
func ReportName(baselineName string) string { return "sbl-" + baselineName }

// ReportResult is one result of a compliance report: a rule (`<Kind>/<name>` of a managed
// object, or PodSecurity), its outcome, and the object it is about.
type ReportResult struct {
	Rule    string
	Result  string
	Message string
	// Reason is the drift reason of a failed object (Missing, Modified, Conflict, ...), or
	// PodSecurityViolation; it is the result's "reason" property.
	Reason string
	// Properties are further properties of the result.
	Properties map[string]string
	// Subject is the object the result is about.
	Subject schema.GroupVersionKind
	// SubjectNamespace and SubjectName name the subject; SubjectNamespace is empty for a Namespace.
	SubjectNamespace, SubjectName string
}

// Report builds the compliance report of a baseline in one namespace, of the given kind (one
// of ReportKinds), stamped with the hash of its content so an unchanged report is never
// written again. Results keep the order given; the summary counts them.
func Report(gvk schema.GroupVersionKind, b *securityv1alpha1.SecurityBaseline, namespace string, results []ReportResult) (*unstructured.Unstructured, error) {
	summary := map[string]any{ResultPass: int64(0), ResultFail: int64(0), ResultWarn: int64(0), ResultError: int64(0), ResultSkip: int64(0)}
	items := make([]any, 0, len(results))
	for _, r := range results {
		summary[r.Result] = summary[r.Result].(int64) + 1
		item := map[string]any{
			"source": ReportSource,
			"policy": b.Name,
			"rule":   r.Rule,
			"result": r.Result,
			"scored": true,
		}
		if r.Message != "" {
			item["message"] = r.Message
		}
		if r.Reason != "" || len(r.Properties) > 0 {
			props := map[string]any{}
			for k, v := range r.Properties {
				props[k] = v
			}
			if r.Reason != "" {
				props["reason"] = r.Reason
			}
			item["properties"] = props
		}
		if r.SubjectName != "" {
			ref := map[string]any{"apiVersion": r.Subject.GroupVersion().String(), "kind": r.Subject.Kind, "name": r.SubjectName}
			if r.SubjectNamespace != "" {
				ref["namespace"] = r.SubjectNamespace
			}
			item["resources"] = []any{ref}
		}
		items = append(items, item)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"summary": summary, "results": items}}
	if gvk == OpenReportsGVK {
		u.Object["source"] = ReportSource
	}
	u.SetGroupVersionKind(gvk)
	u.SetName(ReportName(b.Name))
	u.SetNamespace(namespace)
	u.SetLabels(Labels(b.Name))
	u.SetOwnerReferences(ownerReferences(b))
	if _, err := unstructuredSpecHash(u); err != nil {
		return nil, err
	}
	return u, nil
}
