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
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	ctrl "sigs.k8s.io/controller-runtime"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// maxDriftEntries caps status.drift.
const maxDriftEntries = 20

// observation is what one reconcile of a baseline found and did.
type observation struct {
	suspended bool
	// invalidSpec explains a spec the operator cannot act on (Stalled, InvalidSpec).
	invalidSpec                 string
	matched, compliant, managed int
	// drift lists objects still not as declared; corrected lists drift repaired now;
	// conflicts lists conflicts not reported before.
	drift, corrected, conflicts []securityv1alpha1.Drift
	// missingKinds are CRDs the baseline declares objects of that the cluster does not serve.
	missingKinds []string
	// rejected counts writes the server rejected (Invalid, Forbidden); invalid those it found Invalid.
	rejected, invalid int
	// errs are transient failures, retried with backoff.
	errs []error
	// inventory is the next status.inventory; nil keeps the current one.
	inventory []string
	// reportKind is the compliance report kind written (status.reportKind); reportsFailed says
	// a report could not be written (tried again after a while).
	reportKind    string
	reportsFailed bool
	// violatingPods counts the running pods that violate the enforce level; violations holds
	// the namespaces whose check found some in this pass (one Warning event each), held how
	// many namespaces hold the enforce level back for them.
	violatingPods int
	violations    []namespaceViolations
	held          int
	// written counts the namespaces this pass rolled the spec out to (drift repairs aside) and
	// the objects and namespaces it pruned: a rollout the operator has not yet seen come back
	// through its watches (Reconciling). A drift repair is done within its pass: it sets no
	// Reconciling, so repairs cost no extra status write.
	written int
}

// namespaceViolations are the pods a Pod Security dry run found violating in one namespace.
type namespaceViolations struct {
	namespace string
	pods      int
	held      bool
	first     []podViolation
}

// addPodSecurity adds a namespace's Pod Security check, after the reports carried earlier
// findings over.
func (o *observation) addPodSecurity(res *namespaceResult) {
	o.violatingPods += res.violatingPods
	if res.podSecurityHeld {
		o.held++
	}
	if res.dryRan && res.violatingPods > 0 {
		o.violations = append(o.violations, namespaceViolations{namespace: res.namespace, pods: res.violatingPods,
			held: res.podSecurityHeld, first: res.violations})
	}
}

func (o *observation) add(res *namespaceResult) {
	o.matched++
	if res.compliant && len(o.missingKinds) == 0 {
		o.compliant++
	}
	o.managed += res.managed
	o.drift = append(o.drift, res.drift...)
	o.corrected = append(o.corrected, res.corrected...)
	o.conflicts = append(o.conflicts, res.conflicts...)
	o.errs = append(o.errs, res.errs...)
	o.rejected += res.rejected
	o.invalid += res.invalid
	if res.rolledOut {
		o.written++
	}
}

// result is what the controller does after a reconcile: transient errors back off; what the
// operator does not watch is looked at again after a while; everything else waits for events.
func (o *observation) result() (ctrl.Result, error) {
	if len(o.errs) > 0 {
		return ctrl.Result{}, kerrors.NewAggregate(o.errs)
	}
	after := time.Duration(0)
	pick := func(d time.Duration) {
		if after == 0 || d < after {
			after = d
		}
	}
	for _, d := range o.drift {
		if d.Reason == securityv1alpha1.DriftConflict {
			pick(retryConflictsAfter)
			break
		}
	}
	if len(o.missingKinds) > 0 {
		pick(retryMissingCRDsAfter)
	}
	if o.rejected > 0 || o.held > 0 {
		// Running pods are not watched: a namespace holding its enforce level back is checked
		// again after a while.
		pick(rejectedRetryAfter)
	}
	if o.reportsFailed {
		pick(recheckReportKindsAfter)
	}
	if o.written > 0 {
		// The watch events of the writes bring the baseline back; this is only a safety net.
		pick(confirmWritesAfter)
	}
	return ctrl.Result{RequeueAfter: after}, nil
}

// nextInventory lists the declared objects that every target namespace holds as the
// baseline's after a pass without transient failures; otherwise the inventory stays.
func nextInventory(s *scope, results []*namespaceResult, obs *observation) []string {
	if len(obs.errs) > 0 {
		return nil
	}
	inventory := []string{}
	for _, d := range s.declared {
		everywhere := true
		for _, res := range results {
			if res == nil || !res.complete && !res.ours[desired.Key{Kind: d.Kind, Namespace: res.namespace, Name: d.Name}] {
				everywhere = false
				break
			}
		}
		if everywhere {
			inventory = append(inventory, inventoryEntry(d.Kind, d.Name))
		}
	}
	if s.b.Spec.PodSecurity != nil {
		podSecurity := true
		for _, d := range obs.drift {
			podSecurity = podSecurity && d.Kind != namespaceKind
		}
		if podSecurity {
			inventory = append(inventory, podSecurityEntry)
		}
	}
	sort.Strings(inventory)
	return inventory
}

func driftIdentity(d securityv1alpha1.Drift) string {
	return d.Namespace + "/" + d.Kind + "/" + d.Name + "/" + string(d.Reason)
}

func sortDrift(drift []securityv1alpha1.Drift) {
	sort.Slice(drift, func(i, j int) bool {
		a, b := drift[i], drift[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
}

// equalStatus tells whether two statuses are the same (a status write would change nothing).
func equalStatus(a, b securityv1alpha1.SecurityBaselineStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// computeStatus sets the baseline's status from an observation. It is pure, and stable: the
// same observation gives the same status, so an unchanged cluster causes no status write.
func computeStatus(b *securityv1alpha1.SecurityBaseline, obs *observation, now metav1.Time) {
	st := &b.Status
	st.ObservedGeneration = b.Generation
	if obs.suspended {
		// Suspended is settled, not pending and not failed: kstatus reads Current, Argo CD's
		// health check Suspended (from spec.suspend). Nothing is judged while suspended, so
		// there is no Ready verdict either; the counts are those of the last pass.
		meta.RemoveStatusCondition(&st.Conditions, securityv1alpha1.ConditionReady)
		meta.RemoveStatusCondition(&st.Conditions, securityv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(&st.Conditions, securityv1alpha1.ConditionStalled)
		return
	}
	if obs.invalidSpec != "" {
		setCondition(b, securityv1alpha1.ConditionReady, metav1.ConditionFalse, securityv1alpha1.ReasonInvalidSpec, obs.invalidSpec)
		setCondition(b, securityv1alpha1.ConditionStalled, metav1.ConditionTrue, securityv1alpha1.ReasonInvalidSpec, obs.invalidSpec)
		meta.RemoveStatusCondition(&st.Conditions, securityv1alpha1.ConditionReconciling)
		return
	}
	if obs.inventory != nil {
		st.Inventory = obs.inventory
	}

	previous := map[string]bool{}
	for _, d := range st.Drift {
		previous[driftIdentity(d)] = true
	}
	sortDrift(obs.drift)
	sortDrift(obs.corrected)
	st.MatchedNamespaces = int32(obs.matched)
	st.CompliantNamespaces = int32(obs.compliant)
	st.ManagedObjects = int32(obs.managed)
	st.DriftedObjects = int32(len(obs.drift))
	st.PodSecurityViolations = int32(obs.violatingPods)
	st.ReportKind = obs.reportKind
	st.DriftCorrections += int64(len(obs.corrected))
	st.Drift = nil
	if len(obs.drift) > 0 {
		st.Drift = append([]securityv1alpha1.Drift(nil), obs.drift[:min(len(obs.drift), maxDriftEntries)]...)
	}

	// lastDrift moves only when a drift not seen before appears.
	var fresh []securityv1alpha1.Drift
	fresh = append(fresh, obs.corrected...)
	for _, d := range obs.drift {
		// A failed write is no drift: the object did not change, the operator could not.
		if !previous[driftIdentity(d)] && d.Reason != securityv1alpha1.DriftFailed {
			fresh = append(fresh, d)
		}
	}
	if len(fresh) > 0 && (st.LastDrift == nil || len(obs.corrected) > 0 || driftIdentity(*st.LastDrift) != driftIdentity(fresh[0])) {
		last := fresh[0]
		last.Time = &now
		st.LastDrift = &last
	}

	driftCondition(b, obs)
	healthConditions(b, obs)
}

func driftCondition(b *securityv1alpha1.SecurityBaseline, obs *observation) {
	prev := meta.FindStatusCondition(b.Status.Conditions, securityv1alpha1.ConditionDriftDetected)
	switch {
	case len(obs.drift) > 0:
		setCondition(b, securityv1alpha1.ConditionDriftDetected, metav1.ConditionTrue, securityv1alpha1.ReasonDriftFound,
			fmt.Sprintf("%d objects differ from the spec", len(obs.drift)))
	case len(obs.corrected) > 0 || (prev != nil && prev.Reason == securityv1alpha1.ReasonDriftCorrected):
		setCondition(b, securityv1alpha1.ConditionDriftDetected, metav1.ConditionFalse, securityv1alpha1.ReasonDriftCorrected,
			fmt.Sprintf("drift was repaired; %d corrections so far", b.Status.DriftCorrections))
	default:
		setCondition(b, securityv1alpha1.ConditionDriftDetected, metav1.ConditionFalse, securityv1alpha1.ReasonNoDrift,
			"every managed object matches the spec")
	}
}

// healthConditions sets Ready, Reconciling and Stalled so that kstatus (Flux) and the Argo CD
// health check read the contract's GitOps health: Stalled=True (Failed, Degraded) for what
// needs a human, Reconciling=True (InProgress, Progressing) while writes are being confirmed
// or retried, otherwise Ready=True (Current, Healthy). Stalled and Reconciling are never both
// True: kstatus takes whichever comes first.
func healthConditions(b *securityv1alpha1.SecurityBaseline, obs *observation) {
	conditions := &b.Status.Conditions
	summary := fmt.Sprintf("%d of %d namespaces compliant", obs.compliant, obs.matched)
	if reason, message := stalledReason(b, obs); reason != "" {
		setCondition(b, securityv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
		meta.RemoveStatusCondition(conditions, securityv1alpha1.ConditionReconciling)
		setCondition(b, securityv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message+"; "+summary)
		return
	}
	meta.RemoveStatusCondition(conditions, securityv1alpha1.ConditionStalled)
	if progress := progressMessage(obs); progress != "" {
		setCondition(b, securityv1alpha1.ConditionReconciling, metav1.ConditionTrue, securityv1alpha1.ReasonProgressing, progress)
		setCondition(b, securityv1alpha1.ConditionReady, metav1.ConditionUnknown, securityv1alpha1.ReasonProgressing, progress)
		return
	}
	meta.RemoveStatusCondition(conditions, securityv1alpha1.ConditionReconciling)
	if obs.compliant == obs.matched && len(obs.drift) == 0 {
		setCondition(b, securityv1alpha1.ConditionReady, metav1.ConditionTrue, securityv1alpha1.ReasonCompliant, summary)
		return
	}
	setCondition(b, securityv1alpha1.ConditionReady, metav1.ConditionFalse, securityv1alpha1.ReasonNotCompliant, summary)
}

// progressMessage says what is in progress: failed writes being retried, or writes of this
// pass not yet seen back through the watches. Empty when nothing is.
func progressMessage(obs *observation) string {
	switch {
	case len(obs.errs) > 0:
		return fmt.Sprintf("%d writes failed and are retried", len(obs.errs))
	case obs.written > 0:
		return fmt.Sprintf("rolling out: %d namespaces changed, confirming", obs.written)
	}
	return ""
}

// stalledReason names what blocks progress until the spec or the cluster changes, if anything:
// a permanent problem, or drift that Audit mode reports and does not repair.
func stalledReason(b *securityv1alpha1.SecurityBaseline, obs *observation) (reason, message string) {
	counts := map[securityv1alpha1.DriftReason]int{}
	for _, d := range obs.drift {
		counts[d.Reason]++
	}
	switch {
	case len(obs.missingKinds) > 0:
		return securityv1alpha1.ReasonCRDNotInstalled, "CRD not installed: " + strings.Join(obs.missingKinds, ", ")
	case counts[securityv1alpha1.DriftConflict] > 0:
		return securityv1alpha1.ReasonConflict, fmt.Sprintf("%d objects conflict with objects or labels the baseline does not manage", counts[securityv1alpha1.DriftConflict])
	case counts[securityv1alpha1.DriftForbidden] > 0:
		return securityv1alpha1.ReasonForbidden, fmt.Sprintf("%d objects may not be written by the operator%s",
			counts[securityv1alpha1.DriftForbidden], firstMessage(obs.drift, securityv1alpha1.DriftForbidden))
	case obs.held > 0:
		return securityv1alpha1.ReasonPodSecurityViolations, fmt.Sprintf("%d namespaces hold their enforce level back: %d running pods violate it%s",
			obs.held, obs.violatingPods, firstMessage(obs.drift, securityv1alpha1.DriftFailed))
	case obs.invalid > 0:
		return securityv1alpha1.ReasonInvalidSpec, fmt.Sprintf("the API server rejected %d objects as invalid%s",
			obs.invalid, firstMessage(obs.drift, securityv1alpha1.DriftFailed))
	case b.Spec.Mode == securityv1alpha1.ModeAudit && len(obs.drift) > 0 && len(obs.errs) == 0:
		return securityv1alpha1.ReasonDriftFound, fmt.Sprintf("Audit mode: %d objects differ from the spec; Enforce would repair them", len(obs.drift))
	}
	return "", ""
}

// firstMessage quotes the message of the first drift entry of a reason (drift is sorted).
func firstMessage(drift []securityv1alpha1.Drift, reason securityv1alpha1.DriftReason) string {
	for _, d := range drift {
		if d.Reason == reason && d.Message != "" {
			return ": " + d.Namespace + "/" + d.Name + ": " + d.Message
		}
	}
	return ""
}

func setCondition(b *securityv1alpha1.SecurityBaseline, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{
		Type: condType, Status: status, Reason: reason, Message: message, ObservedGeneration: b.Generation,
	})
}
