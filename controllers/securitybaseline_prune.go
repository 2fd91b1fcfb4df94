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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// prune deletes the baseline's own objects that are no longer wanted (removed from the spec, or
// in a namespace that left the selection) and takes its Pod Security labels off namespaces it
// no longer targets. Only objects with a controller ownerReference to the baseline's UID are
// ever deleted; a failed delete is returned, so it is retried with backoff. Settled namespaces
// (a valid namespace verdict: exactly the declared objects) hold nothing to prune. It returns
// how many objects and namespaces it changed.
func (r *SecurityBaselineReconciler) prune(ctx context.Context, s *scope, settled sets.Set[string]) (changed int, errs []error) {
	targeted := sets.New[string]()
	for _, ns := range s.targets {
		targeted.Insert(ns.Name)
	}
	declared := sets.New[desired.Key](s.declared...)
	for namespace, n := range s.live {
		if settled.Has(namespace) {
			continue
		}
		for _, o := range n.objects {
			key := desired.Key{Kind: o.kind, Namespace: namespace, Name: o.obj.GetName()}
			if !ownedBy(o.obj, s.b.UID) || targeted.Has(namespace) && declared.Has(desired.Key{Kind: o.kind, Name: key.Name}) {
				continue
			}
			if o.obj.GetDeletionTimestamp() != nil {
				continue // deleted already, waiting for another controller's finalizer
			}
			if err := r.deleteIfOwned(ctx, o.obj, key); err != nil {
				errs = append(errs, err)
				continue
			}
			changed++
		}
	}
	for _, ns := range s.others {
		if !hasFieldManager(ns, desired.FieldManager(s.b.Name)) {
			continue
		}
		if err := r.releasePodSecurityLabels(ctx, s.b, ns); err != nil {
			errs = append(errs, err)
			continue
		}
		changed++
	}
	return changed, errs
}

// deleteIfOwned deletes an object of the baseline, only if it is still the one seen (UID).
func (r *SecurityBaselineReconciler) deleteIfOwned(ctx context.Context, obj client.Object, key desired.Key) error {
	uid := obj.GetUID()
	if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s %s/%s: %w", key.Kind, key.Namespace, key.Name, err)
	}
	return nil
}

// cleanUp runs at deletion: with Delete, every object of the baseline and every Pod Security
// label it set is removed; with Orphan, its objects stay, stripped of its ownerReference, and
// so do the labels. Objects the baseline does not own are never touched.
func (r *SecurityBaselineReconciler) cleanUp(ctx context.Context, s *scope) []error {
	var errs []error
	orphan := s.b.Spec.DeletionPolicy == securityv1alpha1.DeletionPolicyOrphan
	for namespace, n := range s.live {
		for _, o := range n.objects {
			if !ownedBy(o.obj, s.b.UID) {
				continue
			}
			var err error
			if orphan {
				err = r.orphan(ctx, s.b, o.obj)
			} else {
				err = r.deleteIfOwned(ctx, o.obj, desired.Key{Kind: o.kind, Namespace: namespace, Name: o.obj.GetName()})
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if orphan {
		return errs
	}
	for _, ns := range append(append([]*corev1.Namespace(nil), s.targets...), s.others...) {
		if err := r.releasePodSecurityLabels(ctx, s.b, ns); err != nil {
			errs = append(errs, err)
		}
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
