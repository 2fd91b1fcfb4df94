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

// Package controllers holds the SecurityBaseline reconciler and its envtest suite.
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// Finalizer holds a SecurityBaseline until its managed objects are deleted or orphaned.
const Finalizer = "security.baseline.dev/finalizer"

// retryConflictsAfter is how often a baseline with conflicts, forbidden writes or a missing CRD
// looks again: those clear up through changes the operator does not watch.
const retryConflictsAfter = 30 * time.Second

// SecurityBaselineReconciler converges every namespace a SecurityBaseline selects to the
// baseline, repairs or reports drift, and reports compliance in status, events and metrics.
type SecurityBaselineReconciler struct {
	client.Client
	// APIReader reads objects the label-filtered cache does not hold (conflict checks).
	APIReader client.Reader
	// Scheme knows the API types.
	Scheme *runtime.Scheme
	// Recorder emits events on SecurityBaselines.
	Recorder events.EventRecorder
	// ProtectedNamespaces are never targeted, whatever a selector says.
	ProtectedNamespaces sets.Set[string]
	// Workers bounds the namespaces converged in parallel by one reconcile.
	Workers int

	controller controller.Controller
	cache      cache.Cache
	watchMu    sync.Mutex
	// watched holds the optional kinds (secret stores) whose watches have started.
	watched sync.Map
	// states holds, per baseline name, the *baselineState of incremental passes.
	states sync.Map
	// verdicts holds, per baseline UID, how live objects compared with the spec (a *sync.Map
	// of desired.Key to *verdict).
	verdicts sync.Map
	// written holds, per baseline UID, the status last written.
	written sync.Map
}

// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines/status,verbs=get;patch
// ownerReferences with blockOwnerDeletion need update on the owner's finalizers.
// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch;delete
// escalate: a baseline's Roles may grant permissions the operator itself does not hold.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles,verbs=escalate
// bind: a baseline's RoleBindings may reference Roles and ClusterRoles with permissions the operator does not hold.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;clusterroles,verbs=bind
// +kubebuilder:rbac:groups=external-secrets.io,resources=secretstores,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=secrets-store.csi.x-k8s.io,resources=secretproviderclasses,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile converges one SecurityBaseline and writes its status once, at the end.
func (r *SecurityBaselineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	b := &securityv1alpha1.SecurityBaseline{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		if apierrors.IsNotFound(err) {
			r.states.Delete(req.Name) // events of its last deletes may have made one
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The cache may not hold the last status write yet; this operator is the status' only
	// writer, so what it wrote last is the truth to build on (counters, lastDrift).
	if written, ok := r.written.Load(b.UID); ok {
		b.Status = *written.(*securityv1alpha1.SecurityBaselineStatus).DeepCopy()
	}
	before := b.DeepCopy()

	var obs *observation
	defer func() {
		if obs == nil {
			return
		}
		computeStatus(b, obs, metav1.Now())
		r.record(b, obs)
		if err := r.patchStatus(ctx, before, b); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
			return
		}
		r.written.Store(b.UID, b.Status.DeepCopy())
	}()

	if !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, b)
	}
	if controllerutil.AddFinalizer(b, Finalizer) {
		if err := r.Patch(ctx, b, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}
	if b.Spec.Suspend {
		obs = &observation{suspended: true}
		return ctrl.Result{}, nil
	}

	var err error
	obs, err = r.reconcileNormal(ctx, b)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(obs.errs) > 0 {
		return ctrl.Result{}, kerrors.NewAggregate(obs.errs)
	}
	if obs.needsRetry() {
		return ctrl.Result{RequeueAfter: retryConflictsAfter}, nil
	}
	return ctrl.Result{}, nil
}

// reconcileNormal runs the phases of a baseline in the order of the spec: find the target
// namespaces, converge each (Pod Security labels, NetworkPolicies, RBAC, secret stores), then
// prune what the baseline no longer declares. After a first full pass, and until the spec
// changes, a pass looks only at the namespaces whose objects or labels changed since
// (see baselineState), so one drift event costs one namespace, not N.
func (r *SecurityBaselineReconciler) reconcileNormal(ctx context.Context, b *securityv1alpha1.SecurityBaseline) (*observation, error) {
	state := r.stateOf(b.Name)
	dirty, full := state.begin(b)
	obs := &observation{}
	targets, others, err := r.targetNamespaces(ctx, b, dirty, full)
	if err != nil {
		state.retry(dirty, full)
		return nil, err
	}
	served, missing := r.servedKinds(b)
	obs.missingKinds = missing
	p, err := r.newPass(ctx, b, targets, others, served, full)
	if err != nil {
		state.retry(dirty, full)
		return nil, err
	}
	results := r.convergeNamespaces(ctx, p, targets)
	if b.Spec.Mode != securityv1alpha1.ModeAudit {
		targeted := map[string]bool{}
		for _, ns := range targets {
			targeted[ns.Name] = true
		}
		declared := map[desired.Key]bool{}
		for _, d := range p.declared {
			declared[d] = true
		}
		wanted := func(k desired.Key) bool {
			return targeted[k.Namespace] && declared[desired.Key{Kind: k.Kind, Name: k.Name}]
		}
		obs.errs = append(obs.errs, r.prune(ctx, p, wanted, others)...)
	}
	state.finish(obs, results, dirty, full)
	if obs.needsRetry() {
		state.retry(nil, true)
	}
	return obs, nil
}

// reconcileDelete removes (Delete) or orphans (Orphan) every managed object and Pod Security
// label, then releases the finalizer.
func (r *SecurityBaselineReconciler) reconcileDelete(ctx context.Context, b *securityv1alpha1.SecurityBaseline) error {
	if !controllerutil.ContainsFinalizer(b, Finalizer) {
		return nil
	}
	kinds, _ := r.servedKinds(b)
	live, err := r.liveObjects(ctx, b, kinds, nil, true)
	if err != nil {
		return err
	}
	var errs []error
	if b.Spec.DeletionPolicy == securityv1alpha1.DeletionPolicyOrphan {
		for _, obj := range live {
			if err := r.orphan(ctx, b, obj); err != nil {
				errs = append(errs, err)
			}
		}
	} else {
		namespaces := &corev1.NamespaceList{}
		if err := r.List(ctx, namespaces, client.UnsafeDisableDeepCopy); err != nil {
			return err
		}
		all := make([]*corev1.Namespace, len(namespaces.Items))
		for i := range namespaces.Items {
			all[i] = &namespaces.Items[i]
		}
		p := &pass{b: b, live: live, verdicts: &sync.Map{}}
		errs = append(errs, r.prune(ctx, p, func(desired.Key) bool { return false }, all)...)
	}
	if len(errs) > 0 {
		return kerrors.NewAggregate(errs)
	}
	before := b.DeepCopy()
	controllerutil.RemoveFinalizer(b, Finalizer)
	if err := r.Patch(ctx, b, client.MergeFrom(before)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.written.Delete(b.UID)
	r.states.Delete(b.Name)
	r.verdicts.Delete(b.UID)
	forgetMetrics(b.Name)
	return nil
}

// targetNamespaces returns the namespaces the baseline targets now, and the others: all of them
// in a full pass, else only the dirty ones (a namespace that is gone counts as another).
func (r *SecurityBaselineReconciler) targetNamespaces(ctx context.Context, b *securityv1alpha1.SecurityBaseline,
	dirty map[string]bool, full bool,
) (targets, others []*corev1.Namespace, err error) {
	selector, err := metav1.LabelSelectorAsSelector(&b.Spec.NamespaceSelector)
	if err != nil {
		return nil, nil, err
	}
	excluded := sets.New(b.Spec.ExcludeNamespaces...)
	var namespaces []*corev1.Namespace
	if full {
		list := &corev1.NamespaceList{}
		// Read-only use: the cache's objects are not copied.
		if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			return nil, nil, fmt.Errorf("listing namespaces: %w", err)
		}
		for i := range list.Items {
			namespaces = append(namespaces, &list.Items[i])
		}
	} else {
		for name := range dirty {
			ns := &corev1.Namespace{}
			if err := r.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
				if !apierrors.IsNotFound(err) {
					return nil, nil, fmt.Errorf("reading namespace %s: %w", name, err)
				}
				ns.Name = name
				ns.DeletionTimestamp = &metav1.Time{} // gone: nothing to converge
			}
			namespaces = append(namespaces, ns)
		}
	}
	for _, ns := range namespaces {
		switch {
		case ns.DeletionTimestamp != nil:
			// A terminating namespace takes its objects with it; writing there only fails.
		case r.ProtectedNamespaces.Has(ns.Name) || excluded.Has(ns.Name) || !selector.Matches(labels.Set(ns.Labels)):
			others = append(others, ns)
		default:
			targets = append(targets, ns)
		}
	}
	return targets, others, nil
}

// patchStatus writes the status once, and only when it changed. The merge patch carries the
// whole status, empty fields as null, so zero counts are written too and cleared lists go.
func (r *SecurityBaselineReconciler) patchStatus(ctx context.Context, before, b *securityv1alpha1.SecurityBaseline) error {
	if equality.Semantic.DeepEqual(before.Status, b.Status) {
		return nil
	}
	status, err := apply.ToMap(b.Status)
	if err != nil {
		return err
	}
	for field := range reflect.TypeFor[securityv1alpha1.SecurityBaselineStatus]().Fields() {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if _, ok := status[name]; !ok {
			status[name] = nil
		}
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	if err := r.Status().Patch(ctx, b, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}
