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
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// reportKindNone is status.reportKind when neither report CRD is installed.
const reportKindNone = "None"

// recheckReportKindsAfter is how long a cluster found without report CRDs is not asked again:
// a lookup of a kind the cluster does not serve costs a discovery request. (A variable for tests.)
var recheckReportKindsAfter = 30 * time.Second

// reportKind returns the compliance report kind the cluster serves, OpenReports first. Every
// report kind the cluster serves is watched (its objects' changes reach the baseline like those
// of managed objects, and reports of a kind no longer preferred are found and deleted); a kind
// not watched yet is looked up at most every recheckReportKindsAfter.
func (r *SecurityBaselineReconciler) reportKind(ctx context.Context) (schema.GroupVersionKind, bool) {
	checked, ok := r.reportsMissingSince.Load().(time.Time)
	recheck := !ok || time.Since(checked) >= recheckReportKindsAfter
	missed := false
	var found []schema.GroupVersionKind
	for _, gvk := range desired.ReportKinds {
		if _, watched := r.watched.Load(gvk); !watched {
			if !recheck {
				continue
			}
			if err := r.watchOptionalKind(gvk); err != nil {
				missed = true
				continue
			}
		}
		if _, err := r.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
			found = append(found, gvk)
		}
	}
	if missed {
		r.reportsMissingSince.Store(time.Now())
	}
	if len(found) == 0 {
		if missed && r.reportsNoneLogged.CompareAndSwap(false, true) {
			ctrl.LoggerFrom(ctx).Info("no compliance report CRD is installed (openreports.io Report, wgpolicyk8s.io PolicyReport): no per-namespace reports are written")
		}
		return schema.GroupVersionKind{}, false
	}
	return found[0], true
}

// watchForReportCRDs looks, every recheckReportKindsAfter, whether the preferred report CRD
// has been installed, and then has every baseline reconciled (nothing else would tell them):
// one discovery lookup per interval for the whole operator, none once OpenReports is watched.
func (r *SecurityBaselineReconciler) watchForReportCRDs(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(recheckReportKindsAfter):
		}
		preferred := desired.ReportKinds[0]
		if _, watched := r.watched.Load(preferred); watched {
			continue
		}
		before := len(r.watchedReportKinds())
		r.reportKind(ctx)
		if len(r.watchedReportKinds()) > before {
			select {
			case r.reportCRDInstalled <- event.GenericEvent{Object: &securityv1alpha1.SecurityBaseline{}}:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// watchedReportKinds lists the report kinds being watched.
func (r *SecurityBaselineReconciler) watchedReportKinds() []schema.GroupVersionKind {
	var kinds []schema.GroupVersionKind
	for _, gvk := range desired.ReportKinds {
		if _, ok := r.watched.Load(gvk); ok {
			kinds = append(kinds, gvk)
		}
	}
	return kinds
}

// reconcileReports keeps one compliance report of the baseline in each target namespace,
// written only when a result changed, and deletes its reports from every other namespace.
// A report of that name the baseline does not own is left alone. It returns the report kind
// ("None" when the cluster has no report CRD).
func (r *SecurityBaselineReconciler) reconcileReports(ctx context.Context, s *scope, results []*namespaceResult) (string, []error) {
	gvk, ok := r.reportKind(ctx)
	if !ok {
		return reportKindNone, nil
	}
	live, err := r.listLabelled(ctx, gvk, s.b.Name)
	if err != nil {
		return gvk.Kind, []error{err}
	}
	name := desired.ReportName(s.b.Name)
	ours, theirs := map[string]client.Object{}, map[string]bool{}
	for _, obj := range live {
		switch {
		case obj.GetName() != name:
		case ownedBy(obj, s.b.UID):
			ours[obj.GetNamespace()] = obj
		default:
			theirs[obj.GetNamespace()] = true
		}
	}
	var errs []error
	targeted := map[string]bool{}
	for _, ns := range s.targets {
		targeted[ns.Name] = true
	}
	for _, res := range results {
		if res == nil {
			continue // not converged in this pass (cancelled): its report stays as it is
		}
		have := ours[res.namespace]
		key := desired.Key{Kind: gvk.Kind, Namespace: res.namespace, Name: name}
		if have != nil {
			carryViolations(s, res, have)
		}
		// A settled namespace (nothing in it changed) whose report matched at an earlier pass,
		// and has not changed since, still matches: its report is not built again.
		if have != nil && res.settled && s.verdicts.lookup(key, have.GetUID(), have.GetResourceVersion(), s.b.Generation, time.Now()) != nil {
			continue
		}
		want, err := desired.Report(gvk, s.b, res.namespace, reportResults(s, res))
		if err != nil {
			return gvk.Kind, []error{err}
		}
		switch {
		case have != nil && have.GetAnnotations()[desired.SpecHashAnnotation] == want.GetAnnotations()[desired.SpecHashAnnotation]:
			s.verdicts.record(key, verdict{uid: have.GetUID(), resourceVersion: have.GetResourceVersion(), generation: s.b.Generation})
		case have == nil && theirs[res.namespace]:
		case have == nil:
			err = r.Create(ctx, want, client.FieldOwner(desired.FieldManager(s.b.Name)))
			if apierrors.IsAlreadyExists(err) {
				err = nil // someone else's report (not in the cache): left alone
			}
		default:
			// Locked on the report compared: a report the cache has not caught up with, or one a
			// user put in its place meanwhile, is not overwritten.
			want.SetResourceVersion(have.GetResourceVersion())
			err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(want), client.FieldOwner(desired.FieldManager(s.b.Name)), client.ForceOwnership)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("writing %s %s/%s: %w", gvk.Kind, res.namespace, name, err))
		}
	}
	for namespace, obj := range ours {
		if !targeted[namespace] {
			if err := r.deleteIfOwned(ctx, obj, desired.Key{Kind: gvk.Kind, Namespace: namespace, Name: name}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Reports of the kind written before OpenReports was installed go.
	return gvk.Kind, append(errs, r.deleteReports(ctx, s.b, gvk)...)
}

// deleteReports deletes every report the baseline owns, except those of the kind it keeps,
// whatever the deletion policy: a report describes the baseline and goes with it.
func (r *SecurityBaselineReconciler) deleteReports(ctx context.Context, b *securityv1alpha1.SecurityBaseline, keep schema.GroupVersionKind) []error {
	var errs []error
	for _, gvk := range desired.ReportKinds {
		if _, watched := r.watched.Load(gvk); !watched || gvk == keep {
			continue
		}
		live, err := r.listLabelled(ctx, gvk, b.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range live {
			if ownedBy(obj, b.UID) {
				if err := r.deleteIfOwned(ctx, obj, desired.Key{Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errs
}

// reportResults lists a namespace's results: one per declared object (pass, or fail with the
// drift reason and message), then Pod Security (pass, fail, or skip when not declared), then
// one per group of running pods that violated the enforce level at the last dry run.
func reportResults(s *scope, res *namespaceResult) []desired.ReportResult {
	failed := make(map[desired.Key]securityv1alpha1.Drift, len(res.drift))
	for _, d := range res.drift {
		failed[desired.Key{Kind: d.Kind, Name: d.Name}] = d
	}
	results := make([]desired.ReportResult, 0, len(s.declared)+1+len(res.violations))
	for _, d := range s.declared {
		r := desired.ReportResult{Rule: d.Kind + "/" + d.Name, Result: desired.ResultPass,
			Subject: subjectGVK(d.Kind), SubjectNamespace: res.namespace, SubjectName: d.Name}
		if drift, ok := failed[d]; ok {
			r.Result, r.Reason, r.Message = desired.ResultFail, string(drift.Reason), driftMessage(drift)
		}
		results = append(results, r)
	}
	podSecurity := desired.ReportResult{Rule: desired.RulePodSecurity, Result: desired.ResultPass,
		Subject: subjectGVK(namespaceKind), SubjectName: res.namespace, Message: "Pod Security labels as declared"}
	switch drift, ok := failed[desired.Key{Kind: namespaceKind, Name: res.namespace}]; {
	case s.b.Spec.PodSecurity == nil:
		podSecurity.Result, podSecurity.Message = desired.ResultSkip, "spec.podSecurity is not set"
	case ok:
		podSecurity.Result, podSecurity.Reason, podSecurity.Message = desired.ResultFail, string(drift.Reason), driftMessage(drift)
	}
	results = append(results, podSecurity)
	for _, v := range res.violations {
		result := desired.ResultWarn
		if res.podSecurityHeld {
			result = desired.ResultFail
		}
		results = append(results, desired.ReportResult{Rule: desired.RulePodSecurity, Result: result, Reason: reasonPodSecurityViolation,
			Message: v.message, Subject: subjectGVK("Pod"), SubjectNamespace: res.namespace, SubjectName: v.pod,
			Properties: map[string]string{"pods": strconv.Itoa(v.pods)}})
	}
	return results
}

// reasonPodSecurityViolation marks the report results of running pods that violate the
// enforce level.
const reasonPodSecurityViolation = "PodSecurityViolation"

// carryViolations takes the violations of a namespace whose pods were not checked in this pass from
// its current report: they were found when the enforce level was last set or raised, and
// stand while the baseline still sets an enforce level (a new one is dry-run again).
func carryViolations(s *scope, res *namespaceResult, report client.Object) {
	u, ok := report.(*unstructured.Unstructured)
	if res.checkedPods || !ok || s.podSecurity[enforceLabel] == "" {
		return
	}
	// Read in place: the report is the cache's copy, read only.
	items, _ := u.Object["results"].([]any)
	for _, item := range items {
		m, _ := item.(map[string]any)
		reason, _, _ := unstructured.NestedString(m, "properties", "reason")
		rule, _, _ := unstructured.NestedString(m, "rule")
		if rule != desired.RulePodSecurity || reason != reasonPodSecurityViolation || len(res.violations) >= maxViolationResults {
			continue
		}
		message, _, _ := unstructured.NestedString(m, "message")
		count, _, _ := unstructured.NestedString(m, "properties", "pods")
		pods, _ := strconv.Atoi(count)
		var pod string
		if resources, _ := m["resources"].([]any); len(resources) == 1 {
			if ref, ok := resources[0].(map[string]any); ok {
				pod, _ = ref["name"].(string)
			}
		}
		res.violations = append(res.violations, podViolation{pod: pod, pods: max(pods, 1), message: message})
		res.violatingPods += max(pods, 1)
	}
}

// driftMessage is a drift entry's message, or its reason when it has none.
func driftMessage(d securityv1alpha1.Drift) string {
	if d.Message != "" {
		return d.Message
	}
	return string(d.Reason)
}

// subjectGVK is the kind of a report result's subject: a managed kind, a Namespace or a Pod.
func subjectGVK(kind string) schema.GroupVersionKind {
	if kind == namespaceKind || kind == "Pod" {
		return corev1.SchemeGroupVersion.WithKind(kind)
	}
	return gvkOfKind(kind)
}
