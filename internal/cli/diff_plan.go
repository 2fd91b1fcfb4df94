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

package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// Actions of a Change.
const (
	ActionCreate = "create"
	ActionChange = "change"
	// ActionReplace: a RoleBinding whose roleRef changes is deleted and created (roleRef is immutable).
	ActionReplace = "replace"
	ActionDelete  = "delete"
	// ActionConflict: a declared name is held by an object the baseline does not own, or another
	// baseline created earlier sets a different Pod Security level; the operator writes nothing.
	ActionConflict = "conflict"
	// ActionRejected: the API server (or admission) rejects the dry run; the operator would stall.
	ActionRejected = "rejected"
	// ActionUnavailable: the cluster does not serve the kind (its CRD is not installed).
	ActionUnavailable = "unavailable"
)

// Change is one thing applying a baseline would do, found with a server-side dry run.
type Change struct {
	Action    string `json:"action"`
	Namespace string `json:"namespace,omitempty"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// Diff is the unified diff of the declared fields, live object first.
	Diff     string   `json:"diff,omitempty"`
	Message  string   `json:"message,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Plan is what applying one SecurityBaseline would change in a cluster.
type Plan struct {
	Baseline string `json:"baseline"`
	Source   string `json:"source"`
	// Exists tells whether the baseline exists in the cluster; SpecDiff is the unified diff of
	// its spec when it does.
	Exists   bool     `json:"exists"`
	SpecDiff string   `json:"specDiff,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// Targets are the namespaces the new spec targets.
	Targets []string `json:"targets"`
	Changes []Change `json:"changes"`
}

// Changed tells whether applying the baseline changes anything (or cannot be done cleanly).
func (p *Plan) Changed() bool {
	if !p.Exists || p.SpecDiff != "" {
		return true
	}
	for _, c := range p.Changes {
		if c.Action != ActionUnavailable {
			return true
		}
	}
	return false
}

// planner computes Plans against a cluster. reader reads; writer only ever sends dry runs.
type planner struct {
	reader    client.Client
	writer    client.Client
	warnings  *warningCollector
	protected []string
}

// plan computes what applying b (as read from a file) would change.
func (p *planner) plan(ctx context.Context, b *securityv1alpha1.SecurityBaseline, source string) (*Plan, error) {
	plan := &Plan{Baseline: b.Name, Source: source, Targets: []string{}, Changes: []Change{}}
	live := &securityv1alpha1.SecurityBaseline{}
	err := p.reader.Get(ctx, client.ObjectKey{Name: b.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		live = nil
		plan.Notes = append(plan.Notes, "the SecurityBaseline does not exist: it would be created")
	case err != nil:
		return nil, fmt.Errorf("reading SecurityBaseline %s: %w", b.Name, err)
	default:
		plan.Exists = true
		if plan.SpecDiff, err = specDiff(live, b); err != nil {
			return nil, err
		}
		if !live.DeletionTimestamp.IsZero() {
			plan.Notes = append(plan.Notes, "the live SecurityBaseline is being deleted")
		}
	}
	if b.Spec.Mode == securityv1alpha1.ModeAudit {
		plan.Notes = append(plan.Notes, "mode Audit: the operator writes none of these objects, it reports them as drift")
	}
	if b.Spec.Suspend {
		plan.Notes = append(plan.Notes, "suspend: true: the operator writes nothing until it is set back to false")
	}
	nb := b.DeepCopy()
	nb.UID = UIDPlaceholder
	if live != nil {
		nb.UID, nb.CreationTimestamp = live.UID, live.CreationTimestamp
	}
	namespaces := &corev1.NamespaceList{}
	if err := p.reader.List(ctx, namespaces); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	peers, err := p.podSecurityPeers(ctx, nb, live != nil)
	if err != nil {
		return nil, err
	}
	targeted := map[string]bool{}
	declared := map[string][]desired.Object{}
	for i := range namespaces.Items {
		ns := &namespaces.Items[i]
		if ns.DeletionTimestamp != nil {
			continue
		}
		selected, _, err := desired.Selects(nb, ns.Name, ns.Labels, p.protected)
		if err != nil {
			return nil, err
		}
		if !selected {
			if err := p.releasePodSecurity(ctx, nb, ns, plan); err != nil {
				return nil, err
			}
			continue
		}
		targeted[ns.Name] = true
		plan.Targets = append(plan.Targets, ns.Name)
		if err := p.planPodSecurity(ctx, nb, ns, peers, plan); err != nil {
			return nil, err
		}
		objs, err := desired.ForNamespace(nb, ns.Name)
		if err != nil {
			return nil, err
		}
		declared[ns.Name] = objs
		if err := p.planObjects(ctx, nb, live, objs, plan); err != nil {
			return nil, err
		}
	}
	if live != nil {
		if err := p.planDeletes(ctx, live, targeted, declared, plan); err != nil {
			return nil, err
		}
	}
	// Group by namespace, keeping the operator's order within each.
	slices.SortStableFunc(plan.Changes, func(a, b Change) int { return strings.Compare(a.Namespace, b.Namespace) })
	return plan, nil
}

// planObjects decides every declared object of one namespace, in the operator's order, so that
// an object's dependencies are decided before it.
func (p *planner) planObjects(ctx context.Context, nb, live *securityv1alpha1.SecurityBaseline, objs []desired.Object, plan *Plan) error {
	held := map[desired.Key]string{}
	for _, o := range objs {
		change, err := p.planObject(ctx, nb, live, o, held)
		if err != nil {
			return err
		}
		if change == nil {
			continue
		}
		switch change.Action {
		case ActionConflict, ActionRejected, ActionUnavailable:
			held[o.Key()] = change.Action
		}
		plan.Changes = append(plan.Changes, *change)
	}
	return nil
}

// planObject decides one declared object as the operator does (convergeObject): the baseline's
// own object is compared on its declared fields and changed with Server-Side Apply; a name held
// by an object it does not own is a conflict; a missing one is created. Returns nil when
// nothing changes.
func (p *planner) planObject(ctx context.Context, nb, live *securityv1alpha1.SecurityBaseline, o desired.Object, held map[desired.Key]string) (*Change, error) {
	change := &Change{Namespace: o.Namespace, Kind: o.GVK.Kind, Name: o.Name}
	for _, dep := range o.DependsOn {
		if reason, ok := held[dep]; ok {
			change.Action = ActionConflict
			if reason != ActionConflict {
				change.Action = reason
			}
			change.Message = fmt.Sprintf("held back: it depends on %s %s, which would not be this baseline's in this namespace", dep.Kind, dep.Name)
			return change, nil
		}
	}
	if _, err := p.reader.RESTMapper().RESTMapping(o.GVK.GroupKind(), o.GVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			change.Action = ActionUnavailable
			change.Message = fmt.Sprintf("the cluster does not serve %s: its CRD is not installed (the baseline reports CRDNotInstalled)", o.GVK.GroupVersion().WithKind(o.GVK.Kind))
			return change, nil
		}
		return nil, err
	}
	want, err := o.Unstructured()
	if err != nil {
		return nil, err
	}
	if live == nil {
		setSpecHash(want, SpecHashPlaceholder)
	}
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(o.GVK)
	err = p.reader.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: o.Name}, existing)
	switch {
	case apierrors.IsNotFound(err):
		return p.dryRunCreate(ctx, nb.Name, want, change)
	case err != nil:
		return nil, fmt.Errorf("reading %s %s/%s: %w", o.GVK.Kind, o.Namespace, o.Name, err)
	}
	if live == nil || !ownedBy(existing, live) {
		change.Action, change.Message = ActionConflict, conflictMessage(o, existing)
		return change, nil
	}
	wantMap, liveMap := want.Object, existing.Object
	replace := roleRefChanged(wantMap, liveMap)
	if apply.Diff(wantMap, liveMap) == "" && !replace {
		return nil, nil
	}
	before := project(liveMap, wantMap)
	if replace {
		change.Action = ActionReplace
		change.Message = "roleRef is immutable: the operator deletes the RoleBinding and creates it again"
		change.Diff, err = unifiedDiff(before, project(wantMap, wantMap), "baseline")
		return change, err
	}
	result := want.DeepCopy()
	p.warnings.reset()
	err = p.writer.Apply(ctx, client.ApplyConfigurationFromUnstructured(result),
		client.FieldOwner(fieldManager(nb.Name)), client.ForceOwnership, client.DryRunAll)
	change.Warnings = p.warnings.take()
	if err != nil {
		return rejected(change, err)
	}
	change.Action = ActionChange
	change.Diff, err = unifiedDiff(before, project(result.Object, wantMap), "baseline")
	return change, err
}

// dryRunCreate creates a missing object with a dry run, as the operator creates it.
func (p *planner) dryRunCreate(ctx context.Context, baseline string, want *unstructured.Unstructured, change *Change) (*Change, error) {
	result := want.DeepCopy()
	p.warnings.reset()
	err := p.writer.Create(ctx, result, client.FieldOwner(fieldManager(baseline)), client.DryRunAll)
	change.Warnings = p.warnings.take()
	if err != nil {
		return rejected(change, err)
	}
	var diff string
	diff, err = unifiedDiff(nil, project(result.Object, want.Object), "baseline")
	change.Action, change.Diff = ActionCreate, diff
	return change, err
}

// rejected reports a dry run the API server refused: permanent refusals make the operator
// stall; anything else (the cluster unreachable, ...) is an error of this command.
func rejected(change *Change, err error) (*Change, error) {
	if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) || apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		change.Action, change.Message = ActionRejected, err.Error()
		return change, nil
	}
	return nil, fmt.Errorf("dry run of %s %s/%s: %w", change.Kind, change.Namespace, change.Name, err)
}

// planDeletes finds the objects the live baseline owns that the new spec no longer declares
// (removed from the spec, or in a namespace it no longer targets): the operator deletes them.
func (p *planner) planDeletes(ctx context.Context, live *securityv1alpha1.SecurityBaseline, targeted map[string]bool, declared map[string][]desired.Object, plan *Plan) error {
	for _, gvk := range desired.ManagedGVKs {
		if _, err := p.reader.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			continue // not served: nothing of that kind exists
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := p.reader.List(ctx, list, client.MatchingLabels{desired.LabelBaseline: live.Name}); err != nil {
			return fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for i := range list.Items {
			obj := &list.Items[i]
			if !ownedBy(obj, live) {
				continue
			}
			reason := "the namespace is no longer targeted"
			if targeted[obj.GetNamespace()] {
				if slices.ContainsFunc(declared[obj.GetNamespace()], func(o desired.Object) bool {
					return o.GVK.Kind == gvk.Kind && o.Name == obj.GetName()
				}) {
					continue
				}
				reason = "no longer declared"
			}
			change := &Change{Action: ActionDelete, Namespace: obj.GetNamespace(), Kind: gvk.Kind, Name: obj.GetName(), Message: reason}
			uid := obj.GetUID()
			p.warnings.reset()
			err := p.writer.Delete(ctx, obj.DeepCopy(), client.Preconditions{UID: &uid}, client.DryRunAll)
			change.Warnings = p.warnings.take()
			if err != nil && !apierrors.IsNotFound(err) {
				if change, err = rejected(change, err); err != nil {
					return err
				}
			}
			plan.Changes = append(plan.Changes, *change)
		}
	}
	return nil
}

// ownedBy tells whether obj carries a controller ownerReference to the live baseline's UID:
// the only thing that makes an object a baseline's.
func ownedBy(obj metav1.Object, live *securityv1alpha1.SecurityBaseline) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == live.UID
}

// conflictMessage is the operator's message for a declared name held by another object.
func conflictMessage(o desired.Object, other metav1.Object) string {
	if owner := other.GetLabels()[desired.LabelBaseline]; owner != "" && other.GetLabels()[desired.LabelManagedBy] == desired.OperatorName {
		return fmt.Sprintf("a %s named %s exists that this baseline does not own (labelled for SecurityBaseline %s, no ownerReference to this one)",
			o.GVK.Kind, o.Name, owner)
	}
	return fmt.Sprintf("a %s named %s exists and is not managed by this baseline", o.GVK.Kind, o.Name)
}

// roleRefChanged tells whether a live RoleBinding grants another role than the declared one.
func roleRefChanged(want, live map[string]any) bool {
	if want["kind"] != desired.RoleBindingGVK.Kind {
		return false
	}
	w, _, _ := unstructured.NestedMap(want, "roleRef")
	l, _, _ := unstructured.NestedMap(live, "roleRef")
	for _, k := range []string{"apiGroup", "kind", "name"} {
		if w[k] != l[k] {
			return true
		}
	}
	return false
}

func setSpecHash(u *unstructured.Unstructured, hash string) {
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[desired.SpecHashAnnotation] = hash
	u.SetAnnotations(annotations)
}
