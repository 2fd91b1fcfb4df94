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
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// namespaceResult is what converging one namespace found and did.
type namespaceResult struct {
	namespace string
	compliant bool
	managed   int
	// drift lists objects still not as declared; corrected lists drift repaired now;
	// conflicts lists conflicts not reported before (one Warning event each).
	drift, corrected, conflicts []securityv1alpha1.Drift
	// ours holds the declared objects that are this baseline's in the namespace after the pass.
	ours map[desired.Key]bool
	// held maps a declared object that is not the baseline's to why (for dependents).
	held map[desired.Key]securityv1alpha1.DriftReason
	// errs are transient failures, retried with backoff.
	errs []error
	// rejected counts writes the server rejected (Invalid, Forbidden), invalid those it found
	// Invalid: no retry until the spec or the object changes, or rejectedRetryAfter passes.
	rejected, invalid int
	// complete: every declared object is the baseline's; settled: the namespace verdict held
	// (exactly the declared objects, all as declared); wrote: this pass wrote in the namespace.
	complete, settled, wrote bool
	// checkedPods: the running pods were checked against the enforce level about to be set
	// or raised (dryRan: by a dry run of this pass, not a recent one's outcome); violations are
	// the running pods that violate it (groups, capped), violatingPods counts them all, and
	// podSecurityHeld says the enforce level was held back (onViolation: Hold).
	checkedPods, dryRan, podSecurityHeld bool
	// rolledOut: this pass wrote in the namespace for another reason than repairing drift (a
	// creation, a spec change, a prune): the rollout is confirmed by the next pass.
	rolledOut     bool
	violations    []podViolation
	violatingPods int
}

func (res *namespaceResult) report(d securityv1alpha1.Drift) {
	res.compliant = false
	res.drift = append(res.drift, d)
	res.held[desired.Key{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name}] = d.Reason
}

// reportVerdict reports the drift a verdict holds, counting a rejected write as such.
func (res *namespaceResult) reportVerdict(v *verdict) {
	res.report(*v.drift)
	if !v.expires.IsZero() {
		res.rejected++
		if v.drift.Reason == securityv1alpha1.DriftFailed {
			res.invalid++
		}
	}
}

// convergeNamespace brings one namespace to the baseline: its Pod Security labels first, then
// every declared object in spec order (NetworkPolicies, Roles, RoleBindings, ServiceAccounts,
// secret stores), so an object's dependencies are decided before it. Objects whose verdict is
// still valid are not built or compared again.
func (r *SecurityBaselineReconciler) convergeNamespace(ctx context.Context, s *scope, ns *corev1.Namespace) *namespaceResult {
	res := &namespaceResult{namespace: ns.Name, compliant: true, managed: len(s.declared),
		ours: map[desired.Key]bool{}, held: map[desired.Key]securityv1alpha1.DriftReason{}}
	now := time.Now()
	passKey, stamp := s.namespaceStamp(ns)
	if s.settled[ns.Name] {
		if len(s.podSecurity) > 0 {
			res.managed++ // the Namespace's Pod Security labels
		}
		res.complete, res.settled = true, true
		return res
	}
	defer func() {
		if res.compliant && !res.wrote && len(res.errs) == 0 && res.complete && !s.holdsUndeclared(ns.Name) {
			s.verdicts.record(passKey, verdict{uid: ns.UID, resourceVersion: stamp, generation: s.b.Generation})
		}
	}()
	r.convergePodSecurity(ctx, s, ns, res)
	if r.reportJudged(s, ns, now, res) {
		return res
	}
	objs, err := desired.ForNamespace(s.b, ns.Name)
	if err != nil {
		res.report(securityv1alpha1.Drift{Namespace: ns.Name, Kind: "SecurityBaseline", Name: s.b.Name,
			Reason: securityv1alpha1.DriftFailed, Message: err.Error()})
		return res
	}
	res.complete = true
	for _, o := range objs {
		if s.served[o.GVK] {
			r.convergeObject(ctx, s, o, res, now)
			res.complete = res.complete && res.ours[o.Key()]
		}
	}
	return res
}

// reportJudged reports the declared objects of a namespace from their verdicts when every one
// has a valid verdict (the common case at rest), and tells whether it did.
func (r *SecurityBaselineReconciler) reportJudged(s *scope, ns *corev1.Namespace, now time.Time, res *namespaceResult) bool {
	verdicts := make([]*verdict, 0, len(s.declared))
	for _, d := range s.declared {
		key := desired.Key{Kind: d.Kind, Namespace: ns.Name, Name: d.Name}
		live := s.ownedObject(key)
		if live == nil {
			return false
		}
		v := s.verdicts.lookup(key, live.GetUID(), live.GetResourceVersion(), s.b.Generation, now)
		if v == nil {
			return false
		}
		verdicts = append(verdicts, v)
	}
	res.complete = true
	for _, v := range verdicts {
		if v.drift != nil {
			res.reportVerdict(v)
		}
	}
	return true
}

// convergeObject decides one declared object: the baseline's own is compared and repaired;
// a name held by an object the baseline does not own is a Conflict, never touched; an object
// whose dependency is not the baseline's is held back; a missing one is created.
func (r *SecurityBaselineReconciler) convergeObject(ctx context.Context, s *scope, o desired.Object, res *namespaceResult, now time.Time) {
	key := o.Key()
	drift := securityv1alpha1.Drift{Namespace: o.Namespace, Kind: o.GVK.Kind, Name: o.Name}
	if dep, reason := unmetDependency(s, o, res); dep != nil {
		drift.Reason = reason
		drift.Message = fmt.Sprintf("held back: it depends on %s %s, which is not this baseline's in this namespace", dep.Kind, dep.Name)
		if live := s.ownedObject(key); live != nil && s.b.Spec.Mode != securityv1alpha1.ModeAudit {
			r.deleteOwned(ctx, live, key, res) // never let it grant or use what another owner controls
		}
		if reason == securityv1alpha1.DriftConflict {
			r.reportConflict(s, drift, res)
		} else {
			res.report(drift) // its dependency's own failure is reported (and evented) already
		}
		return
	}
	if live := s.ownedObject(key); live != nil {
		res.ours[key] = true
		if v := s.verdicts.lookup(key, live.GetUID(), live.GetResourceVersion(), s.b.Generation, now); v != nil {
			if v.drift != nil {
				res.reportVerdict(v)
			}
			return
		}
		r.convergeOwned(ctx, s, o, live, drift, res)
		return
	}
	if other := s.inTheWay(key); other != nil {
		if ownedBy(other, s.b.UID) {
			if other.GetLabels()[desired.LabelBaseline] == s.b.Name && other.GetAnnotations()[desired.SpecHashAnnotation] == o.Hash {
				res.ours[key] = true // ours, written moments ago: its watch event brings it to the cache
				return
			}
			// Ours (the ownerReference says so) with its labels taken off: restore them.
			res.ours[key] = true
			drift.Reason, drift.Message = securityv1alpha1.DriftModified, "labels differ from the spec"
			r.write(ctx, s, o, other, drift, changedBySomeoneElse(other, o), res)
			return
		}
		drift.Reason, drift.Message = securityv1alpha1.DriftConflict, conflictMessage(o, other)
		r.reportConflict(s, drift, res)
		return
	}
	drift.Reason, drift.Message = securityv1alpha1.DriftMissing, "object does not exist"
	r.write(ctx, s, o, nil, drift, s.wasConverged(key), res)
}

// convergeOwned compares an object the baseline owns with the spec and repairs it (Enforce) or
// reports it (Audit). A difference counts as drift only when the object still carries the hash
// of the current spec: then someone else changed it; otherwise the spec changed (a rollout).
func (r *SecurityBaselineReconciler) convergeOwned(ctx context.Context, s *scope, o desired.Object, live client.Object,
	drift securityv1alpha1.Drift, res *namespaceResult,
) {
	key := o.Key()
	want, err := apply.ToMap(o.Apply)
	if err == nil {
		var liveMap map[string]any
		if liveMap, err = apply.ToMap(live); err == nil {
			drift.Message = ""
			if path := apply.Diff(want, liveMap); path != "" {
				drift.Message = "field " + path + " differs from the spec"
			}
		}
	}
	if err != nil {
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, err.Error()
		res.report(drift)
		return
	}
	replace := roleRefChanged(o, live)
	if drift.Message == "" && !replace {
		s.verdicts.record(key, verdict{uid: live.GetUID(), resourceVersion: live.GetResourceVersion(), generation: s.b.Generation})
		return
	}
	drift.Reason = securityv1alpha1.DriftModified
	if replace {
		drift.Message = "roleRef differs from the spec"
	}
	isDrift := changedBySomeoneElse(live, o)
	if s.b.Spec.Mode == securityv1alpha1.ModeAudit {
		res.report(drift)
		s.verdicts.record(key, verdict{uid: live.GetUID(), resourceVersion: live.GetResourceVersion(), generation: s.b.Generation, drift: &drift})
		return
	}
	if replace {
		// roleRef is immutable: the RoleBinding is replaced, whatever else changed with it.
		if !r.deleteOwned(ctx, live, key, res) {
			return
		}
		r.write(ctx, s, o, nil, drift, isDrift, res)
		return
	}
	if _, builtin := builtinKinds[o.GVK]; !isDrift && !builtin {
		// A rollout may stop declaring a field the operator set when it created the object. Only
		// secret stores can hold such a field: every field declared on the built-in kinds is
		// atomic (rules, subjects, roleRef, the policy spec's lists and selectors) or a map
		// whose keys never change (labels, annotations), so a new apply replaces it whole.
		upgraded, err := r.upgradeCreateOwnership(ctx, o, live, desired.FieldManager(s.b.Name))
		if err != nil {
			res.errs = append(res.errs, err)
			drift.Reason, drift.Message = securityv1alpha1.DriftFailed, "write failed: the object changed meanwhile; retrying"
			res.report(drift)
			return
		}
		live = upgraded
	}
	r.write(ctx, s, o, live, drift, isDrift, res)
}

// roleRefChanged tells whether a live RoleBinding grants another role than the declared one.
func roleRefChanged(o desired.Object, live client.Object) bool {
	rb, ok := live.(*rbacv1.RoleBinding)
	want, declared := o.Apply.(*rbacv1ac.RoleBindingApplyConfiguration)
	if !ok || !declared || want.RoleRef == nil {
		return false
	}
	return ptr.Deref(want.RoleRef.APIGroup, "") != rb.RoleRef.APIGroup ||
		ptr.Deref(want.RoleRef.Kind, "") != rb.RoleRef.Kind || ptr.Deref(want.RoleRef.Name, "") != rb.RoleRef.Name
}

// unmetDependency returns the object o depends on when it is not the baseline's in o's
// namespace, and the reason to report o with: in Enforce, a dependency is met once written in
// this pass; in Audit, a missing dependency would be created, so only one in the way counts.
func unmetDependency(s *scope, o desired.Object, res *namespaceResult) (*desired.Key, securityv1alpha1.DriftReason) {
	for i := range o.DependsOn {
		dep := o.DependsOn[i]
		if res.ours[dep] {
			continue
		}
		reason, held := res.held[dep]
		if !held {
			continue
		}
		if s.b.Spec.Mode == securityv1alpha1.ModeAudit && reason == securityv1alpha1.DriftMissing {
			continue
		}
		return &dep, reason
	}
	return nil, ""
}

// reportConflict reports an object the baseline may not write, with one Warning event the
// first time (a conflict the last status did not list).
func (r *SecurityBaselineReconciler) reportConflict(s *scope, drift securityv1alpha1.Drift, res *namespaceResult) {
	res.report(drift)
	if id := driftIdentity(drift); s.verdicts.firstSeen(id) && !s.reported.Has(id) {
		res.conflicts = append(res.conflicts, drift)
	}
}

func conflictMessage(o desired.Object, other client.Object) string {
	if owner := other.GetLabels()[desired.LabelBaseline]; owner != "" && other.GetLabels()[desired.LabelManagedBy] == desired.OperatorName {
		return fmt.Sprintf("a %s named %s exists that this baseline does not own (labelled for SecurityBaseline %s, no ownerReference to this one)",
			o.GVK.Kind, o.Name, owner)
	}
	return fmt.Sprintf("a %s named %s exists and is not managed by this baseline", o.GVK.Kind, o.Name)
}
