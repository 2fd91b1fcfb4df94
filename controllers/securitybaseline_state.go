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
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// baselineState lets a reconcile look only at what changed. Watch events mark the namespace of
// the object they concern as dirty; a pass converges the dirty namespaces and keeps, for every
// target namespace, its last result, from which the status is computed. A full pass (every
// namespace) runs first, after a spec change, and when conflicts or missing CRDs are retried.
type baselineState struct {
	mu         sync.Mutex
	uid        types.UID
	generation int64
	// results holds the last result of every target namespace.
	results map[string]*namespaceResult
	dirty   map[string]bool
	full    bool
}

func (r *SecurityBaselineReconciler) stateOf(name string) *baselineState {
	s, _ := r.states.LoadOrStore(name, &baselineState{full: true, dirty: map[string]bool{}})
	return s.(*baselineState)
}

// markDirty records that something in namespace changed for the baseline.
func (r *SecurityBaselineReconciler) markDirty(baseline, namespace string) {
	s := r.stateOf(baseline)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty[namespace] = true
}

// begin takes the work of a pass: every namespace (full) or the dirty ones.
func (s *baselineState) begin(b *securityv1alpha1.SecurityBaseline) (dirty map[string]bool, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uid != b.UID || s.generation != b.Generation || s.results == nil {
		s.full = true
	}
	s.uid, s.generation = b.UID, b.Generation
	dirty, full = s.dirty, s.full
	s.dirty, s.full = map[string]bool{}, false
	return dirty, full
}

// retry gives back the work of a pass that did not finish (or asks for a full pass).
func (s *baselineState) retry(dirty map[string]bool, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ns := range dirty {
		s.dirty[ns] = true
	}
	s.full = s.full || full
}

// finish stores the results of a pass and adds the results of every target namespace to obs;
// repairs and errors count only for the namespaces this pass converged.
func (s *baselineState) finish(obs *observation, results []*namespaceResult, dirty map[string]bool, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if full || s.results == nil {
		s.results = map[string]*namespaceResult{}
	}
	for ns := range dirty {
		delete(s.results, ns) // no longer a target unless converged below
	}
	for _, res := range results {
		obs.corrected = append(obs.corrected, res.corrected...)
		obs.errs = append(obs.errs, res.errs...)
		kept := *res
		kept.corrected, kept.errs = nil, nil
		s.results[res.namespace] = &kept
	}
	for _, res := range s.results {
		obs.add(res)
	}
}

// baselineOfObject maps a managed object to its SecurityBaseline through the baseline label,
// marking the object's namespace dirty.
func (r *SecurityBaselineReconciler) baselineOfObject(_ context.Context, obj client.Object) []reconcile.Request {
	l := obj.GetLabels()
	if l[desired.LabelManagedBy] != desired.OperatorName || l[desired.LabelBaseline] == "" {
		return nil
	}
	r.markDirty(l[desired.LabelBaseline], obj.GetNamespace())
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: l[desired.LabelBaseline]}}}
}
