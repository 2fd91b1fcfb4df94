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
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// CacheOptions restricts the manager's cache to the objects the operator manages (label
// app.kubernetes.io/managed-by=securitybaseline-operator), so its memory does not grow with
// every Role or NetworkPolicy in the cluster. Namespaces and SecurityBaselines are cached whole.
// Managed objects are cached without managedFields; Namespaces keep them (Pod Security label
// ownership is read from them).
func CacheOptions() cache.Options {
	keep := func(obj any) (any, error) { return obj, nil }
	return cache.Options{
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{desired.LabelManagedBy: desired.OperatorName}),
		DefaultTransform:     cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Namespace{}:                  {Label: labels.Everything(), Transform: keep},
			&securityv1alpha1.SecurityBaseline{}: {Label: labels.Everything()},
		},
	}
}

// SetupWithManager registers the reconciler: it watches SecurityBaselines, the kinds they
// manage (mapped back through the baseline label) and Namespaces (label changes).
func (r *SecurityBaselineReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	r.cache = mgr.GetCache()
	dryRun, err := newDryRunClient(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	r.dryRun = dryRun
	if _, counting := r.Client.(countingClient); !counting {
		r.Client = countingClient{Client: r.Client}
	}
	if err := r.indexByBaseline(context.Background(), mgr); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("securitybaseline").
		For(&securityv1alpha1.SecurityBaseline{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.baselinesForNamespace),
			builder.WithPredicates(namespaceChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles})
	for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.ServiceAccount{}} {
		b = b.Watches(obj, handler.EnqueueRequestsFromMapFunc(baselineOfObject))
	}
	r.reportCRDInstalled = make(chan event.GenericEvent)
	b = b.WatchesRawSource(source.Channel(r.reportCRDInstalled, handler.EnqueueRequestsFromMapFunc(r.baselinesForNamespace)))
	if err := mgr.Add(manager.RunnableFunc(r.watchForReportCRDs)); err != nil {
		return err
	}
	c, err := b.Build(r)
	if err != nil {
		return err
	}
	r.controller = c
	return nil
}

// watchOptionalKind starts watching a kind served by an optional CRD (SecretStore,
// SecretProviderClass) once discovery says it is served; it fails while the CRD is absent.
// The watch only brings events: which kinds a reconcile handles is asked of discovery each time.
func (r *SecurityBaselineReconciler) watchOptionalKind(gvk schema.GroupVersionKind) error {
	if _, err := r.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
		return err
	}
	if _, ok := r.watched.Load(gvk); ok {
		return nil
	}
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if _, ok := r.watched.Load(gvk); ok {
		return nil
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	if err := r.controller.Watch(source.Kind(r.cache, client.Object(obj), handler.EnqueueRequestsFromMapFunc(baselineOfObject))); err != nil {
		return fmt.Errorf("watching %s: %w", gvk.Kind, err)
	}
	r.watched.Store(gvk, true)
	return nil
}

// baselineOfObject maps an object carrying the baseline label to its SecurityBaseline.
func baselineOfObject(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[desired.LabelBaseline]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
}

// baselinesForNamespace maps a Namespace to every SecurityBaseline: whether it joins, leaves
// or drifts is decided by each baseline's reconcile.
func (r *SecurityBaselineReconciler) baselinesForNamespace(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &securityv1alpha1.SecurityBaselineList{}
	if err := r.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing SecurityBaselines for a namespace event")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, b := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: b.Name}})
	}
	return reqs
}

// namespaceChanged passes Namespace events that can change what a baseline must do: creation,
// deletion, label changes and the start of termination.
func namespaceChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) ||
				e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
	}
}
