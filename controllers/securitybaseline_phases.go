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
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// namespaceKind names a Namespace in drift entries (its Pod Security labels).
const namespaceKind = "Namespace"

// namespaceResult is what converging one namespace found and did.
type namespaceResult struct {
	namespace string
	compliant bool
	managed   int
	// drift lists objects still not as declared; corrected lists objects repaired now.
	drift, corrected []securityv1alpha1.Drift
	// errs are transient failures worth a retry with backoff.
	errs []error
}

func (res *namespaceResult) reportDrift(d securityv1alpha1.Drift) {
	res.compliant = false
	res.drift = append(res.drift, d)
}

// pass is one reconcile of one baseline: what it read once and shares across namespaces.
type pass struct {
	b *securityv1alpha1.SecurityBaseline
	// live holds the baseline's objects, from the label-filtered cache.
	live map[desired.Key]client.Object
	// served are the kinds the cluster serves now.
	served map[schema.GroupVersionKind]bool
	// declared are the kinds and names the baseline declares in every namespace.
	declared []desired.Key
	// foreign maps objects in the way that are not in the cache to the baseline label they
	// carry ("-" for none); filled only for declared names missing somewhere.
	foreign map[desired.Key]string
	// verdicts remembers how live objects compared with the spec (see verdict).
	verdicts *sync.Map
}

// verdict records how the object at a resourceVersion compared with what a generation of the
// baseline declares, so an unchanged object is not compared (or dry-run) again.
type verdict struct {
	resourceVersion string
	generation      int64
	// drift is nil when the object is as declared; in Audit mode it is the drift reported.
	drift *securityv1alpha1.Drift
}

// verdictFor returns the verdict still valid for a live object, or nil.
func (p *pass) verdictFor(key desired.Key, live client.Object) *verdict {
	if live == nil {
		return nil
	}
	v, ok := p.verdicts.Load(key)
	if !ok {
		return nil
	}
	if v := v.(*verdict); v.resourceVersion == live.GetResourceVersion() && v.generation == p.b.Generation {
		return v
	}
	return nil
}

// existed tells whether the object was seen before (a verdict of any generation): a missing
// object that existed was deleted (drift); one that never did is new.
func (p *pass) existed(key desired.Key) bool {
	_, ok := p.verdicts.Load(key)
	return ok
}

func (p *pass) remember(key desired.Key, resourceVersion string, drift *securityv1alpha1.Drift) {
	if resourceVersion != "" {
		p.verdicts.Store(key, &verdict{resourceVersion: resourceVersion, generation: p.b.Generation, drift: drift})
	}
}

// newPass reads what a reconcile of b needs: the baseline's live objects and, for declared
// names missing from some target namespace, the objects of that name the cache does not hold
// (see findForeign). A kind whose CRD is missing is left out; the observation reports it.
func (r *SecurityBaselineReconciler) newPass(ctx context.Context, b *securityv1alpha1.SecurityBaseline,
	targets, others []*corev1.Namespace, served map[schema.GroupVersionKind]bool, full bool,
) (*pass, error) {
	var inNamespaces []string
	if !full {
		for _, ns := range append(append([]*corev1.Namespace(nil), targets...), others...) {
			inNamespaces = append(inNamespaces, ns.Name)
		}
	}
	live, err := r.liveObjects(ctx, b, served, inNamespaces, full)
	if err != nil {
		return nil, err
	}
	verdicts, _ := r.verdicts.LoadOrStore(b.UID, &sync.Map{})
	p := &pass{b: b, live: live, served: served, verdicts: verdicts.(*sync.Map), foreign: map[desired.Key]string{}}
	template, err := desired.ForNamespace(b, "")
	if err != nil {
		return nil, err
	}
	for _, o := range template {
		if !served[o.GVK] {
			continue
		}
		p.declared = append(p.declared, desired.Key{Kind: o.GVK.Kind, Name: o.Name})
		var missing []desired.Key
		for _, ns := range targets {
			key := desired.Key{Kind: o.GVK.Kind, Namespace: ns.Name, Name: o.Name}
			if _, ok := live[key]; !ok {
				missing = append(missing, key)
			}
		}
		if err := r.findForeign(ctx, o.GVK, o.Name, missing, p.foreign); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// maxForeignReads is how many objects of one name findForeign reads one by one; beyond it,
// one list across namespaces is cheaper.
const maxForeignReads = 8

// findForeign records, for objects of a kind and name missing from the cache, the baseline label
// of any object of that name the cache does not hold: metadata only, read one by one when few
// are missing (drift), listed across namespaces when many are (a new baseline or name).
func (r *SecurityBaselineReconciler) findForeign(ctx context.Context, gvk schema.GroupVersionKind, name string, missing []desired.Key, into map[desired.Key]string) error {
	record := func(item *metav1.PartialObjectMetadata) {
		owner := "-"
		if item.Labels[desired.LabelManagedBy] == desired.OperatorName && item.Labels[desired.LabelBaseline] != "" {
			owner = item.Labels[desired.LabelBaseline]
		}
		into[desired.Key{Kind: gvk.Kind, Namespace: item.Namespace, Name: item.Name}] = owner
	}
	if len(missing) <= maxForeignReads {
		for _, key := range missing {
			item := &metav1.PartialObjectMetadata{}
			item.SetGroupVersionKind(gvk)
			err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Name}, item)
			switch {
			case err == nil:
				record(item)
			case !apierrors.IsNotFound(err):
				return fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, key.Namespace, key.Name, err)
			}
		}
		return nil
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.APIReader.List(ctx, list, client.MatchingFields{"metadata.name": name}); err != nil {
		return fmt.Errorf("listing %s named %s: %w", gvk.Kind, name, err)
	}
	for i := range list.Items {
		record(&list.Items[i])
	}
	return nil
}

// convergeNamespaces converges every target namespace, Workers at a time.
func (r *SecurityBaselineReconciler) convergeNamespaces(ctx context.Context, p *pass, targets []*corev1.Namespace) []*namespaceResult {
	results := make([]*namespaceResult, len(targets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(r.Workers, 1), len(targets)) {
		wg.Go(func() {
			for i := range next {
				results[i] = r.convergeNamespace(ctx, p, targets[i])
			}
		})
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// convergeNamespace brings one namespace to the baseline: its Pod Security labels first, then
// every declared object in spec order (NetworkPolicies, RBAC, secret stores). Objects with a
// verdict at their current resourceVersion are not built or compared again.
func (r *SecurityBaselineReconciler) convergeNamespace(ctx context.Context, p *pass, ns *corev1.Namespace) *namespaceResult {
	b := p.b
	res := &namespaceResult{namespace: ns.Name, compliant: true}
	r.convergePodSecurity(ctx, p, ns, res)

	allJudged := true
	for _, d := range p.declared {
		key := desired.Key{Kind: d.Kind, Namespace: ns.Name, Name: d.Name}
		res.managed++
		switch v := p.verdictFor(key, p.live[key]); {
		case v == nil:
			allJudged = false
		case v.drift != nil:
			res.reportDrift(*v.drift)
		}
	}
	if allJudged {
		return res
	}

	objs, err := desired.ForNamespace(b, ns.Name)
	if err != nil {
		res.reportDrift(securityv1alpha1.Drift{Namespace: ns.Name, Kind: "SecurityBaseline", Name: b.Name,
			Reason: securityv1alpha1.DriftFailed, Message: err.Error()})
		return res
	}
	for _, o := range objs {
		if p.served[o.GVK] && p.verdictFor(o.Key(), p.live[o.Key()]) == nil {
			r.convergeObject(ctx, p, o, res)
		}
	}
	return res
}

// convergePodSecurity keeps the baseline's Pod Security labels on a target Namespace. Another
// baseline created earlier that set a different level wins: this one reports a Conflict and
// does not write, so the two never flap. Labels set by anyone else are restored (drift).
func (r *SecurityBaselineReconciler) convergePodSecurity(ctx context.Context, p *pass, ns *corev1.Namespace, res *namespaceResult) {
	b, key := p.b, namespaceKey(ns.Name)
	want := desired.PodSecurityLabels(b.Spec.PodSecurity)
	if len(want) > 0 {
		res.managed++
	}
	if v := p.verdictFor(key, ns); v != nil && v.drift == nil {
		return
	}
	manager := desired.FieldManager(b.Name)
	owned := podSecurityOnly(apply.LabelsOwnedBy(ns.ManagedFields, manager))
	if len(want) == 0 {
		if len(owned) == 0 {
			p.remember(key, ns.ResourceVersion, nil)
		} else if b.Spec.Mode != securityv1alpha1.ModeAudit {
			if err := r.releasePodSecurityLabels(ctx, b, ns); err != nil {
				res.errs = append(res.errs, err)
			}
		}
		return
	}

	owners := apply.LabelOwners(ns.ManagedFields)
	var reason securityv1alpha1.DriftReason
	var changed []string
	needsApply := false
	for _, k := range sortedKeys(want) {
		current, has := ns.Labels[k]
		if !owned[k] {
			needsApply = true
		}
		if has && current == want[k] {
			continue
		}
		needsApply = true
		changed = append(changed, k)
		if !has {
			reason = securityv1alpha1.DriftMissing
		} else if reason == "" {
			reason = securityv1alpha1.DriftModified
		}
		if other := r.earlierBaselineOwning(ctx, b, owners[k]); other != "" {
			res.reportDrift(securityv1alpha1.Drift{Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name,
				Reason:  securityv1alpha1.DriftConflict,
				Message: fmt.Sprintf("label %s is set to %q by SecurityBaseline %s, created earlier", k, current, other)})
			return
		}
	}
	for k := range owned {
		if _, ok := want[k]; !ok {
			needsApply = true // a mode removed from the spec: release its label
		}
	}
	if !needsApply {
		p.remember(key, ns.ResourceVersion, nil)
		return
	}
	drift := securityv1alpha1.Drift{Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name, Reason: reason,
		Message: "Pod Security labels differ from the spec: " + strings.Join(changed, ", ")}
	if b.Spec.Mode == securityv1alpha1.ModeAudit {
		if reason != "" {
			res.reportDrift(drift)
		}
		return
	}
	err := r.Apply(ctx, desired.NamespaceLabels(ns.Name, want), client.FieldOwner(manager), client.ForceOwnership)
	if err != nil {
		r.reportWriteFailure(b, drift, err, res)
		return
	}
	if p.existed(key) && reason != "" {
		res.corrected = append(res.corrected, drift)
	}
}

// earlierBaselineOwning returns the name of another SecurityBaseline, created before b, among
// the field managers of a label, or "".
func (r *SecurityBaselineReconciler) earlierBaselineOwning(ctx context.Context, b *securityv1alpha1.SecurityBaseline, managers []string) string {
	for _, m := range managers {
		name, ok := strings.CutPrefix(m, desired.OperatorName+"/")
		if !ok || name == b.Name {
			continue
		}
		other := &securityv1alpha1.SecurityBaseline{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, other); err != nil || !other.DeletionTimestamp.IsZero() {
			continue // gone: its label is stale
		}
		if other.CreationTimestamp.Before(&b.CreationTimestamp) ||
			(other.CreationTimestamp.Equal(&b.CreationTimestamp) && other.Name < b.Name) {
			return name
		}
	}
	return ""
}

// releasePodSecurityLabels takes the baseline's Pod Security labels off a Namespace: applying
// no labels with the baseline's field manager removes the labels only it owns.
func (r *SecurityBaselineReconciler) releasePodSecurityLabels(ctx context.Context, b *securityv1alpha1.SecurityBaseline, ns *corev1.Namespace) error {
	manager := desired.FieldManager(b.Name)
	if len(podSecurityOnly(apply.LabelsOwnedBy(ns.ManagedFields, manager))) == 0 {
		return nil
	}
	if err := r.Apply(ctx, desired.NamespaceLabels(ns.Name, nil), client.FieldOwner(manager), client.ForceOwnership); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("releasing Pod Security labels of namespace %s: %w", ns.Name, err)
	}
	return nil
}

// convergeObject compares one declared object with the live one and, in Enforce mode, applies
// it when it is missing or a declared field differs. An object of the same name the baseline
// does not manage is reported as a Conflict and never touched.
func (r *SecurityBaselineReconciler) convergeObject(ctx context.Context, p *pass, o desired.Object, res *namespaceResult) {
	b, key := p.b, o.Key()
	live := p.live[key]
	drift := securityv1alpha1.Drift{Namespace: o.Namespace, Kind: o.GVK.Kind, Name: o.Name}
	want, err := apply.ToMap(o.Apply)
	if err != nil {
		drift.Reason, drift.Message = securityv1alpha1.DriftFailed, err.Error()
		res.reportDrift(drift)
		return
	}
	replace := false
	var liveMap map[string]any
	if live == nil {
		switch owner, found := p.foreign[key]; {
		case !found:
			drift.Reason, drift.Message = securityv1alpha1.DriftMissing, "object does not exist"
		case owner != b.Name:
			drift.Reason, drift.Message = securityv1alpha1.DriftConflict, conflictMessage(o, owner)
			res.reportDrift(drift)
			return
		default:
			// Ours, written moments ago and not in the cache yet: its event brings it.
			return
		}
	} else {
		liveMap, err = apply.ToMap(live)
		if err != nil {
			drift.Reason, drift.Message = securityv1alpha1.DriftFailed, err.Error()
			res.reportDrift(drift)
			return
		}
		path := apply.Diff(want, liveMap)
		if path == "" {
			p.remember(key, live.GetResourceVersion(), nil)
			return
		}
		drift.Reason, drift.Message = securityv1alpha1.DriftModified, "field "+path+" differs from the spec"
		replace = o.GVK == desired.RoleBindingGVK && strings.HasPrefix(path, "roleRef")
	}

	manager := client.FieldOwner(desired.FieldManager(b.Name))
	if b.Spec.Mode == securityv1alpha1.ModeAudit {
		if live != nil && !replace {
			// A server-side dry run tells whether Enforce would really change something, and
			// whether it would be allowed to; its verdict holds until the object changes.
			if err := r.Apply(ctx, o.Apply, manager, client.ForceOwnership, client.DryRunAll); err != nil {
				drift.Reason, drift.Message = failureReason(err), "a dry run of the write failed: "+string(apierrors.ReasonForError(err))
			} else if matchesLive(o.Apply, want, liveMap) {
				p.remember(key, live.GetResourceVersion(), nil)
				return // the server normalizes the declared value to what is live
			}
			p.remember(key, live.GetResourceVersion(), &drift)
		}
		res.reportDrift(drift)
		return
	}

	if replace {
		// roleRef is immutable: replace the RoleBinding.
		uid := live.GetUID()
		if err := r.Delete(ctx, live, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			r.reportWriteFailure(b, drift, err, res)
			return
		}
	}
	if err := r.Apply(ctx, o.Apply, manager, client.ForceOwnership); err != nil {
		r.reportWriteFailure(b, drift, err, res)
		return
	}
	if applied, err := meta.Accessor(o.Apply); err == nil {
		p.remember(key, applied.GetResourceVersion(), nil)
	}
	if p.existed(key) || drift.Reason == securityv1alpha1.DriftModified {
		res.corrected = append(res.corrected, drift)
	}
}

// matchesLive tells whether a server's answer (a dry run) holds the live values of every
// declared field.
func matchesLive(answer runtime.ApplyConfiguration, declared, live map[string]any) bool {
	result, err := apply.ToMap(answer)
	return err == nil && apply.Diff(apply.Project(result, declared), live) == ""
}

func conflictMessage(o desired.Object, owner string) string {
	if owner == "-" {
		return fmt.Sprintf("a %s named %s exists and is not managed by this baseline", o.GVK.Kind, o.Name)
	}
	return fmt.Sprintf("a %s named %s is managed by SecurityBaseline %s", o.GVK.Kind, o.Name, owner)
}

// reportWriteFailure records a failed write as drift, a Warning event and, when a retry may
// help, an error.
func (r *SecurityBaselineReconciler) reportWriteFailure(b *securityv1alpha1.SecurityBaseline, drift securityv1alpha1.Drift, err error, res *namespaceResult) {
	drift.Reason = failureReason(err)
	drift.Message = "write failed: " + string(apierrors.ReasonForError(err))
	if drift.Reason == securityv1alpha1.DriftFailed && !apierrors.IsInvalid(err) {
		res.errs = append(res.errs, fmt.Errorf("applying %s %s/%s: %w", drift.Kind, drift.Namespace, drift.Name, err))
	}
	res.reportDrift(drift)
	r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, securityv1alpha1.EventApplyFailed, "Apply",
		"%s %s/%s: %s", drift.Kind, drift.Namespace, drift.Name, drift.Message)
}

func failureReason(err error) securityv1alpha1.DriftReason {
	switch {
	case apierrors.IsForbidden(err):
		return securityv1alpha1.DriftForbidden
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		return securityv1alpha1.DriftConflict
	default:
		return securityv1alpha1.DriftFailed
	}
}

// prune deletes the baseline's objects that are no longer wanted (removed from the spec, or in
// a namespace that left the selection) and takes its Pod Security labels off namespaces that
// are no longer targeted.
func (r *SecurityBaselineReconciler) prune(ctx context.Context, p *pass, wanted func(desired.Key) bool, others []*corev1.Namespace) []error {
	var errs []error
	for key, obj := range p.live {
		if wanted(key) {
			continue
		}
		uid := obj.GetUID()
		if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s %s/%s: %w", key.Kind, key.Namespace, key.Name, err))
			continue
		}
		p.verdicts.Delete(key)
	}
	for _, ns := range others {
		if err := r.releasePodSecurityLabels(ctx, p.b, ns); err != nil {
			errs = append(errs, err)
			continue
		}
		p.verdicts.Delete(namespaceKey(ns.Name))
	}
	return errs
}

// orphan strips the baseline's ownerReference from an object it leaves behind.
func (r *SecurityBaselineReconciler) orphan(ctx context.Context, b *securityv1alpha1.SecurityBaseline, obj client.Object) error {
	refs := obj.GetOwnerReferences()
	kept := make([]metav1.OwnerReference, 0, len(refs))
	for _, ref := range refs {
		if ref.UID != b.UID {
			kept = append(kept, ref)
		}
	}
	if len(kept) == len(refs) {
		return nil
	}
	obj = obj.DeepCopyObject().(client.Object)
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	obj.SetOwnerReferences(kept)
	if err := r.Patch(ctx, obj, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("orphaning %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// servedKinds returns the kinds the baseline may manage now and the CRDs it declares that the
// cluster does not serve. Built-in kinds are always served; a secret store kind counts once its
// CRD is installed, and from then on it is watched.
func (r *SecurityBaselineReconciler) servedKinds(b *securityv1alpha1.SecurityBaseline) (map[schema.GroupVersionKind]bool, []string) {
	served := map[schema.GroupVersionKind]bool{
		desired.NetworkPolicyGVK: true, desired.RoleGVK: true, desired.RoleBindingGVK: true, desired.ServiceAccountGVK: true,
	}
	declared := map[schema.GroupVersionKind]bool{}
	for _, s := range b.Spec.SecretStores {
		if s.CSI != nil {
			declared[desired.SecretProviderClassGVK] = true
		} else {
			declared[desired.SecretStoreGVK] = true
		}
	}
	var missing []string
	for _, gvk := range []schema.GroupVersionKind{desired.SecretStoreGVK, desired.SecretProviderClassGVK} {
		if _, watched := r.watched.Load(gvk); watched {
			served[gvk] = true
			continue
		}
		if !declared[gvk] {
			continue
		}
		if err := r.watchOptionalKind(gvk); err != nil {
			missing = append(missing, crdName(gvk))
			continue
		}
		served[gvk] = true
	}
	return served, missing
}

// crdName is the CustomResourceDefinition name of an optional kind.
func crdName(gvk schema.GroupVersionKind) string {
	plural := map[string]string{"SecretStore": "secretstores", "SecretProviderClass": "secretproviderclasses"}[gvk.Kind]
	return plural + "." + gvk.Group
}

// liveObjects returns the baseline's objects in the cluster (all of them, or those in the given
// namespaces), from the label-filtered cache.
func (r *SecurityBaselineReconciler) liveObjects(ctx context.Context, b *securityv1alpha1.SecurityBaseline,
	served map[schema.GroupVersionKind]bool, namespaces []string, all bool,
) (map[desired.Key]client.Object, error) {
	scopes := []client.ListOption{client.InNamespace("")}
	if !all {
		scopes = scopes[:0]
		for _, ns := range namespaces {
			scopes = append(scopes, client.InNamespace(ns))
		}
	}
	live := map[desired.Key]client.Object{}
	for _, gvk := range desired.ManagedGVKs {
		if !served[gvk] {
			continue
		}
		for _, scope := range scopes {
			list, err := r.newList(gvk)
			if err != nil {
				return nil, err
			}
			// Read-only use: the cache's objects are not copied.
			if err := r.List(ctx, list, scope, client.MatchingLabels(desired.Labels(b.Name)), client.UnsafeDisableDeepCopy); err != nil {
				return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return nil, err
			}
			for _, item := range items {
				obj := item.(client.Object)
				live[desired.Key{Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
			}
		}
	}
	return live, nil
}

func (r *SecurityBaselineReconciler) newList(gvk schema.GroupVersionKind) (client.ObjectList, error) {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if r.Scheme.Recognizes(listGVK) {
		obj, err := r.Scheme.New(listGVK)
		if err != nil {
			return nil, err
		}
		return obj.(client.ObjectList), nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(listGVK)
	return list, nil
}

func namespaceKey(ns string) desired.Key {
	return desired.Key{Kind: namespaceKind, Namespace: ns, Name: ns}
}

func podSecurityOnly(labels map[string]bool) map[string]bool {
	for k := range labels {
		if !strings.HasPrefix(k, desired.PodSecurityLabelPrefix) {
			delete(labels, k)
		}
	}
	return labels
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
