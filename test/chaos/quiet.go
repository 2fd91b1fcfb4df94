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

package main

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/securitybaseline/securitybaseline-operator/test/internal/harness"
)

// controllerName is the name of the operator's controller in its metrics.
const controllerName = "securitybaseline"

// The labels of the controller-runtime metrics naming a controller and a work queue.
const (
	controllerLabel = "controller"
	queueLabel      = "name"
)

// settle is how long a restarted operator is watched after its queue emptied.
const settle = 5 * time.Second

// quietRestart checks that a restarted operator whose cluster did not change writes nothing at
// all: no request that changes something, no resourceVersion or Namespace label changed.
func (r *runner) quietRestart(ctx context.Context) error {
	start := time.Now()
	logf("step 5: stopping the operator; a fresh one must write nothing")
	r.stopOperator("before the quiet restart")
	before, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	if err := r.startOperator(); err != nil {
		return err
	}
	if err := r.op.WaitReady(ctx, time.Minute); err != nil {
		return err
	}
	timeout := time.Minute + time.Duration(r.o.n)*50*time.Millisecond
	if err := harness.Poll(ctx, 200*time.Millisecond, timeout, func(ctx context.Context) (bool, error) {
		idle, reconciles, err := r.operatorIdle(ctx, "quiet restart")
		r.sum.quietReconciles = reconciles
		return idle, err
	}); err != nil {
		r.f.add("quiet restart: the operator reconciled and went idle", "%v within %s (%.0f reconciles seen)", err, timeout, r.sum.quietReconciles)
	}
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	m, err := harness.Scrape(ctx, r.op.MetricsURL())
	if err != nil {
		return fmt.Errorf("reading the operator's metrics: %w", err)
	}
	r.sum.quietReconciles = m.Sum("controller_runtime_reconcile_total", map[string]string{controllerLabel: controllerName})
	if writes := m.Requests(harness.WriteMethods...); m.Writes() > 0 {
		f := "%d write requests (rest_client_requests_total by method: %v) after %.0f reconciles"
		r.f.add("quiet restart: zero POST/PUT/PATCH/DELETE requests", f, m.Writes(), writes, r.sum.quietReconciles)
	}
	after, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	compareSnapshots(r.f, "quiet restart: resourceVersions and Namespace labels unchanged", before, after)
	r.sum.quiet = time.Since(start)
	logf("step 5: %.0f reconciles, %d writes", r.sum.quietReconciles, m.Writes())
	return nil
}

// operatorIdle reports whether the running operator has reconciled at least once and has
// nothing queued or in progress, from its metrics; it also returns its reconcile count.
func (r *runner) operatorIdle(ctx context.Context, when string) (bool, float64, error) {
	if !r.checkAlive(when) {
		return false, 0, fmt.Errorf("the operator exited (see %s)", r.op.LogPath())
	}
	m, err := harness.Scrape(ctx, r.op.MetricsURL())
	if err != nil {
		return false, 0, nil // not serving yet, or busy: ask again
	}
	reconciles := m.Sum("controller_runtime_reconcile_total", map[string]string{controllerLabel: controllerName})
	return reconciles > 0 &&
		m.Sum("workqueue_depth", map[string]string{queueLabel: controllerName}) == 0 &&
		m.Sum("controller_runtime_active_workers", map[string]string{controllerLabel: controllerName}) == 0, reconciles, nil
}

// snapshot records the resourceVersion of the baseline and of every object of it, and the
// labels of every Namespace.
func (r *runner) snapshot(ctx context.Context) (map[string]string, error) {
	o, err := getBaseline(ctx, r.c)
	if err != nil {
		return nil, err
	}
	s, err := readCluster(ctx, r.c)
	if err != nil {
		return nil, err
	}
	snap := s.snapshot(r.uid)
	snap["SecurityBaseline "+baselineName] = "resourceVersion " + o.resourceVersion
	return snap, nil
}

// deleteBaseline deletes the baseline (deletionPolicy Delete) and checks that, once it is
// gone, nothing of it is left.
func (r *runner) deleteBaseline(ctx context.Context) error {
	start := time.Now()
	logf("step 6: deleting the baseline")
	b, err := newBaseline()
	if err != nil {
		return err
	}
	if err := r.c.Delete(ctx, b); err != nil {
		return fmt.Errorf("deleting the baseline: %w", err)
	}
	var last observed
	timeout := time.Minute + time.Duration(r.o.n)*100*time.Millisecond
	err = harness.Poll(ctx, 100*time.Millisecond, timeout, func(ctx context.Context) (bool, error) {
		o, err := getBaseline(ctx, r.c)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err == nil {
			last = o
		}
		return false, nil
	})
	r.sum.deletion = time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.f.add("deletion: the baseline is gone (finalizer released)", "%v after %s: deleting=%t finalizers=%v status: %s",
			err, timeout, last.deleting, last.finalizers, last.status)
	}
	s, err := readCluster(ctx, r.c)
	if err != nil {
		return err
	}
	before := r.f.count()
	checkNothingLeft(r.f, s, r.uid, r.initial)
	r.checkAlive("after deletion")
	logf("step 6: baseline gone after %.1f s; %d checks failed", r.sum.deletion.Seconds(), r.f.countSince(before))
	return nil
}
