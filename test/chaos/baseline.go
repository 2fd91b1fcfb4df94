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
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The names of the user contract (docs/api-contract.md). The chaos test drives the operator
// through them only, not through the Go types of the API or the operator's packages.
const (
	baselineName      = "chaos"
	targetLabel       = "chaos.baseline.dev/target"
	labelManagedBy    = "app.kubernetes.io/managed-by"
	operatorName      = "securitybaseline-operator"
	labelBaseline     = "security.baseline.dev/baseline"
	podSecurityPrefix = "pod-security.kubernetes.io/"

	extraPolicyName    = "allow-ingress-controller"
	roleName           = "app-reader"
	bindingName        = "app-readers"
	serviceAccountName = "secrets-reader"
	// excludedNamespace carries the target label but is in excludeNamespaces.
	excludedNamespace = "chaos-excluded"

	// The kinds of the managed objects, the Pod Security level the baseline sets, and the
	// "name" key of the list entries of its spec.
	kindNetworkPolicy  = "NetworkPolicy"
	kindRole           = "Role"
	kindRoleBinding    = "RoleBinding"
	kindServiceAccount = "ServiceAccount"
	restricted         = "restricted"
	nameKey            = "name"

	// networkPoliciesPerNamespace are the three switch policies and the extra one.
	networkPoliciesPerNamespace = 4
	// objectsPerNamespace is what status.managedObjects counts per namespace: 4 NetworkPolicies,
	// a Role, a RoleBinding, a ServiceAccount and the Namespace's Pod Security labels.
	objectsPerNamespace = 8
)

var baselineGVK = schema.GroupVersionKind{Group: "security.baseline.dev", Version: "v1alpha1", Kind: "SecurityBaseline"}

// What the baseline declares.
var (
	extraPolicy = networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "ingress-nginx"}},
		}}}},
	}
	roleRules = []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"pods", "services", "configmaps"}, Verbs: []string{"get", "list", "watch"},
	}}
	bindingRoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindRole, Name: roleName}
	// bindingSubject's name is substituted per namespace.
	bindingSubject  = rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}
	wantPodSecurity = map[string]string{
		podSecurityPrefix + "enforce": restricted, podSecurityPrefix + "enforce-version": "latest",
		podSecurityPrefix + "warn": restricted, podSecurityPrefix + "warn-version": "latest",
	}
)

// newBaseline is the SecurityBaseline under test, as a user writes it.
func newBaseline() (*unstructured.Unstructured, error) {
	policy, err := toMap(&extraPolicy)
	if err != nil {
		return nil, err
	}
	rule, err := toMap(&roleRules[0])
	if err != nil {
		return nil, err
	}
	subject, err := toMap(&bindingSubject)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{nameKey: baselineName},
		"spec": map[string]any{
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{targetLabel: "yes"}},
			"excludeNamespaces": []any{excludedNamespace},
			"deletionPolicy":    "Delete",
			"podSecurity":       map[string]any{"enforce": restricted, "warn": restricted},
			"networkPolicies": map[string]any{
				"defaultDeny": []any{"Ingress", "Egress"}, "allowDNS": true, "allowSameNamespace": true,
				"policies": []any{map[string]any{nameKey: extraPolicyName, "spec": policy}},
			},
			"rbac": map[string]any{
				"roles": []any{map[string]any{nameKey: roleName, "rules": []any{rule}}},
				"roleBindings": []any{map[string]any{nameKey: bindingName, "subjects": []any{subject},
					"roleRef": map[string]any{"apiGroup": bindingRoleRef.APIGroup, "kind": bindingRoleRef.Kind, nameKey: bindingRoleRef.Name}}},
				"serviceAccounts": []any{map[string]any{nameKey: serviceAccountName}},
			},
		},
	}}
	u.SetGroupVersionKind(baselineGVK)
	return u, nil
}

func toMap(v any) (map[string]any, error) {
	return runtime.DefaultUnstructuredConverter.ToUnstructured(v)
}

// drift is an entry of status.drift or status.lastDrift.
type drift struct {
	Namespace string `json:"namespace,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
}

func (d drift) String() string {
	s := fmt.Sprintf("%s %s/%s: %s", d.Kind, d.Namespace, d.Name, d.Reason)
	if d.Message != "" {
		s += " (" + d.Message + ")"
	}
	return s
}

// status is the contract's status of a SecurityBaseline.
type status struct {
	ObservedGeneration  int64              `json:"observedGeneration"`
	MatchedNamespaces   int64              `json:"matchedNamespaces"`
	CompliantNamespaces int64              `json:"compliantNamespaces"`
	ManagedObjects      int64              `json:"managedObjects"`
	DriftedObjects      int64              `json:"driftedObjects"`
	DriftCorrections    int64              `json:"driftCorrections"`
	LastDrift           *drift             `json:"lastDrift,omitempty"`
	Drift               []drift            `json:"drift,omitempty"`
	Conditions          []metav1.Condition `json:"conditions,omitempty"`
}

// condition returns the status of condition t ("" when absent).
func (s status) condition(t string) metav1.ConditionStatus {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func (s status) String() string {
	var conds []string
	for _, c := range s.Conditions {
		conds = append(conds, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return fmt.Sprintf("observedGeneration=%d matched=%d compliant=%d managed=%d drifted=%d driftCorrections=%d conditions=[%s]",
		s.ObservedGeneration, s.MatchedNamespaces, s.CompliantNamespaces, s.ManagedObjects, s.DriftedObjects,
		s.DriftCorrections, strings.Join(conds, " "))
}

// observed is the baseline as read from the API server.
type observed struct {
	uid             types.UID
	generation      int64
	resourceVersion string
	finalizers      []string
	deleting        bool
	status          status
}

func getBaseline(ctx context.Context, c client.Client) (observed, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(baselineGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: baselineName}, u); err != nil {
		return observed{}, err
	}
	o := observed{uid: u.GetUID(), generation: u.GetGeneration(), resourceVersion: u.GetResourceVersion(),
		finalizers: u.GetFinalizers(), deleting: u.GetDeletionTimestamp() != nil}
	if raw, ok := u.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &o.status); err != nil {
			return o, fmt.Errorf("reading the baseline's status: %w", err)
		}
	}
	return o, nil
}
