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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

const namespaceKind = "Namespace"

// podSecurityPeers returns the other live baselines in Enforce mode that set Pod Security
// labels and were created before b (a baseline that does not exist yet comes after all).
func (p *planner) podSecurityPeers(ctx context.Context, b *securityv1alpha1.SecurityBaseline, exists bool) ([]*securityv1alpha1.SecurityBaseline, error) {
	if b.Spec.PodSecurity == nil {
		return nil, nil
	}
	list := &securityv1alpha1.SecurityBaselineList{}
	if err := p.reader.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing SecurityBaselines: %w", err)
	}
	var peers []*securityv1alpha1.SecurityBaseline
	for i := range list.Items {
		peer := &list.Items[i]
		if peer.Name == b.Name || !peer.DeletionTimestamp.IsZero() || peer.Spec.PodSecurity == nil || peer.Spec.Mode == securityv1alpha1.ModeAudit {
			continue
		}
		if exists && !createdBefore(peer, b) {
			continue
		}
		peers = append(peers, peer)
	}
	return peers, nil
}

// createdBefore orders baselines by creation, then by name, as the operator does.
func createdBefore(a, b *securityv1alpha1.SecurityBaseline) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// planPodSecurity decides the Pod Security labels of a target namespace: a conflict when an
// earlier baseline selecting it sets another level, else the labels a dry-run Server-Side
// Apply with the baseline's field manager leaves (labels it no longer declares are released).
func (p *planner) planPodSecurity(ctx context.Context, b *securityv1alpha1.SecurityBaseline, ns *corev1.Namespace, peers []*securityv1alpha1.SecurityBaseline, plan *Plan) error {
	want := desired.PodSecurityLabels(b.Spec.PodSecurity)
	for _, peer := range peers {
		if slices.Contains(peer.Spec.ExcludeNamespaces, ns.Name) {
			continue
		}
		if selected, _, err := desired.Selects(peer, ns.Name, ns.Labels, nil); err != nil || !selected {
			continue
		}
		theirs := desired.PodSecurityLabels(peer.Spec.PodSecurity)
		for _, k := range sortedKeys(want) {
			if v, ok := theirs[k]; ok && v != want[k] {
				plan.Changes = append(plan.Changes, Change{Action: ActionConflict, Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name,
					Message: fmt.Sprintf("label %s is set to %q by SecurityBaseline %s, created earlier", k, v, peer.Name)})
				return nil
			}
		}
	}
	if len(want) == 0 && !hasApplyManager(ns, fieldManager(b.Name)) {
		return nil
	}
	return p.applyPodSecurity(ctx, b.Name, ns, want, plan)
}

// releasePodSecurity takes the baseline's labels off a namespace it no longer targets.
func (p *planner) releasePodSecurity(ctx context.Context, b *securityv1alpha1.SecurityBaseline, ns *corev1.Namespace, plan *Plan) error {
	if !hasApplyManager(ns, fieldManager(b.Name)) {
		return nil
	}
	return p.applyPodSecurity(ctx, b.Name, ns, nil, plan)
}

// applyPodSecurity dry-runs the operator's apply of the Pod Security labels and records the
// labels that change, with the API server's warnings (Pod Security admission says which
// existing pods a new level would reject).
func (p *planner) applyPodSecurity(ctx context.Context, baseline string, ns *corev1.Namespace, want map[string]string, plan *Plan) error {
	m, err := apply.ToMap(desired.NamespaceLabels(ns.Name, want))
	if err != nil {
		return err
	}
	result := &unstructured.Unstructured{Object: m}
	p.warnings.reset()
	err = p.writer.Apply(ctx, client.ApplyConfigurationFromUnstructured(result),
		client.FieldOwner(fieldManager(baseline)), client.ForceOwnership, client.DryRunAll)
	change := Change{Namespace: ns.Name, Kind: namespaceKind, Name: ns.Name, Warnings: p.warnings.take()}
	if err != nil {
		c, err := rejected(&change, err)
		if err != nil {
			return err
		}
		plan.Changes = append(plan.Changes, *c)
		return nil
	}
	diff, err := unifiedDiff(labelsDoc(podSecurityOnly(ns.Labels)), labelsDoc(podSecurityOnly(result.GetLabels())), "baseline")
	if err != nil || diff == "" {
		return err
	}
	change.Action, change.Diff, change.Message = ActionChange, diff, "Pod Security labels"
	plan.Changes = append(plan.Changes, change)
	return nil
}

func podSecurityOnly(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, desired.PodSecurityLabelPrefix) {
			out[k] = v
		}
	}
	return out
}

func labelsDoc(labels map[string]string) map[string]any {
	m := map[string]any{}
	for k, v := range labels {
		m[k] = v
	}
	return map[string]any{"metadata": map[string]any{"labels": m}}
}

// hasApplyManager tells whether a field manager has applied fields of an object.
func hasApplyManager(obj metav1.Object, manager string) bool {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
