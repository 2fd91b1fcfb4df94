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
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// Finalizer holds a SecurityBaseline until its managed objects are deleted or orphaned.
const Finalizer = "security.baseline.dev/finalizer"

// Requeue intervals for what the operator does not watch.
const (
	// retryConflictsAfter: an object in the way of a declared name is not watched (the cache
	// holds only the operator's objects), so a baseline with conflicts looks again this often.
	retryConflictsAfter = 5 * time.Second
	// retryMissingCRDsAfter: a CRD the baseline needs may be installed at any time.
	retryMissingCRDsAfter = 30 * time.Second
	// confirmWritesAfter: a pass that wrote is confirmed by the next pass, which the writes'
	// watch events bring at once; this requeue is only a safety net.
	confirmWritesAfter = 10 * time.Second
)

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
	// dryRun sends the Pod Security dry runs, collecting the API server's warnings.
	dryRun client.Client
	// reportsMissingSince is when a report kind was last looked up and not found (time.Time):
	// it only spares discovery requests, delaying the first report by at most
	// recheckReportKindsAfter once a report CRD is installed; reportsNoneLogged says the log
	// has told that no report CRD is installed.
	reportsMissingSince atomic.Value
	reportsNoneLogged   atomic.Bool
	// reportCRDInstalled has every baseline reconciled once a report CRD appears.
	reportCRDInstalled chan event.GenericEvent
	// watched holds the optional kinds (secret stores) whose watches have started: it only
	// decides whether to start a watch, never what a reconcile writes.
	watched sync.Map
	watchMu sync.Mutex
	// verdicts holds, per baseline name, the *verdictSet of provable no-ops (see verdict).
	verdicts sync.Map
	// statusWrites holds, per baseline name, the resourceVersion of the last status write, to
	// tell a cache that lags behind it (see statusMayBeStale).
	statusWrites sync.Map
	// indexers are the cache's indexers of the built-in managed kinds, by baseline label, and
	// namespaces the cache's store of Namespaces: both read-only views of the cache.
	indexers   map[schema.GroupVersionKind]toolscache.Indexer
	namespaces toolscache.Indexer
}

// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines/status,verbs=get;patch
// ownerReferences with blockOwnerDeletion need update on the owner's finalizers.
// +kubebuilder:rbac:groups=security.baseline.dev,resources=securitybaselines/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch;delete
// No escalate and no bind here: a baseline's Roles and RoleBindings may grant only what the
// operator holds (config/rbac/grantable_role.yaml, aggregated) and bind only the ClusterRoles
// allow-listed at install (config/rbac/bindable_clusterroles.yaml).
// +kubebuilder:rbac:groups=external-secrets.io,resources=secretstores,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=secrets-store.csi.x-k8s.io,resources=secretproviderclasses,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=openreports.io,resources=reports,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=wgpolicyk8s.io,resources=policyreports,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile converges one SecurityBaseline and writes its status once, at the end.
func (r *SecurityBaselineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	b := &securityv1alpha1.SecurityBaseline{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Name)
			forgetMetrics(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var obs *observation
	defer func() {
		if obs == nil {
			return
		}
		r.record(b, obs)
		if err := r.patchStatus(ctx, b, obs); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
		stalled := ""
		if c := meta.FindStatusCondition(b.Status.Conditions, securityv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
			stalled = c.Reason
		}
		setStalled(b.Name, stalled)
	}()

	if !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, b)
	}
	if !controllerutil.ContainsFinalizer(b, Finalizer) {
		before := b.DeepCopy()
		controllerutil.AddFinalizer(b, Finalizer)
		if err := r.Patch(ctx, b, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}
	if b.Spec.Suspend {
		obs = &observation{suspended: true}
		return ctrl.Result{}, nil
	}
	obs, err := r.reconcileNormal(ctx, b)
	if err != nil {
		return ctrl.Result{}, err
	}
	return obs.result()
}

// reconcileNormal runs the phases of a baseline in the order of the spec: read what the
// cluster holds (targets, live objects, objects in the way), converge each target namespace
// (Pod Security labels, NetworkPolicies, RBAC, secret stores), then prune what the baseline
// no longer declares. Every pass looks at every namespace: what it writes depends on the
// cluster alone; verdicts only spare the comparison of objects that did not change.
func (r *SecurityBaselineReconciler) reconcileNormal(ctx context.Context, b *securityv1alpha1.SecurityBaseline) (*observation, error) {
	s, err := r.newScope(ctx, b)
	if invalid := (invalidSpecError{}); errors.As(err, &invalid) {
		return &observation{invalidSpec: invalid.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	obs := &observation{missingKinds: s.missingKinds}
	results := make([]*namespaceResult, len(s.targets))
	workqueue.ParallelizeUntil(ctx, max(r.Workers, 1), len(s.targets), func(i int) {
		results[i] = r.convergeNamespace(ctx, s, s.targets[i])
	})
	for _, res := range results {
		if res != nil {
			obs.add(res)
		}
	}
	if b.Spec.Mode != securityv1alpha1.ModeAudit {
		settled := sets.New[string]()
		for _, res := range results {
			if res != nil && res.settled {
				settled.Insert(res.namespace)
			}
		}
		pruned, errs := r.prune(ctx, s, settled)
		obs.written += pruned
		obs.errs = append(obs.errs, errs...)
	}
	// Reports are an output of the pass, not part of the baseline: a report that cannot be
	// written is logged and tried again later, and changes nothing else.
	reportKind, errs := r.reconcileReports(ctx, s, results)
	obs.reportKind, obs.reportsFailed = reportKind, len(errs) > 0
	for _, err := range errs {
		ctrl.LoggerFrom(ctx).Error(err, "writing a compliance report")
	}
	for _, res := range results {
		if res != nil {
			obs.addPodSecurity(res)
		}
	}
	obs.inventory = nextInventory(s, results, obs)
	s.verdicts.rotate()
	return obs, nil
}

// reconcileDelete removes (Delete) or orphans (Orphan) every object and Pod Security label of
// the baseline, then releases the finalizer.
func (r *SecurityBaselineReconciler) reconcileDelete(ctx context.Context, b *securityv1alpha1.SecurityBaseline) error {
	if !controllerutil.ContainsFinalizer(b, Finalizer) {
		return nil
	}
	s := &scope{b: b, converged: sets.New[string]()}
	if err := r.readTargets(ctx, s); err != nil && !errors.As(err, &invalidSpecError{}) {
		return err
	}
	s.served, _ = r.servedKinds(b)
	if err := r.readLiveObjects(ctx, s); err != nil {
		return err
	}
	if errs := append(r.cleanUp(ctx, s), r.deleteReports(ctx, b, schema.GroupVersionKind{})...); len(errs) > 0 {
		return kerrors.NewAggregate(errs)
	}
	before := b.DeepCopy()
	controllerutil.RemoveFinalizer(b, Finalizer)
	if err := r.Patch(ctx, b, client.MergeFrom(before)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.forget(b.Name)
	forgetMetrics(b.Name)
	return nil
}

// patchStatus computes the status from the observation and writes it once, only when it
// changed, as a merge patch locked on the resourceVersion it was computed from. The cache may
// lag behind the operator's last status write; then the patch conflicts, and the status is
// computed again on the baseline read from the API server (counters add up exactly), unless the
// spec changed meanwhile (the next reconcile reports the new generation). A status that equals
// the cached one is compared again with the API server's when the cache has not yet seen the
// operator's last status write: the cache would otherwise hide that the status must change back.
func (r *SecurityBaselineReconciler) patchStatus(ctx context.Context, b *securityv1alpha1.SecurityBaseline, obs *observation) error {
	for attempt := 0; ; attempt++ {
		before := b.DeepCopy()
		computeStatus(b, obs, metav1.Now())
		var err error
		switch {
		case equalStatus(before.Status, b.Status) && !r.statusMayBeStale(b):
			return nil
		case equalStatus(before.Status, b.Status):
			err = apierrors.NewConflict(securityv1alpha1.GroupVersion.WithResource("securitybaselines").GroupResource(), b.Name,
				errors.New("the cache has not seen the last status write"))
		default:
			err = r.Status().Patch(ctx, b, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		}
		if err == nil {
			r.statusWrites.Store(b.Name, b.ResourceVersion)
		}
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == 2 {
			return fmt.Errorf("patching status: %w", err)
		}
		fresh := &securityv1alpha1.SecurityBaseline{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(b), fresh); err != nil {
			return client.IgnoreNotFound(err)
		}
		if fresh.Generation != b.Generation {
			return nil
		}
		r.statusWrites.Store(b.Name, fresh.ResourceVersion)
		*b = *fresh
	}
}

// statusMayBeStale tells whether the baseline read from the cache may predate the operator's
// last status write: its resourceVersion is not the one that write returned. It only decides
// whether to read the API server; a cold start (nothing recorded) trusts the cache, whose
// status can then only be newer than any write of this process.
func (r *SecurityBaselineReconciler) statusMayBeStale(b *securityv1alpha1.SecurityBaseline) bool {
	written, ok := r.statusWrites.Load(b.Name)
	return ok && written.(string) != b.ResourceVersion
}
