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

// Package desired builds, as pure functions, what a SecurityBaseline requires in one namespace:
// the Server-Side Apply configurations of its NetworkPolicies, RBAC, ServiceAccounts and secret
// stores, and the Pod Security labels of the Namespace itself.
package desired

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// Labels and values the operator puts on every object it manages.
const (
	// OperatorName is the app.kubernetes.io/managed-by value and the field-manager prefix.
	OperatorName = "securitybaseline-operator"
	// LabelManagedBy marks every object the operator manages.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelBaseline names the SecurityBaseline an object belongs to.
	LabelBaseline = "security.baseline.dev/baseline"
	// NamespacePlaceholder is replaced by the target namespace's name where the contract allows it.
	NamespacePlaceholder = "$(NAMESPACE)"
	// PodSecurityLabelPrefix prefixes every Pod Security Standards label.
	PodSecurityLabelPrefix = "pod-security.kubernetes.io/"
)

// Suffixes of the NetworkPolicies generated from networkPolicies' switches.
const (
	DefaultDenySuffix        = "-default-deny"
	AllowDNSSuffix           = "-allow-dns"
	AllowSameNamespaceSuffix = "-allow-same-namespace"
)

// Kinds of the objects a baseline manages in a namespace, with their API group and version.
var (
	NetworkPolicyGVK       = networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy")
	RoleGVK                = rbacv1.SchemeGroupVersion.WithKind("Role")
	RoleBindingGVK         = rbacv1.SchemeGroupVersion.WithKind("RoleBinding")
	ServiceAccountGVK      = corev1.SchemeGroupVersion.WithKind("ServiceAccount")
	SecretStoreGVK         = schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1", Kind: "SecretStore"}
	SecretProviderClassGVK = schema.GroupVersionKind{Group: "secrets-store.csi.x-k8s.io", Version: "v1", Kind: "SecretProviderClass"}
)

// ManagedGVKs lists every namespaced kind a baseline can manage, built-in kinds first.
var ManagedGVKs = []schema.GroupVersionKind{
	NetworkPolicyGVK, RoleGVK, RoleBindingGVK, ServiceAccountGVK, SecretStoreGVK, SecretProviderClassGVK,
}

// Object is one object a baseline requires in a namespace.
type Object struct {
	// GVK is the object's kind.
	GVK schema.GroupVersionKind
	// Namespace and Name identify the object.
	Namespace, Name string
	// Apply is the Server-Side Apply configuration declaring exactly the baseline's fields.
	Apply runtime.ApplyConfiguration
	// Hash is the content hash stamped on the object (SpecHashAnnotation).
	Hash string
	// DependsOn lists the objects of the baseline in the same namespace this one must not be
	// written without (the Role of a RoleBinding, the ServiceAccount of a secret store).
	DependsOn []Key
}

// Key identifies an object of a baseline across namespaces and kinds.
type Key struct {
	Kind, Namespace, Name string
}

// Key returns the object's key.
func (o Object) Key() Key { return Key{Kind: o.GVK.Kind, Namespace: o.Namespace, Name: o.Name} }

// FieldManager is the Server-Side Apply field manager of a baseline: one per baseline, so two
// baselines never strip each other's fields.
func FieldManager(baselineName string) string { return OperatorName + "/" + baselineName }

// Labels are the labels every object of the baseline carries. The baseline's own labels and
// annotations are never copied (GitOps tools track objects by them).
func Labels(baselineName string) map[string]string {
	return map[string]string{LabelManagedBy: OperatorName, LabelBaseline: baselineName}
}

// ForNamespace returns every object the baseline requires in namespace, in a stable order,
// each stamped with its content hash.
func ForNamespace(b *securityv1alpha1.SecurityBaseline, namespace string) ([]Object, error) {
	var objs []Object
	add := func(gvk schema.GroupVersionKind, name string, ac runtime.ApplyConfiguration) error {
		hash, err := withSpecHash(ac)
		if err != nil {
			return err
		}
		o := Object{GVK: gvk, Namespace: namespace, Name: name, Apply: ac, Hash: hash}
		o.DependsOn = dependencies(b, namespace, o, nil)
		objs = append(objs, o)
		return nil
	}
	var errs []error
	for _, np := range networkPolicies(b, namespace) {
		errs = append(errs, add(NetworkPolicyGVK, *np.Name, np))
	}
	if rbac := b.Spec.RBAC; rbac != nil {
		for _, r := range rbac.Roles {
			errs = append(errs, add(RoleGVK, r.Name, role(b, namespace, r)))
		}
		for _, rb := range rbac.RoleBindings {
			errs = append(errs, add(RoleBindingGVK, rb.Name, roleBinding(b, namespace, rb)))
		}
		for _, sa := range rbac.ServiceAccounts {
			errs = append(errs, add(ServiceAccountGVK, sa.Name, serviceAccount(b, namespace, sa.Name)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, s := range b.Spec.SecretStores {
		u, err := secretStore(b, namespace, s)
		if err != nil {
			return nil, err
		}
		spec, _ := u.Object["spec"].(map[string]any)
		hash, err := unstructuredSpecHash(u)
		if err != nil {
			return nil, err
		}
		o := Object{GVK: u.GroupVersionKind(), Namespace: namespace, Name: s.Name,
			Apply: client.ApplyConfigurationFromUnstructured(u), Hash: hash}
		o.DependsOn = dependencies(b, namespace, o, spec)
		objs = append(objs, o)
	}
	return objs, nil
}

// PodSecurityLabels returns the Pod Security Standards labels the baseline sets on a Namespace
// (empty when it declares none).
func PodSecurityLabels(ps *securityv1alpha1.PodSecurity) map[string]string {
	labels := map[string]string{}
	if ps == nil {
		return labels
	}
	version := ps.Version
	if version == "" {
		version = "latest"
	}
	for mode, level := range map[string]securityv1alpha1.PodSecurityLevel{
		"enforce": ps.Enforce, "audit": ps.Audit, "warn": ps.Warn,
	} {
		if level == "" {
			continue
		}
		labels[PodSecurityLabelPrefix+mode] = string(level)
		labels[PodSecurityLabelPrefix+mode+"-version"] = version
	}
	return labels
}

// NamespaceLabels is the apply configuration that sets (only) the given labels on a Namespace.
// With no labels it releases every label the field manager set before. A Namespace is never
// owned by a baseline, so it carries no ownerReference.
func NamespaceLabels(name string, labels map[string]string) *corev1ac.NamespaceApplyConfiguration {
	ns := corev1ac.Namespace(name)
	if len(labels) > 0 {
		ns.WithLabels(labels)
	}
	return ns
}

// ownerReferences is the controller ownerReference of an unstructured object of b.
func ownerReferences(b *securityv1alpha1.SecurityBaseline) []metav1.OwnerReference {
	ref := metav1.OwnerReference{}
	mustConvert(ownerReference(b), &ref)
	return []metav1.OwnerReference{ref}
}

func ownerReference(b *securityv1alpha1.SecurityBaseline) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(securityv1alpha1.GroupVersion.String()).
		WithKind("SecurityBaseline").
		WithName(b.Name).
		WithUID(b.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

func networkPolicy(b *securityv1alpha1.SecurityBaseline, namespace, name string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return networkingv1ac.NetworkPolicy(name, namespace).
		WithLabels(Labels(b.Name)).
		WithOwnerReferences(ownerReference(b))
}

func networkPolicies(b *securityv1alpha1.SecurityBaseline, namespace string) []*networkingv1ac.NetworkPolicyApplyConfiguration {
	spec := b.Spec.NetworkPolicies
	if spec == nil {
		return nil
	}
	var nps []*networkingv1ac.NetworkPolicyApplyConfiguration
	everyPod := metav1ac.LabelSelector()
	if len(spec.DefaultDeny) > 0 {
		nps = append(nps, networkPolicy(b, namespace, b.Name+DefaultDenySuffix).
			WithSpec(networkingv1ac.NetworkPolicySpec().
				WithPodSelector(everyPod).
				WithPolicyTypes(spec.DefaultDeny...)))
	}
	if spec.AllowDNS {
		dnsPort := intstr.FromInt32(53)
		nps = append(nps, networkPolicy(b, namespace, b.Name+AllowDNSSuffix).
			WithSpec(networkingv1ac.NetworkPolicySpec().
				WithPodSelector(everyPod).
				WithPolicyTypes(networkingv1.PolicyTypeEgress).
				WithEgress(networkingv1ac.NetworkPolicyEgressRule().
					WithTo(networkingv1ac.NetworkPolicyPeer().
						WithNamespaceSelector(metav1ac.LabelSelector().
							WithMatchLabels(map[string]string{corev1.LabelMetadataName: metav1.NamespaceSystem})).
						WithPodSelector(metav1ac.LabelSelector().
							WithMatchLabels(map[string]string{"k8s-app": "kube-dns"}))).
					WithPorts(
						networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(dnsPort),
						networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(dnsPort),
					))))
	}
	if spec.AllowSameNamespace {
		nps = append(nps, networkPolicy(b, namespace, b.Name+AllowSameNamespaceSuffix).
			WithSpec(networkingv1ac.NetworkPolicySpec().
				WithPodSelector(everyPod).
				WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
				WithIngress(networkingv1ac.NetworkPolicyIngressRule().
					WithFrom(networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()))).
				WithEgress(networkingv1ac.NetworkPolicyEgressRule().
					WithTo(networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector())))))
	}
	for _, p := range spec.Policies {
		np := networkPolicy(b, namespace, p.Name)
		np.Spec = &networkingv1ac.NetworkPolicySpecApplyConfiguration{}
		mustConvert(p.Spec, np.Spec)
		if np.Spec.PodSelector == nil {
			np.Spec.WithPodSelector(metav1ac.LabelSelector())
		}
		nps = append(nps, np)
	}
	return nps
}

func role(b *securityv1alpha1.SecurityBaseline, namespace string, r securityv1alpha1.Role) *rbacv1ac.RoleApplyConfiguration {
	ac := rbacv1ac.Role(r.Name, namespace).
		WithLabels(Labels(b.Name)).
		WithOwnerReferences(ownerReference(b))
	for _, rule := range r.Rules {
		rac := &rbacv1ac.PolicyRuleApplyConfiguration{}
		mustConvert(rule, rac)
		ac.WithRules(rac)
	}
	return ac
}

func roleBinding(b *securityv1alpha1.SecurityBaseline, namespace string, rb securityv1alpha1.RoleBinding) *rbacv1ac.RoleBindingApplyConfiguration {
	apiGroup := rb.RoleRef.APIGroup
	if apiGroup == "" {
		apiGroup = rbacv1.GroupName
	}
	ac := rbacv1ac.RoleBinding(rb.Name, namespace).
		WithLabels(Labels(b.Name)).
		WithOwnerReferences(ownerReference(b)).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(apiGroup).WithKind(rb.RoleRef.Kind).WithName(rb.RoleRef.Name))
	for _, s := range rb.Subjects {
		subject := rbacv1ac.Subject().WithKind(s.Kind).WithName(substitute(s.Name, namespace))
		if s.APIGroup != "" {
			subject.WithAPIGroup(s.APIGroup)
		}
		ns := substitute(s.Namespace, namespace)
		if ns == "" && s.Kind == "ServiceAccount" {
			ns = namespace
		}
		if ns != "" {
			subject.WithNamespace(ns)
		}
		ac.WithSubjects(subject)
	}
	return ac
}

func serviceAccount(b *securityv1alpha1.SecurityBaseline, namespace, name string) *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(name, namespace).
		WithLabels(Labels(b.Name)).
		WithOwnerReferences(ownerReference(b)).
		WithAutomountServiceAccountToken(false)
}

func secretStore(b *securityv1alpha1.SecurityBaseline, namespace string, s securityv1alpha1.SecretStore) (*unstructured.Unstructured, error) {
	gvk, raw := SecretStoreGVK, s.ExternalSecrets
	if s.CSI != nil {
		gvk, raw = SecretProviderClassGVK, s.CSI
	}
	var spec map[string]any
	if raw != nil && len(raw.Raw) > 0 {
		if err := json.Unmarshal(raw.Raw, &spec); err != nil {
			return nil, fmt.Errorf("secretStores[%s]: spec is not a JSON object: %w", s.Name, err)
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	u.SetName(s.Name)
	u.SetNamespace(namespace)
	u.SetLabels(Labels(b.Name))
	u.SetOwnerReferences(ownerReferences(b))
	if spec != nil {
		u.Object["spec"] = substituteAll(spec, namespace)
	}
	return u, nil
}

// substitute replaces $(NAMESPACE) in s by namespace.
func substitute(s, namespace string) string {
	return strings.ReplaceAll(s, NamespacePlaceholder, namespace)
}

// substituteAll replaces $(NAMESPACE) in every string value of a JSON value (not in keys).
func substituteAll(v any, namespace string) any {
	switch v := v.(type) {
	case string:
		return substitute(v, namespace)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substituteAll(e, namespace)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substituteAll(e, namespace)
		}
		return out
	default:
		return v
	}
}

// mustConvert copies a typed API value into its apply configuration through JSON; both share
// the same JSON schema, so a failure is a programming error.
func mustConvert(from, to any) {
	raw, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(raw, to)
	}
	if err != nil {
		panic(fmt.Sprintf("converting %T to %T: %v", from, to, err))
	}
}
