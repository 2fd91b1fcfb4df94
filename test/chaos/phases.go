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

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/securitybaseline/securitybaseline-operator/test/internal/harness"
)

// rollOutUnderChaos starts the operator, applies the baseline, and kills the operator K times
// at random moments (restarting it each time), and kube-apiserver once.
func (r *runner) rollOutUnderChaos(ctx context.Context) error {
	logf("step 2: starting the operator and applying the baseline")
	if err := r.startOperator(); err != nil {
		return err
	}
	if err := r.op.WaitReady(ctx, time.Minute); err != nil {
		return err
	}
	b, err := newBaseline()
	if err != nil {
		return err
	}
	applied := time.Now()
	if err := r.c.Create(ctx, b); err != nil {
		return fmt.Errorf("creating the baseline: %w", err)
	}
	r.uid = b.GetUID()
	r.applied = applied
	rounds := max(r.o.k, 1)
	r.sum.apiRestartRound = r.rng.IntN(rounds)
	since := applied
	for round := range rounds {
		if round == r.sum.apiRestartRound {
			if since, err = r.restartAPIServer(ctx); err != nil {
				return err
			}
		}
		if round >= r.o.k {
			break
		}
		delay := r.randomDelay()
		if err := sleep(ctx, time.Until(since.Add(delay))); err != nil {
			return err
		}
		r.checkAlive(fmt.Sprintf("before kill %d", round+1))
		progress := r.progress(ctx)
		r.op.Kill()
		r.sum.killDelays = append(r.sum.killDelays, delay)
		logf("step 3: kill %d/%d: SIGKILL %.2f s after start (%s)", round+1, r.o.k, delay.Seconds(), progress)
		if err := r.startOperator(); err != nil {
			return err
		}
		since = r.op.Started
	}
	r.lastStart = r.op.Started
	return nil
}

// restartAPIServer kills kube-apiserver after a random delay while the operator runs, and
// starts it again; it returns when it is ready.
func (r *runner) restartAPIServer(ctx context.Context) (time.Time, error) {
	if err := sleep(ctx, r.randomDelay()); err != nil {
		return time.Time{}, err
	}
	progress := r.progress(ctx)
	start := time.Now()
	if err := r.cluster.RestartAPIServer(ctx, 2*time.Minute); err != nil {
		return time.Time{}, err
	}
	r.sum.apiRestart = time.Since(start)
	logf("step 3: restarted kube-apiserver in %.1f s (before: %s)", r.sum.apiRestart.Seconds(), progress)
	return time.Now(), nil
}

// progress describes the rollout for the log; it never fails.
func (r *runner) progress(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	o, err := getBaseline(ctx, r.c)
	if err != nil {
		return "status unknown: " + err.Error()
	}
	nps := &networkingv1.NetworkPolicyList{}
	if err := r.c.List(ctx, nps, client.MatchingLabels{labelBaseline: baselineName}); err != nil {
		return "NetworkPolicies unknown: " + err.Error()
	}
	return fmt.Sprintf("NetworkPolicies %d/%d, compliant %d/%d", len(nps.Items), networkPoliciesPerNamespace*r.o.n, o.status.CompliantNamespaces, r.o.n)
}

// converge waits for Ready with every namespace compliant, then checks the final state and the
// status. It reports false when the baseline did not converge in time.
func (r *runner) converge(ctx context.Context) (bool, error) {
	timeout := r.o.readyTimeoutInitial + time.Duration(r.o.n)*r.o.readyTimeoutPerNS
	logf("step 4: waiting up to %s for Ready with %d compliant namespaces, and the operator idle", timeout, r.o.n)
	var last observed
	var lastErr error
	reconciles := 0.0
	err := harness.Poll(ctx, 250*time.Millisecond, timeout, func(ctx context.Context) (bool, error) {
		o, err := getBaseline(ctx, r.c)
		if err != nil {
			lastErr = err
			return false, nil
		}
		last = o
		idle, n, err := r.operatorIdle(ctx, "while converging")
		reconciles = n
		return idle && o.status.condition("Ready") == metav1.ConditionTrue && o.status.ObservedGeneration == o.generation &&
			o.status.CompliantNamespaces >= int64(r.o.n), err
	})
	r.sum.rollout, r.sum.afterLastKill = time.Since(r.applied), time.Since(r.lastStart)
	converged := err == nil
	if !converged {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		r.f.add("converge: Ready with every namespace compliant, the last operator idle", "%v after %s; last status: %s; last read error: %v; operator reconciles: %.0f",
			err, timeout, last.status, lastErr, reconciles)
	} else {
		logf("step 4: converged after %.0f reconciles of the last operator: %s", reconciles, last.status)
	}
	s, err := readCluster(ctx, r.c)
	if err != nil {
		return false, err
	}
	before := r.f.count()
	checkFinalState(r.f, s, r.uid, r.selected, r.initial)
	checkStatus(r.f, last, r.o.n)
	logf("step 4: final state and status: %d checks failed", r.f.countSince(before))
	return converged, nil
}
