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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// namespaceKind names a Namespace in drift entries (its Pod Security labels).
const namespaceKind = "Namespace"

func namespaceKey(ns string) desired.Key {
	return desired.Key{Kind: namespaceKind, Namespace: ns, Name: ns}
}

// convergePodSecurity keeps the baseline's Pod Security labels on a target Namespace. When a
// baseline created earlier also selects the namespace and sets a different level, this one
// reports a Conflict and does not write, so the two never flap. A label someone else changed or
// removed is restored (drift); one the baseline wrote for an earlier spec is updated (rollout).
func (r *SecurityBaselineReconciler) convergePodSecurity(ctx context.Context, s *scope, ns *corev1.Namespace, res *namespaceResult) {
	b, key := s.b, namespaceKey(ns.Name)
	manager := desired.FieldManager(b.Name)
	want := s.podSecurity
	if len(want) == 0 {
		if b.Spec.Mode != securityv1alpha1.ModeAudit && hasFieldManager(ns, manager) {
			if err := r.releasePodSecurityLabels(ctx, b, ns); err != nil {
				res.errs = append(res.errs, err)
			} else {
				res.wrote, res.rolledOut = true, true
			}
		}
		return
	}
	res.managed++
	if v := s.verdicts.lookup(key, ns.UID, ns.ResourceVersion, b.Generation, time.Now()); v != nil {
		if v.drift != nil {
			res.reportVerdict(v) // a write rejected moments ago: not sent again before it expires
		}
		return
	}
	drift := securityv1alpha1.Drift{Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name}
	if label, peer := earlierPeerSetting(s, ns, want); peer != "" {
		drift.Reason = securityv1alpha1.DriftConflict
		drift.Message = fmt.Sprintf("label %s is set to %q by SecurityBaseline %s, created earlier", label, ns.Labels[label], peer)
		r.reportConflict(s, drift, res)
		return
	}
	owned, err := ownedLabels(ns, manager)
	if err != nil {
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, err.Error()
		res.report(drift)
		return
	}
	cmp := comparePodSecurity(ns.Labels, owned, want)
	if !cmp.needsApply {
		s.verdicts.record(key, verdict{uid: ns.UID, resourceVersion: ns.ResourceVersion, generation: b.Generation})
		return
	}
	drift.Reason = cmp.reason
	isDrift := cmp.changedByOthers || cmp.reason == securityv1alpha1.DriftMissing && s.inventory.Has(podSecurityEntry) && s.holdsBaseline(ns.Name)
	drift.Message = "Pod Security labels differ from the spec: " + strings.Join(cmp.changed, ", ")
	if raisesEnforce(ns.Labels, want) {
		if want = r.checkRunningPods(ctx, s, ns, want, owned, res); want == nil {
			return
		}
	}
	if b.Spec.Mode == securityv1alpha1.ModeAudit {
		if drift.Reason != "" {
			res.report(drift)
		}
		return
	}
	if res.podSecurityHeld && !comparePodSecurity(ns.Labels, owned, want).needsApply {
		return
	}
	if err := r.Apply(ctx, desired.NamespaceLabels(ns.Name, want), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		r.writeFailed(s, key, ns.UID, ns.ResourceVersion, drift, err, res)
		return
	}
	res.wrote = true
	// Labels held back are reported, not repaired: restoring the others is no correction.
	if isDrift && drift.Reason != "" && !res.podSecurityHeld {
		res.corrected = append(res.corrected, drift)
		observeRepairLatency(drift.Kind, time.Since(s.started))
	} else {
		res.rolledOut = true
	}
}

// checkRunningPods dry-runs the Pod Security labels before they set or raise the enforce level
// of a namespace, and records the running pods that violate it. It returns the labels to
// apply: want, or want with the enforce level held back (onViolation: Hold, in Enforce mode,
// reported as drift); nil when the dry run failed (retried).
func (r *SecurityBaselineReconciler) checkRunningPods(ctx context.Context, s *scope, ns *corev1.Namespace,
	want, owned map[string]string, res *namespaceResult,
) map[string]string {
	// A recent outcome (same namespace resourceVersion, same generation) is reused only where it
	// writes no enforce label: violations found (held back, or Audit). Before setting enforce,
	// the pods are always checked again.
	key := desired.Key{Kind: podSecurityCheckKind, Namespace: ns.Name}
	v := s.verdicts.lookup(key, ns.UID, ns.ResourceVersion, s.b.Generation, time.Now())
	if v == nil || v.podSecurity == nil || v.podSecurity.pods == 0 && s.b.Spec.Mode != securityv1alpha1.ModeAudit {
		violations, pods, err := r.dryRunPodSecurity(ctx, ns, want, desired.FieldManager(s.b.Name))
		if err != nil {
			res.errs = append(res.errs, fmt.Errorf("dry-running the Pod Security labels of namespace %s: %w", ns.Name, err))
			res.compliant = false
			return nil
		}
		v = &verdict{uid: ns.UID, resourceVersion: ns.ResourceVersion, generation: s.b.Generation,
			podSecurity: &podSecurityFinding{violations: violations, pods: pods}, expires: time.Now().Add(rejectedRetryAfter)}
		s.verdicts.record(key, *v)
		res.dryRan = true
	}
	c := v.podSecurity
	pods := c.pods
	res.checkedPods, res.violations, res.violatingPods = true, c.violations, pods
	if pods == 0 || s.b.Spec.Mode == securityv1alpha1.ModeAudit || s.b.Spec.PodSecurity.OnViolation != securityv1alpha1.PodSecurityViolationHold {
		return want
	}
	res.podSecurityHeld = true
	res.report(securityv1alpha1.Drift{Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name, Reason: securityv1alpha1.DriftFailed,
		Message: fmt.Sprintf("enforce level %s held back: %d running pods violate it (spec.podSecurity.onViolation: Hold)", want[enforceLabel], pods)})
	return holdEnforce(want, ns.Labels, owned)
}

// podSecurityComparison is how a Namespace's Pod Security labels compare with the spec.
type podSecurityComparison struct {
	// needsApply: a label is missing, differs, is not owned by the baseline yet, or is owned
	// but no longer declared (released by the apply).
	needsApply bool
	// reason is Missing when a declared label is absent, else Modified when one differs.
	reason securityv1alpha1.DriftReason
	// changedByOthers: a declared label holds a value the baseline did not write.
	changedByOthers bool
	// changed lists the declared labels that differ, sorted.
	changed []string
}

// comparePodSecurity compares the labels of a Namespace, and those of them the baseline's field
// manager owns, with the labels the baseline declares.
func comparePodSecurity(labels, owned, want map[string]string) podSecurityComparison {
	var c podSecurityComparison
	for _, k := range sortedKeys(want) {
		current, has := labels[k]
		_, ours := owned[k]
		c.needsApply = c.needsApply || !ours
		if has && current == want[k] {
			continue
		}
		c.needsApply = true
		c.changed = append(c.changed, k)
		switch {
		case !has:
			c.reason = securityv1alpha1.DriftMissing
		case c.reason == "":
			c.reason = securityv1alpha1.DriftModified
		}
		c.changedByOthers = c.changedByOthers || has && !ours
	}
	for k := range owned {
		_, wanted := want[k]
		c.needsApply = c.needsApply || !wanted
	}
	return c
}

// earlierPeerSetting returns a Pod Security label of want that a baseline created before this
// one, and selecting the namespace too, sets to another value, and that baseline's name. It is
// decided from the baselines themselves, not from who wrote the label, so a namespace created
// after both baselines gets the earlier one's level at once.
func earlierPeerSetting(s *scope, ns *corev1.Namespace, want map[string]string) (label, peer string) {
	for _, p := range s.peers {
		if !createdBefore(p, s.b) {
			continue
		}
		if selected, _, err := desired.Selects(p, ns.Name, ns.Labels, nil); err != nil || !selected {
			continue
		}
		theirs := desired.PodSecurityLabels(p.Spec.PodSecurity)
		for _, k := range sortedKeys(want) {
			if v, ok := theirs[k]; ok && v != want[k] {
				return k, p.Name
			}
		}
	}
	return "", ""
}

// createdBefore orders baselines by creation, then by name.
func createdBefore(a, b *securityv1alpha1.SecurityBaseline) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// ownedLabels returns the Pod Security labels a field manager owns on a Namespace, as
// client-go's apply-configuration extraction reads them from managedFields.
func ownedLabels(ns *corev1.Namespace, manager string) (map[string]string, error) {
	if !hasFieldManager(ns, manager) {
		return nil, nil
	}
	ac, err := corev1ac.ExtractNamespace(ns, manager)
	if err != nil {
		return nil, fmt.Errorf("reading the Pod Security labels of namespace %s: %w", ns.Name, err)
	}
	owned := map[string]string{}
	for k, v := range ac.Labels {
		if strings.HasPrefix(k, desired.PodSecurityLabelPrefix) {
			owned[k] = v
		}
	}
	return owned, nil
}

// releasePodSecurityLabels takes the baseline's Pod Security labels off a Namespace: applying
// no labels with the baseline's field manager removes the labels only it owns.
func (r *SecurityBaselineReconciler) releasePodSecurityLabels(ctx context.Context, b *securityv1alpha1.SecurityBaseline, ns *corev1.Namespace) error {
	manager := desired.FieldManager(b.Name)
	if !hasFieldManager(ns, manager) {
		return nil
	}
	if err := r.Apply(ctx, desired.NamespaceLabels(ns.Name, nil), client.FieldOwner(manager), client.ForceOwnership); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("releasing Pod Security labels of namespace %s: %w", ns.Name, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
