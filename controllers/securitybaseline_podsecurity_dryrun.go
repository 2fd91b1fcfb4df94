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
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// maxViolationResults caps the violating pod groups reported per namespace.
const maxViolationResults = 20

// podViolation is a group of running pods that violate an enforce level for the same reasons,
// as the API server's Pod Security admission reports them on a namespace update.
type podViolation struct {
	// pod names the first pod of the group; pods counts the group.
	pod     string
	pods    int
	message string
}

// podSecurityCheckKind keys a namespace's Pod Security check in the verdict set.
const podSecurityCheckKind = "pod-security-check"

// podSecurityFinding is what a Pod Security dry run found: the violating pod groups (capped)
// and the count of violating pods. As a verdict it is valid for the namespace's
// resourceVersion and the baseline's generation, and for rejectedRetryAfter, since running
// pods are not watched.
type podSecurityFinding struct {
	violations []podViolation
	pods       int
}

// warningsKey is the context key of the warnings sink of one request.
type warningsKey struct{}

// warningSink collects the warnings the API server returns for the requests made with its context.
type warningSink struct {
	mu       sync.Mutex
	messages []string
}

// collectWarnings is the warning handler of the dry-run client: it hands every warning to the
// sink in the request's context.
type collectWarnings struct{}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (collectWarnings) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, message string) {
	if sink, ok := ctx.Value(warningsKey{}).(*warningSink); ok && code == 299 {
		sink.mu.Lock()
		sink.messages = append(sink.messages, message)
		sink.mu.Unlock()
	}
}

// newDryRunClient returns a client whose requests hand the API server's warnings to the sink
// in their context (see collectWarnings).
func newDryRunClient(cfg *rest.Config, opts client.Options) (client.Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = collectWarnings{}
	return client.New(cfg, opts)
}

// raisesEnforce tells whether applying want sets or raises the enforce level (or changes its
// version) of a namespace: only then can running pods violate the new level.
func raisesEnforce(current, want map[string]string) bool {
	level, ok := want[enforceLabel]
	if !ok {
		return false
	}
	have, set := current[enforceLabel]
	return !set || levelRank(level) > levelRank(have) ||
		level == have && want[enforceVersionLabel] != current[enforceVersionLabel]
}

func levelRank(level string) int {
	switch level {
	case "privileged":
		return 0
	case "baseline":
		return 1
	case "restricted":
		return 2
	}
	return 0
}

// dryRunPodSecurity applies the Pod Security labels to a namespace as a server-side dry run
// and returns the running pods the API server says violate the new enforce level.
func (r *SecurityBaselineReconciler) dryRunPodSecurity(ctx context.Context, ns *corev1.Namespace, want map[string]string, manager string) ([]podViolation, int, error) {
	sink := &warningSink{}
	ctx = context.WithValue(ctx, warningsKey{}, sink)
	if err := r.dryRun.Apply(ctx, desired.NamespaceLabels(ns.Name, want), client.FieldOwner(manager), client.ForceOwnership, client.DryRunAll); err != nil {
		return nil, 0, err
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	groups, pods := parseViolations(sink.messages)
	return groups, pods, nil
}

// podWarning matches a Pod Security admission warning about running pods:
// "<pod>: <reasons>" or "<pod> (and N other pod[s]): <reasons>".
var podWarning = regexp.MustCompile(`^([a-z0-9][-a-z0-9.]*)(?: \(and ([0-9]+) other pods?\))?: (.+)$`)

// parseViolations picks the violating pod groups out of the warnings of a namespace update,
// capped at maxViolationResults, and counts the violating pods (all of them).
func parseViolations(warnings []string) (groups []podViolation, pods int) {
	violating := false
	for _, w := range warnings {
		violating = violating || strings.HasPrefix(w, "existing pods in namespace ")
	}
	if !violating {
		return nil, 0
	}
	for _, w := range warnings {
		m := podWarning.FindStringSubmatch(w)
		if m == nil {
			continue
		}
		others, _ := strconv.Atoi(m[2])
		pods += 1 + others
		groups = append(groups, podViolation{pod: m[1], pods: 1 + others, message: m[3]})
	}
	// The same pods give the same groups in the same order, so an unchanged finding never
	// rewrites a report.
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].pod != groups[j].pod {
			return groups[i].pod < groups[j].pod
		}
		return groups[i].message < groups[j].message
	})
	return groups[:min(len(groups), maxViolationResults)], pods
}

// The Pod Security enforce labels of a Namespace.
const (
	enforceLabel        = desired.PodSecurityLabelPrefix + "enforce"
	enforceVersionLabel = desired.PodSecurityLabelPrefix + "enforce-version"
)

// holdEnforce is want with the enforce labels held back: those the baseline already set stay
// as they are, the others are not set.
func holdEnforce(want, current, owned map[string]string) map[string]string {
	held := maps.Clone(want)
	for _, k := range []string{enforceLabel, enforceVersionLabel} {
		delete(held, k)
		if v, ok := owned[k]; ok && current[k] == v {
			held[k] = v
		}
	}
	return held
}
