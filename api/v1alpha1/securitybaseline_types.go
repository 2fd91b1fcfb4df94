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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Mode says whether a baseline repairs drift or only reports it.
// +kubebuilder:validation:Enum=Enforce;Audit
type Mode string

const (
	// ModeEnforce applies the baseline and repairs drift.
	ModeEnforce Mode = "Enforce"
	// ModeAudit writes nothing to target namespaces and reports what Enforce would change.
	ModeAudit Mode = "Audit"
)

// DeletionPolicy says what happens to managed objects when their baseline is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionPolicyDelete removes every managed object and Pod Security label.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyOrphan keeps managed objects, stripped of their ownerReference.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
)

// PodSecurityLevel is a Pod Security Standards level.
// +kubebuilder:validation:Enum=privileged;baseline;restricted
type PodSecurityLevel string

// SecurityBaselineSpec declares the security baseline every selected namespace must hold.
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, !format.qualifiedName().validate(k).hasValue())",message="namespaceSelector.matchLabels keys must be label keys: an optional DNS subdomain prefix (at most 253 characters) and '/', then a name of at most 63 characters of alphanumerics, '-', '_' and '.' that starts and ends alphanumeric",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, v, size(v) <= 63)",message="namespaceSelector.matchLabels values must be at most 63 characters",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, v, size(v) == 0 || (v.charAt(0) >= 'a' ? v.charAt(0) <= 'z' : (v.charAt(0) >= 'A' ? v.charAt(0) <= 'Z' : (v.charAt(0) >= '0' && v.charAt(0) <= '9'))))",message="namespaceSelector.matchLabels values must start with an alphanumeric character",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, v, size(v) == 0 || (v.charAt(size(v) - 1) >= '0' && v.charAt(size(v) - 1) <= 'z'))",message="namespaceSelector.matchLabels values must end with an alphanumeric character",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, v, size(v) == 0 || !(v.charAt(size(v) - 1) > '9' && v.charAt(size(v) - 1) < 'A'))",message="namespaceSelector.matchLabels values must end with an alphanumeric character",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchLabels) || self.namespaceSelector.matchLabels.all(k, v, size(v) == 0 || !(v.charAt(size(v) - 1) > 'Z' && v.charAt(size(v) - 1) < 'a'))",message="namespaceSelector.matchLabels values must end with an alphanumeric character",fieldPath=".namespaceSelector.matchLabels"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchExpressions) || self.namespaceSelector.matchExpressions.all(e, size(e.key) > 0 && size(e.key) <= 317 && (e.key.charAt(0) >= 'a' ? e.key.charAt(0) <= 'z' : (e.key.charAt(0) >= 'A' ? e.key.charAt(0) <= 'Z' : (e.key.charAt(0) >= '0' && e.key.charAt(0) <= '9'))) && (e.key.charAt(size(e.key) - 1) >= 'a' ? e.key.charAt(size(e.key) - 1) <= 'z' : (e.key.charAt(size(e.key) - 1) >= 'A' ? e.key.charAt(size(e.key) - 1) <= 'Z' : (e.key.charAt(size(e.key) - 1) >= '0' && e.key.charAt(size(e.key) - 1) <= '9'))))",message="namespaceSelector.matchExpressions[].key must be a label key: an optional DNS subdomain prefix (at most 253 characters) and '/', then a name of at most 63 characters of alphanumerics, '-', '_' and '.' that starts and ends alphanumeric",fieldPath=".namespaceSelector.matchExpressions"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchExpressions) || self.namespaceSelector.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="namespaceSelector.matchExpressions[].operator must be one of In, NotIn, Exists, DoesNotExist",fieldPath=".namespaceSelector.matchExpressions"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceSelector.matchExpressions) || self.namespaceSelector.matchExpressions.all(e, e.operator in ['Exists', 'DoesNotExist'] ? !has(e.values) || size(e.values) == 0 : has(e.values) && size(e.values) > 0)",message="namespaceSelector.matchExpressions[].values must be non-empty for In and NotIn and empty for Exists and DoesNotExist",fieldPath=".namespaceSelector.matchExpressions"
type SecurityBaselineSpec struct {
	// namespaceSelector picks the target namespaces by their labels. An empty selector ({})
	// selects every namespace. Protected namespaces (kube-system, kube-public, kube-node-lease
	// and the operator's own) are never targeted.
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// excludeNamespaces lists namespace names that are never targeted, whatever the selector says.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`

	// mode is Enforce (apply and repair drift) or Audit (write nothing, report what Enforce
	// would change).
	// +optional
	// +kubebuilder:default=Enforce
	Mode Mode `json:"mode,omitempty"`

	// suspend pauses all reconciliation of this baseline while true; managed objects stay as they are.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// deletionPolicy says what happens to managed objects when this baseline is deleted:
	// Delete removes every managed object and Pod Security label, Orphan keeps them without
	// their ownerReference.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// podSecurity sets the Pod Security Standards labels on each target Namespace.
	// +optional
	PodSecurity *PodSecurity `json:"podSecurity,omitempty"`

	// networkPolicies declares the NetworkPolicies of each target namespace.
	// +optional
	NetworkPolicies *NetworkPolicies `json:"networkPolicies,omitempty"`

	// rbac declares the Roles, RoleBindings and ServiceAccounts of each target namespace.
	// +optional
	RBAC *RBAC `json:"rbac,omitempty"`

	// secretStores binds each target namespace to secret stores: one External Secrets
	// SecretStore or Secrets Store CSI SecretProviderClass per entry and namespace.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	SecretStores []SecretStore `json:"secretStores,omitempty"`
}

// PodSecurity declares the Pod Security Standards labels of a target Namespace
// (pod-security.kubernetes.io/<mode> and <mode>-version).
// +kubebuilder:validation:MinProperties=1
type PodSecurity struct {
	// enforce is the level whose violations reject pods.
	// +optional
	Enforce PodSecurityLevel `json:"enforce,omitempty"`

	// audit is the level whose violations are recorded in the audit log.
	// +optional
	Audit PodSecurityLevel `json:"audit,omitempty"`

	// warn is the level whose violations return a warning to the user.
	// +optional
	Warn PodSecurityLevel `json:"warn,omitempty"`

	// version pins the Pod Security Standards version of every mode set above
	// ("latest" or a Kubernetes minor version such as v1.37).
	// +optional
	// +kubebuilder:default=latest
	// +kubebuilder:validation:Pattern=`^(latest|v1\.[0-9]+)$`
	Version string `json:"version,omitempty"`

	// onViolation says what happens when setting or raising the enforce level of a namespace
	// would reject pods already running there. The operator first applies the label change as
	// a server-side dry run and collects the API server's warnings about violating pods; they
	// are reported in the namespace's compliance report, counted in
	// status.podSecurityViolations and sent as a Warning event. Then "Apply" (the default)
	// sets the enforce label anyway (running pods keep running; new ones are rejected), and
	// "Hold" leaves the enforce label as it is and reports the namespace as not compliant
	// until the pods are fixed (the other Pod Security labels are set).
	// +optional
	// +kubebuilder:default=Apply
	OnViolation PodSecurityViolationAction `json:"onViolation,omitempty"`
}

// PodSecurityViolationAction is what happens when pods already running in a namespace violate
// the enforce level about to be set.
// +kubebuilder:validation:Enum=Apply;Hold
type PodSecurityViolationAction string

// PodSecurityViolationAction values.
const (
	// PodSecurityViolationApply sets the enforce label anyway.
	PodSecurityViolationApply PodSecurityViolationAction = "Apply"
	// PodSecurityViolationHold holds the enforce label back and reports the namespace.
	PodSecurityViolationHold PodSecurityViolationAction = "Hold"
)

// NetworkPolicies declares the NetworkPolicies of a target namespace.
type NetworkPolicies struct {
	// defaultDeny lists the policy types (Ingress, Egress) denied by default through the
	// <baseline>-default-deny NetworkPolicy (podSelector {}, no rules).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=Ingress;Egress
	DefaultDeny []networkingv1.PolicyType `json:"defaultDeny,omitempty"`

	// allowDNS creates <baseline>-allow-dns: egress from every pod to kube-dns
	// (namespace kube-system, pods k8s-app=kube-dns) on 53/UDP and 53/TCP.
	// +optional
	AllowDNS bool `json:"allowDNS,omitempty"`

	// allowSameNamespace creates <baseline>-allow-same-namespace: ingress and egress between
	// the pods of the namespace.
	// +optional
	AllowSameNamespace bool `json:"allowSameNamespace,omitempty"`

	// policies are extra NetworkPolicies, each created under its name in every target namespace.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Policies []NetworkPolicy `json:"policies,omitempty"`
}

// NetworkPolicy is an extra NetworkPolicy of a baseline.
type NetworkPolicy struct {
	// name of the NetworkPolicy in each target namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// spec is a full networking.k8s.io/v1 NetworkPolicySpec.
	// +required
	Spec NetworkPolicySpec `json:"spec"`
}

// NetworkPolicySpec is a networking.k8s.io/v1 NetworkPolicySpec: same fields, same JSON, with
// bounded lists so that the API server can validate it with CEL.
type NetworkPolicySpec struct {
	// podSelector selects the pods to which this NetworkPolicy object applies.
	// The array of rules is applied to any pods selected by this field. An empty
	// selector matches all pods in the policy's namespace.
	// This field is optional. If it is not specified, it defaults to an empty selector.
	// +optional
	PodSelector metav1.LabelSelector `json:"podSelector"`

	// ingress is a list of ingress rules to be applied to the selected pods
	// (networking.k8s.io/v1 NetworkPolicyIngressRule, at most 64).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Ingress []NetworkPolicyIngressRule `json:"ingress,omitempty"`

	// egress is a list of egress rules to be applied to the selected pods
	// (networking.k8s.io/v1 NetworkPolicyEgressRule, at most 64).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Egress []NetworkPolicyEgressRule `json:"egress,omitempty"`

	// policyTypes is a list of rule types that the NetworkPolicy relates to:
	// ["Ingress"], ["Egress"], or ["Ingress", "Egress"]. If unset it defaults to Ingress, plus
	// Egress when the policy has egress rules.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=Ingress;Egress
	PolicyTypes []networkingv1.PolicyType `json:"policyTypes,omitempty"`
}

// NetworkPolicyIngressRule is a networking.k8s.io/v1 NetworkPolicyIngressRule: traffic allowed
// to the selected pods, matching both ports and from.
type NetworkPolicyIngressRule struct {
	// ports is a list of ports which should be made accessible on the pods selected for
	// this rule. Empty or missing matches all ports.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Ports []NetworkPolicyPort `json:"ports,omitempty"`

	// from is a list of sources which should be able to access the pods selected for this rule.
	// Empty or missing matches all sources.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	From []NetworkPolicyPeer `json:"from,omitempty"`
}

// NetworkPolicyEgressRule is a networking.k8s.io/v1 NetworkPolicyEgressRule: traffic allowed
// out of the selected pods, matching both ports and to.
type NetworkPolicyEgressRule struct {
	// ports is a list of destination ports for outgoing traffic. Empty or missing matches
	// all ports.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Ports []NetworkPolicyPort `json:"ports,omitempty"`

	// to is a list of destinations for outgoing traffic of pods selected for this rule.
	// Empty or missing matches all destinations.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	To []NetworkPolicyPeer `json:"to,omitempty"`
}

// NetworkPolicyPort is a networking.k8s.io/v1 NetworkPolicyPort.
// +kubebuilder:validation:XValidation:rule="!has(self.port) || type(self.port) == string || (self.port >= 1 && self.port <= 65535)",message="port must be a number from 1 to 65535 or a named port",fieldPath=".port"
// +kubebuilder:validation:XValidation:rule="!has(self.endPort) || (has(self.port) && type(self.port) == int && self.endPort >= self.port)",message="endPort requires a numeric port and must be greater than or equal to port",fieldPath=".endPort"
type NetworkPolicyPort struct {
	// protocol (TCP, UDP, or SCTP) which traffic must match. If not specified, this field
	// defaults to TCP.
	// +optional
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	Protocol *corev1.Protocol `json:"protocol,omitempty"`

	// port on the given protocol: a number or the name of a port on a pod. If not provided,
	// this matches all port names and numbers.
	// +optional
	Port *intstr.IntOrString `json:"port,omitempty"`

	// endPort makes the policy allow the range of ports from port to endPort, inclusive.
	// It requires a numeric port and must be equal to or greater than port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	EndPort *int32 `json:"endPort,omitempty"`
}

// NetworkPolicyPeer is a networking.k8s.io/v1 NetworkPolicyPeer.
// +kubebuilder:validation:XValidation:rule="has(self.ipBlock) ? !has(self.podSelector) && !has(self.namespaceSelector) : has(self.podSelector) || has(self.namespaceSelector)",message="a peer must set either ipBlock alone, or podSelector and/or namespaceSelector"
type NetworkPolicyPeer struct {
	// podSelector is a label selector which selects pods; if present but empty, it selects
	// all pods (of the namespaces namespaceSelector selects, or of the policy's namespace).
	// +optional
	PodSelector *metav1.LabelSelector `json:"podSelector,omitempty"`

	// namespaceSelector selects namespaces using cluster-scoped labels; if present but empty,
	// it selects all namespaces.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// ipBlock defines policy on a particular IPBlock. If this field is set then
	// neither of the other fields can be.
	// +optional
	IPBlock *IPBlock `json:"ipBlock,omitempty"`
}

// IPBlock is a networking.k8s.io/v1 IPBlock: a CIDR, minus the CIDRs in except.
// +kubebuilder:validation:XValidation:rule="isCIDR(self.cidr)",message="ipBlock.cidr must be a CIDR such as 192.168.1.0/24 or 2001:db8::/64",fieldPath=".cidr"
type IPBlock struct {
	// cidr is a string representing the IPBlock, for example "192.168.1.0/24" or "2001:db8::/64".
	// +required
	// +kubebuilder:validation:MaxLength=64
	CIDR string `json:"cidr"`

	// except is a list of CIDRs that should not be included within the IPBlock; each must be
	// inside cidr.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:Format=cidr
	Except []string `json:"except,omitempty"`
}

// RBAC declares the Roles, RoleBindings and ServiceAccounts of a target namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.roleBindings) || self.roleBindings.all(b, b.roleRef.kind != 'Role' || (has(self.roles) && self.roles.exists(r, r.name == b.roleRef.name)))",message="roleBindings[].roleRef of kind Role must name a Role declared in rbac.roles",fieldPath=".roleBindings"
type RBAC struct {
	// roles are namespaced Roles, created under their name in every target namespace.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Roles []Role `json:"roles,omitempty"`

	// roleBindings bind subjects to a Role of this baseline or to a ClusterRole.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	RoleBindings []RoleBinding `json:"roleBindings,omitempty"`

	// serviceAccounts are created with automountServiceAccountToken: false.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	ServiceAccounts []ServiceAccount `json:"serviceAccounts,omitempty"`
}

// Role is a namespaced Role of a baseline.
type Role struct {
	// name of the Role in each target namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// rules are rbac.authorization.k8s.io/v1 PolicyRules.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:XValidation:rule="has(self.verbs) && size(self.verbs) > 0",message="rules[].verbs must list at least one verb",fieldPath=".verbs"
	// +kubebuilder:validation:items:XValidation:rule="!has(self.nonResourceURLs) || size(self.nonResourceURLs) == 0",message="rules[].nonResourceURLs are not allowed in a namespaced Role",fieldPath=".nonResourceURLs"
	// +kubebuilder:validation:items:XValidation:rule="has(self.apiGroups) && size(self.apiGroups) > 0",message="rules[].apiGroups must list at least one API group (\"\" is the core group)",fieldPath=".apiGroups"
	// +kubebuilder:validation:items:XValidation:rule="has(self.resources) && size(self.resources) > 0",message="rules[].resources must list at least one resource",fieldPath=".resources"
	Rules []rbacv1.PolicyRule `json:"rules,omitempty"`
}

// RoleBinding is a namespaced RoleBinding of a baseline.
type RoleBinding struct {
	// name of the RoleBinding in each target namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// roleRef names a Role of this baseline or a ClusterRole. Changing it replaces the
	// RoleBinding (roleRef is immutable in Kubernetes).
	// +required
	RoleRef RoleRef `json:"roleRef"`

	// subjects are rbac.authorization.k8s.io/v1 Subjects; $(NAMESPACE) in a subject's name or
	// namespace is replaced by the target namespace. A ServiceAccount subject without a
	// namespace refers to the target namespace.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Subjects []rbacv1.Subject `json:"subjects,omitempty"`
}

// RoleRef names the role a RoleBinding grants.
type RoleRef struct {
	// apiGroup is rbac.authorization.k8s.io.
	// +optional
	// +kubebuilder:default=rbac.authorization.k8s.io
	// +kubebuilder:validation:Enum=rbac.authorization.k8s.io
	APIGroup string `json:"apiGroup,omitempty"`

	// kind is Role (a Role of this baseline) or ClusterRole.
	// +required
	// +kubebuilder:validation:Enum=Role;ClusterRole
	Kind string `json:"kind"`

	// name of the Role or ClusterRole.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ServiceAccount is a ServiceAccount of a baseline.
type ServiceAccount struct {
	// name of the ServiceAccount in each target namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// SecretStore binds each target namespace to a secret store. Exactly one of externalSecrets
// or csi is set; $(NAMESPACE) is replaced by the target namespace in every string value.
// +kubebuilder:validation:XValidation:rule="has(self.externalSecrets) != has(self.csi)",message="exactly one of externalSecrets or csi must be set"
type SecretStore struct {
	// name of the SecretStore or SecretProviderClass in each target namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// externalSecrets is the spec of an External Secrets Operator SecretStore
	// (external-secrets.io/v1).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	ExternalSecrets *apiextensionsv1.JSON `json:"externalSecrets,omitempty"`

	// csi is the spec of a Secrets Store CSI Driver SecretProviderClass
	// (secrets-store.csi.x-k8s.io/v1).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	CSI *apiextensionsv1.JSON `json:"csi,omitempty"`
}

// DriftReason says why a managed object is not as declared.
// +kubebuilder:validation:Enum=Missing;Modified;Conflict;Forbidden;Failed
type DriftReason string

const (
	// DriftMissing means object does not exist.
	DriftMissing DriftReason = "Missing"
	// DriftModified means a declared field differs from the spec.
	DriftModified DriftReason = "Modified"
	// DriftConflict means an object or label this baseline does not manage is in the way.
	DriftConflict DriftReason = "Conflict"
	// DriftForbidden means the operator is not allowed to write the object.
	DriftForbidden DriftReason = "Forbidden"
	// DriftFailed means writing the object failed for another reason.
	DriftFailed DriftReason = "Failed"
)

// Drift is an object that is, or was, not as declared.
type Drift struct {
	// namespace of the object (for a Namespace's Pod Security labels: the namespace itself).
	Namespace string `json:"namespace"`
	// kind of the object, for example NetworkPolicy or Namespace.
	Kind string `json:"kind"`
	// name of the object.
	Name string `json:"name"`
	// reason is Missing, Modified, Conflict, Forbidden or Failed.
	Reason DriftReason `json:"reason"`
	// message explains the drift.
	// +optional
	Message string `json:"message,omitempty"`
	// time the drift was seen (set on lastDrift).
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// SecurityBaselineStatus is the observed state of a SecurityBaseline.
type SecurityBaselineStatus struct {
	// observedGeneration is the generation last reconciled; -1 until the first reconcile.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// matchedNamespaces counts the namespaces the selector currently targets.
	// +optional
	// +kubebuilder:default=0
	MatchedNamespaces int32 `json:"matchedNamespaces"`

	// compliantNamespaces counts the matched namespaces where every managed object matches the spec.
	// +optional
	// +kubebuilder:default=0
	CompliantNamespaces int32 `json:"compliantNamespaces"`

	// managedObjects counts the objects (and labelled Namespaces) this baseline manages.
	// +optional
	// +kubebuilder:default=0
	ManagedObjects int32 `json:"managedObjects"`

	// driftedObjects counts the objects currently not as declared (Enforce: not yet repaired).
	// +optional
	// +kubebuilder:default=0
	DriftedObjects int32 `json:"driftedObjects"`

	// driftCorrections counts the objects repaired since the baseline was created.
	// +optional
	// +kubebuilder:default=0
	DriftCorrections int64 `json:"driftCorrections"`

	// podSecurityViolations counts the running pods that violated the enforce level when the
	// operator last checked it before setting or raising it (a server-side dry run); with
	// onViolation Hold they keep the enforce label back.
	// +optional
	// +kubebuilder:default=0
	PodSecurityViolations int32 `json:"podSecurityViolations"`

	// reportKind is the kind of compliance report written to each target namespace:
	// "Report" (openreports.io/v1alpha1), "PolicyReport" (wgpolicyk8s.io/v1alpha2), or "None"
	// when neither CRD is installed.
	// +optional
	ReportKind string `json:"reportKind,omitempty"`

	// lastDrift is the most recent drift seen.
	// +optional
	LastDrift *Drift `json:"lastDrift,omitempty"`

	// drift lists the objects currently not as declared, sorted, at most 20.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Drift []Drift `json:"drift,omitempty"`

	// inventory lists the objects ("Kind/name", and "Namespace/pod-security" for the Pod
	// Security labels) that every target namespace held as this baseline's at the end of the
	// last complete pass. A declared object missing from a namespace that holds others of the
	// baseline counts as drift only when it is listed here; a new object is a rollout.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=512
	// +kubebuilder:validation:items:MaxLength=320
	Inventory []string `json:"inventory,omitempty"`

	// conditions: Ready, Reconciling, Stalled (kstatus) and DriftDetected.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SecurityBaseline declares, for the namespaces its selector picks, the Pod Security labels,
// NetworkPolicies, RBAC and secret store bindings each must hold, and keeps them so.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sbl
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matchedNamespaces`
// +kubebuilder:printcolumn:name="Compliant",type=integer,JSONPath=`.status.compliantNamespaces`
// +kubebuilder:printcolumn:name="Drifted",type=integer,JSONPath=`.status.driftedObjects`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is the value of the security.baseline.dev/baseline label"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.networkPolicies) || !has(self.spec.networkPolicies.policies) || self.spec.networkPolicies.policies.all(p, !(p.name.endsWith('-default-deny') && p.name.substring(0, size(p.name) - 13) == self.metadata.name) && !(p.name.endsWith('-allow-dns') && p.name.substring(0, size(p.name) - 10) == self.metadata.name) && !(p.name.endsWith('-allow-same-namespace') && p.name.substring(0, size(p.name) - 21) == self.metadata.name))",message="spec.networkPolicies.policies[].name must not be <metadata.name>-default-deny, <metadata.name>-allow-dns or <metadata.name>-allow-same-namespace: the operator generates NetworkPolicies of these names",fieldPath=".spec.networkPolicies.policies"
type SecurityBaseline struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the baseline.
	// +required
	Spec SecurityBaselineSpec `json:"spec"`

	// status reports matched, compliant and drifted namespaces and objects.
	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status SecurityBaselineStatus `json:"status,omitempty"`
}

// SecurityBaselineList is a list of SecurityBaselines.
// +kubebuilder:object:root=true
type SecurityBaselineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the SecurityBaselines.
	Items []SecurityBaseline `json:"items"`
}
