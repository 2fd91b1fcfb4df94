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

package desired

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// Selection is the choice of namespaces of a baseline, its selector parsed once: a namespace
// is targeted when it is not protected, not in excludeNamespaces, and the namespaceSelector
// matches its labels. The operator and the kubectl plugin decide it with the same code.
type Selection struct {
	selector  labels.Selector
	excluded  []string
	protected func(namespace string) bool
}

// NewSelection parses a baseline's selection; protected tells the namespaces never targeted.
func NewSelection(b *securityv1alpha1.SecurityBaseline, protected func(namespace string) bool) (*Selection, error) {
	selector, err := metav1.LabelSelectorAsSelector(&b.Spec.NamespaceSelector)
	if err != nil {
		return nil, fmt.Errorf("spec.namespaceSelector: %w", err)
	}
	if protected == nil {
		protected = func(string) bool { return false }
	}
	return &Selection{selector: selector, excluded: b.Spec.ExcludeNamespaces, protected: protected}, nil
}

// Reason tells why a namespace of the given name and labels is not targeted, or "" when it
// is. The label kubernetes.io/metadata.name, which the API server sets on every Namespace, is
// implied.
func (s *Selection) Reason(namespace string, nsLabels map[string]string) string {
	switch {
	case s.protected(namespace):
		return "namespace " + namespace + " is protected: the operator never targets it"
	case slices.Contains(s.excluded, namespace):
		return "namespace " + namespace + " is listed in spec.excludeNamespaces"
	case !s.selector.Matches(withNameLabel(namespace, nsLabels)):
		return "spec.namespaceSelector does not match the labels of namespace " + namespace
	}
	return ""
}

// Selects tells whether a namespace of the given name and labels is targeted.
func (s *Selection) Selects(namespace string, nsLabels map[string]string) bool {
	return !s.protected(namespace) && !slices.Contains(s.excluded, namespace) &&
		s.selector.Matches(withNameLabel(namespace, nsLabels))
}

// withNameLabel returns the labels with kubernetes.io/metadata.name set to the namespace's
// name, copying them only when they lack it (a live Namespace always has it).
func withNameLabel(namespace string, nsLabels map[string]string) labels.Set {
	if nsLabels[corev1.LabelMetadataName] == namespace {
		return nsLabels
	}
	set := labels.Set{}
	maps.Copy(set, nsLabels)
	set[corev1.LabelMetadataName] = namespace
	return set
}

// Selects tells whether a baseline targets a namespace of the given name and labels (see
// Selection), and when it does not, why.
func Selects(b *securityv1alpha1.SecurityBaseline, namespace string, nsLabels map[string]string, protected []string) (selected bool, reason string, err error) {
	selection, err := NewSelection(b, func(ns string) bool { return slices.Contains(protected, ns) })
	if err != nil {
		return false, "", err
	}
	reason = selection.Reason(namespace, nsLabels)
	return reason == "", reason, nil
}
