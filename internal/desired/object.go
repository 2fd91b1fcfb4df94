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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// SpecHashAnnotation records on every managed object a hash of the content the baseline
// declared for it when the operator wrote it. A managed object that differs from the spec while
// its hash still matches the spec was changed by someone else (drift); one whose hash differs
// was written for an earlier spec (a rollout, not drift).
const SpecHashAnnotation = "security.baseline.dev/spec-hash"

// withSpecHash stamps an apply configuration with the hash of its own content and returns the
// hash. Every configuration ForNamespace builds passes through here exactly once.
func withSpecHash(ac runtime.ApplyConfiguration) (string, error) {
	raw, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:8])
	annotations := map[string]string{SpecHashAnnotation: hash}
	switch ac := ac.(type) {
	case *networkingv1ac.NetworkPolicyApplyConfiguration:
		ac.WithAnnotations(annotations)
	case *rbacv1ac.RoleApplyConfiguration:
		ac.WithAnnotations(annotations)
	case *rbacv1ac.RoleBindingApplyConfiguration:
		ac.WithAnnotations(annotations)
	case *corev1ac.ServiceAccountApplyConfiguration:
		ac.WithAnnotations(annotations)
	default:
		return "", fmt.Errorf("no spec hash for %T", ac)
	}
	return hash, nil
}

// unstructuredSpecHash stamps an unstructured object (a secret store) with its content hash.
func unstructuredSpecHash(u *unstructured.Unstructured) (string, error) {
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:8])
	u.SetAnnotations(map[string]string{SpecHashAnnotation: hash})
	return hash, nil
}

// Unstructured renders the object's apply configuration as an unstructured object, to create
// it or to apply it under an optimistic lock.
func (o Object) Unstructured() (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(o.Apply)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	u.SetGroupVersionKind(o.GVK)
	return u, nil
}

// dependencies returns the objects of the baseline an object must not be written without:
// the Role a RoleBinding grants, and the ServiceAccounts a secret store authenticates as.
func dependencies(b *securityv1alpha1.SecurityBaseline, namespace string, o Object, store map[string]any) []Key {
	var deps []Key
	if rb, ok := o.Apply.(*rbacv1ac.RoleBindingApplyConfiguration); ok && rb.RoleRef != nil &&
		rb.RoleRef.Kind != nil && *rb.RoleRef.Kind == RoleGVK.Kind && rb.RoleRef.Name != nil {
		deps = append(deps, Key{Kind: RoleGVK.Kind, Namespace: namespace, Name: *rb.RoleRef.Name})
	}
	if store != nil && b.Spec.RBAC != nil {
		declared := map[string]bool{}
		for _, sa := range b.Spec.RBAC.ServiceAccounts {
			declared[sa.Name] = true
		}
		for _, name := range serviceAccountRefs(store) {
			if declared[name] {
				deps = append(deps, Key{Kind: ServiceAccountGVK.Kind, Namespace: namespace, Name: name})
			}
		}
	}
	return deps
}

// serviceAccountRefs returns the names of every serviceAccountRef in a secret store spec
// (External Secrets providers authenticate through {serviceAccountRef: {name: ...}}).
func serviceAccountRefs(v any) []string {
	var names []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if ref, ok := e.(map[string]any); ok && k == "serviceAccountRef" {
				if name, ok := ref["name"].(string); ok {
					names = append(names, name)
				}
			}
			names = append(names, serviceAccountRefs(e)...)
		}
	case []any:
		for _, e := range v {
			names = append(names, serviceAccountRefs(e)...)
		}
	}
	return names
}
