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
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// upgradeCreateOwnership moves the fields the baseline's field manager owns since it created the
// object (an Update entry in managedFields) to its Server-Side Apply entry, as
// kubectl apply --server-side does with client-go's csaupgrade, so that an apply no longer
// declaring a field removes it. It returns the object's metadata after the move, or an error
// when the object is not the one compared (it changed meanwhile: judged again on retry).
func (r *SecurityBaselineReconciler) upgradeCreateOwnership(ctx context.Context, o desired.Object, live client.Object, manager string) (client.Object, error) {
	current := &metav1.PartialObjectMetadata{}
	current.SetGroupVersionKind(o.GVK)
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(live), current); err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", o.GVK.Kind, o.Namespace, o.Name, err)
	}
	if current.UID != live.GetUID() || current.ResourceVersion != live.GetResourceVersion() {
		return nil, fmt.Errorf("%s %s/%s changed since it was compared", o.GVK.Kind, o.Namespace, o.Name)
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(current, sets.New(manager), manager)
	if err != nil || patch == nil {
		return current, err
	}
	if err := r.Patch(ctx, current, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return nil, fmt.Errorf("moving field ownership of %s %s/%s to Server-Side Apply: %w", o.GVK.Kind, o.Namespace, o.Name, err)
	}
	return current, nil
}

// changedBySomeoneElse tells whether a difference between the baseline's own object and the
// spec is drift: the object still carries the hash of the current spec (or someone removed
// the hash, which the operator always writes). A hash of another spec means the operator wrote
// it for an earlier generation: updating it is a rollout.
func changedBySomeoneElse(live client.Object, o desired.Object) bool {
	hash := live.GetAnnotations()[desired.SpecHashAnnotation]
	return hash == "" || hash == o.Hash
}

// write creates a missing object (live nil), or applies the declared fields to the baseline's
// own object under an optimistic lock on the resourceVersion it was judged at, so nothing
// written in between, by anyone, is overwritten. drift is what Audit would report; isDrift says
// whether a success repairs drift (counted, evented) or rolls out the spec.
func (r *SecurityBaselineReconciler) write(ctx context.Context, s *scope, o desired.Object, live client.Object,
	drift securityv1alpha1.Drift, isDrift bool, res *namespaceResult,
) {
	key := o.Key()
	if s.b.Spec.Mode == securityv1alpha1.ModeAudit {
		res.report(drift)
		return
	}
	uid, resourceVersion := types.UID(""), ""
	if live != nil {
		uid, resourceVersion = live.GetUID(), live.GetResourceVersion()
	}
	if v := s.verdicts.lookup(key, uid, resourceVersion, s.b.Generation, time.Now()); v != nil && v.drift != nil {
		res.reportVerdict(v)
		return
	}
	u, err := o.Unstructured()
	if err != nil {
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, err.Error()
		res.report(drift)
		return
	}
	manager := client.FieldOwner(desired.FieldManager(s.b.Name))
	if live == nil {
		err = r.Create(ctx, u, manager)
	} else {
		u.SetResourceVersion(resourceVersion)
		err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), manager, client.ForceOwnership)
	}
	if err != nil {
		r.writeFailed(s, key, uid, resourceVersion, drift, err, res)
		return
	}
	res.ours[key], res.wrote = true, true
	s.verdicts.record(key, verdict{uid: u.GetUID(), resourceVersion: u.GetResourceVersion(), generation: s.b.Generation})
	if isDrift {
		res.corrected = append(res.corrected, drift)
		observeRepairLatency(drift.Kind, time.Since(s.started))
	} else {
		res.rolledOut = true
	}
}

// writeFailed sorts a failed write: another object took the name (Conflict); the server
// rejected the object or an admission policy denied it (permanent until something changes:
// stalled, its verdict kept for a while); anything else is retried with backoff.
func (r *SecurityBaselineReconciler) writeFailed(s *scope, key desired.Key, uid types.UID, resourceVersion string,
	drift securityv1alpha1.Drift, err error, res *namespaceResult,
) {
	message := serverMessage(key, err)
	switch {
	case apierrors.IsAlreadyExists(err):
		drift.Reason, drift.Message = securityv1alpha1.DriftConflict,
			fmt.Sprintf("a %s named %s was created by someone else", key.Kind, key.Name)
		r.reportConflict(s, drift, res)
		return
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		// The object changed (or went) since the cache showed it: judge it again.
		res.errs = append(res.errs, fmt.Errorf("writing %s %s/%s: %w", key.Kind, key.Namespace, key.Name, err))
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, "write failed: the object changed meanwhile; retrying"
		res.report(drift)
		return
	case apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err):
		drift.Reason = securityv1alpha1.DriftFailed
		if apierrors.IsForbidden(err) {
			drift.Reason = securityv1alpha1.DriftForbidden
		}
		drift.Message = "write rejected: " + message
		res.rejected++
		if drift.Reason == securityv1alpha1.DriftFailed {
			res.invalid++
		}
		s.verdicts.record(key, verdict{uid: uid, resourceVersion: resourceVersion, generation: s.b.Generation,
			drift: &drift, expires: time.Now().Add(rejectedRetryAfter)})
	default:
		reason := string(apierrors.ReasonForError(err))
		if reason == "" {
			reason = "the API server did not answer; retrying"
		}
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, "write failed: "+reason
		res.errs = append(res.errs, fmt.Errorf("writing %s %s/%s: %w", key.Kind, key.Namespace, key.Name, err))
	}
	res.report(drift)
	r.Recorder.Eventf(s.b, relatedObject(key), corev1.EventTypeWarning, securityv1alpha1.EventApplyFailed, "Apply",
		"%s %s/%s: %s", drift.Kind, drift.Namespace, drift.Name, drift.Message)
}

// serverMessage is what status and events may quote of the API server's answer. For a secret
// store only the rejected fields are named, never their values: a store's spec may hold
// credentials the server would echo back.
func serverMessage(key desired.Key, err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err.Error()
	}
	if _, builtin := builtinKinds[gvkOfKind(key.Kind)]; builtin {
		return status.Status().Message
	}
	var fields []string
	if details := status.Status().Details; details != nil {
		for _, c := range details.Causes {
			fields = append(fields, c.Field+" ("+string(c.Type)+")")
		}
	}
	return fmt.Sprintf("%s (%s)", status.Status().Reason, strings.Join(fields, ", "))
}

// gvkOfKind returns the kind and version of a managed kind by its name.
func gvkOfKind(kind string) schema.GroupVersionKind {
	for _, gvk := range desired.ManagedGVKs {
		if gvk.Kind == kind {
			return gvk
		}
	}
	return schema.GroupVersionKind{Kind: kind}
}

// deleteOwned deletes an object of the baseline, only if it is still the one judged (UID).
func (r *SecurityBaselineReconciler) deleteOwned(ctx context.Context, live client.Object, key desired.Key, res *namespaceResult) bool {
	res.wrote = true
	if err := r.deleteIfOwned(ctx, live, key); err != nil {
		res.errs = append(res.errs, err)
		return false
	}
	res.rolledOut = true
	return true
}
