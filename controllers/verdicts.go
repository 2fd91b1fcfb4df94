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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// rejectedRetryAfter is how long a write the API server rejected (Invalid, Forbidden) is not
// tried again while neither the spec nor the object changes: a slow retry, since an admission
// policy may change without the operator seeing it.
const rejectedRetryAfter = 5 * time.Minute

// verdict is how an object compared with the spec, valid only for the same object (UID and
// resourceVersion, empty for an absent object) and the same baseline generation. Like Cluster
// API's SSA cache it only lets a reconcile skip work whose outcome is known: comparing an
// unchanged object again, or re-sending a write the server rejected. An empty cache gives the
// same result, only slower.
type verdict struct {
	uid             types.UID
	resourceVersion string
	generation      int64
	// drift is nil when the object is as declared; else what is reported while it stays so
	// (Audit drift, or a write the server rejected).
	drift *securityv1alpha1.Drift
	// expires, when set, ends a rejected write's verdict (or a Pod Security check's).
	expires time.Time
	// podSecurity is what a Pod Security dry run of the namespace found (podSecurityCheckKind).
	podSecurity *podSecurityFinding
}

// verdictSet holds the verdicts of one baseline. A pass reads the previous pass's verdicts
// and keeps only those it used or made, so the verdicts of deleted objects, namespaces that
// are gone and earlier generations go with the next pass.
type verdictSet struct {
	uid        types.UID
	mu         sync.Mutex
	prev, next map[desired.Key]verdict
	// seenPrev and seenNext hold the conflicts already reported by an event, so a conflict
	// beyond the status' capped drift list is not reported again on every retry.
	seenPrev, seenNext map[string]bool
}

// verdictsFor returns the verdict set of a baseline, new when the baseline is (a new UID).
func (r *SecurityBaselineReconciler) verdictsFor(b *securityv1alpha1.SecurityBaseline) *verdictSet {
	if v, ok := r.verdicts.Load(b.Name); ok && v.(*verdictSet).uid == b.UID {
		return v.(*verdictSet)
	}
	set := &verdictSet{uid: b.UID, prev: map[desired.Key]verdict{}, next: map[desired.Key]verdict{},
		seenPrev: map[string]bool{}, seenNext: map[string]bool{}}
	r.verdicts.Store(b.Name, set)
	return set
}

// forget drops the verdicts of a baseline that is gone.
func (r *SecurityBaselineReconciler) forget(name string) {
	r.verdicts.Delete(name)
	r.statusWrites.Delete(name)
}

// lookup returns the verdict still valid for the object (nil obj: absent) at generation.
func (v *verdictSet) lookup(key desired.Key, uid types.UID, resourceVersion string, generation int64, now time.Time) *verdict {
	v.mu.Lock()
	defer v.mu.Unlock()
	got, ok := v.next[key]
	if !ok {
		got, ok = v.prev[key]
	}
	if !ok || got.uid != uid || got.resourceVersion != resourceVersion || got.generation != generation ||
		(!got.expires.IsZero() && now.After(got.expires)) {
		return nil
	}
	v.next[key] = got
	return &got
}

// record stores a verdict for the next passes.
func (v *verdictSet) record(key desired.Key, got verdict) {
	if got.resourceVersion == "" && got.drift == nil {
		return // nothing to skip next time
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.next[key] = got
}

// firstSeen tells whether a conflict is reported for the first time, and remembers it.
func (v *verdictSet) firstSeen(identity string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	seen := v.seenPrev[identity] || v.seenNext[identity]
	v.seenNext[identity] = true
	return !seen
}

// rotate ends a pass: the verdicts it used or made become the previous ones.
func (v *verdictSet) rotate() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.prev, v.next = v.next, make(map[desired.Key]verdict, len(v.next))
	v.seenPrev, v.seenNext = v.seenNext, map[string]bool{}
}
