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

// Selects tells whether a baseline targets a namespace of the given name and labels, as the
// operator decides it: the namespace is not protected, not in excludeNamespaces, and the
// namespaceSelector matches its labels. The label kubernetes.io/metadata.name, which the API
// server sets on every Namespace, is implied. When it does not, reason says why.
func Selects(b *securityv1alpha1.SecurityBaseline, namespace string, nsLabels map[string]string, protected []string) (selected bool, reason string, err error) {
	selector, err := metav1.LabelSelectorAsSelector(&b.Spec.NamespaceSelector)
	if err != nil {
		return false, "", fmt.Errorf("spec.namespaceSelector: %w", err)
	}
	set := labels.Set{}
	maps.Copy(set, nsLabels)
	set[corev1.LabelMetadataName] = namespace
	switch {
	case slices.Contains(protected, namespace):
		return false, "namespace " + namespace + " is protected: the operator never targets it", nil
	case slices.Contains(b.Spec.ExcludeNamespaces, namespace):
		return false, "namespace " + namespace + " is listed in spec.excludeNamespaces", nil
	case !selector.Matches(set):
		return false, "spec.namespaceSelector does not match the labels of namespace " + namespace, nil
	}
	return true, "", nil
}
