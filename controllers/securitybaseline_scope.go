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
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// scope is one reconcile of one baseline: everything read from the cluster (the cache and the
// API server) that decides what the reconcile writes, read once and shared by the workers
// that converge the target namespaces. Nothing in it outlives the reconcile.
type scope struct {
	b *securityv1alpha1.SecurityBaseline
	// targets are the namespaces the baseline targets now; others are every other namespace
	// that is not terminating (the baseline's Pod Security labels are taken off them).
	targets, others []*corev1.Namespace
	// served are the managed kinds the cluster serves now, asked of discovery on every pass;
	// missingKinds are the CRDs of kinds the baseline declares that the cluster does not serve.
	served       map[schema.GroupVersionKind]bool
	missingKinds []string
	// live holds, per namespace, the objects with the baseline's label from the cache: those with
	// a controller ownerReference to the baseline's UID are its own; the others (a user's copy,
	// an orphan of an earlier baseline of the same name) are not.
	live map[string]*namespaceObjects
	// unlisted holds, for declared objects missing from the cache, the object of that name the
	// API server has (metadata only): another owner's, or ours with its labels removed.
	unlisted map[desired.Key]*metav1.PartialObjectMetadata
	// declared are the kinds and names the baseline declares in every target namespace;
	// declaredHash hashes them (with the served kinds, they decide what a namespace holds).
	declared     []desired.Key
	declaredHash uint64
	// settled holds the target namespaces whose namespace verdict is valid (read-only once set).
	settled map[string]bool
	// inventory lists the declared objects ("Kind/name") every target namespace held at the end
	// of an earlier pass (status.inventory): only those can have been deleted by someone else.
	inventory sets.Set[string]
	// converged holds the namespaces whose Pod Security labels the baseline wrote: with the
	// namespaces holding its objects, the evidence that a namespace was converged before, so a
	// missing object there is drift (see wasConverged).
	converged sets.Set[string]
	// podSecurity are the Pod Security labels the baseline sets on its target namespaces.
	podSecurity map[string]string
	// peers are the other baselines that set Pod Security labels (for who came first).
	peers []*securityv1alpha1.SecurityBaseline
	// reported holds the drift entries the last status listed ("namespace/Kind/name/reason").
	reported sets.Set[string]
	verdicts *verdictSet
	// started is when the pass began reading the cluster: drift it repairs was noticed then.
	started time.Time
}

// inventoryEntry names a declared object in status.inventory.
func inventoryEntry(kind, name string) string { return kind + "/" + name }

// podSecurityEntry names the Pod Security labels in status.inventory.
const podSecurityEntry = "Namespace/pod-security"

// invalidSpecError marks a spec the API server accepted that the operator cannot act on (a
// selector that does not parse, a secret store spec that is not an object): a permanent
// problem, reported as Stalled until the spec changes.
type invalidSpecError struct {
	field string
	err   error
}

func (e invalidSpecError) Error() string { return e.field + ": " + e.err.Error() }

// newScope reads what a reconcile of b needs.
func (r *SecurityBaselineReconciler) newScope(ctx context.Context, b *securityv1alpha1.SecurityBaseline) (*scope, error) {
	s := &scope{
		started:   time.Now(),
		b:         b,
		inventory: sets.New(b.Status.Inventory...),
		converged: sets.New[string](),
		reported:  sets.New[string](),
		verdicts:  r.verdictsFor(b),
		// podSecurity is read-only once built: the namespace workers share it.
		podSecurity: desired.PodSecurityLabels(b.Spec.PodSecurity),
	}
	for _, d := range b.Status.Drift {
		s.reported.Insert(driftIdentity(d))
	}
	if err := r.readTargets(ctx, s); err != nil {
		return nil, err
	}
	s.served, s.missingKinds = r.servedKinds(b)
	if err := r.readLiveObjects(ctx, s); err != nil {
		return nil, err
	}
	template, err := desired.ForNamespace(b, "")
	if err != nil {
		return nil, invalidSpecError{field: "spec.secretStores", err: err}
	}
	s.unlisted = map[desired.Key]*metav1.PartialObjectMetadata{}
	for _, o := range template {
		if s.served[o.GVK] {
			s.declared = append(s.declared, desired.Key{Kind: o.GVK.Kind, Name: o.Name})
		}
	}
	h := fnv.New64a()
	for _, d := range s.declared {
		_, _ = h.Write([]byte(d.Kind + "/" + d.Name + "\x00"))
	}
	s.declaredHash = h.Sum64()
	s.settle(time.Now())
	for _, o := range template {
		if !s.served[o.GVK] {
			continue
		}
		var missing []desired.Key
		for _, ns := range s.targets {
			if s.settled[ns.Name] {
				continue
			}
			if _, found := s.live[ns.Name].find(o.GVK.Kind, o.Name); !found {
				missing = append(missing, desired.Key{Kind: o.GVK.Kind, Namespace: ns.Name, Name: o.Name})
			}
		}
		if err := r.readUnlisted(ctx, o.GVK, o.Name, missing, s.unlisted); err != nil {
			return nil, err
		}
	}
	if b.Spec.PodSecurity != nil {
		if s.peers, err = r.podSecurityPeers(ctx, b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readTargets sorts the namespaces into targets and others; terminating ones are neither (a
// terminating namespace takes its objects with it, and writing there only fails).
func (r *SecurityBaselineReconciler) readTargets(ctx context.Context, s *scope) error {
	selection, err := desired.NewSelection(s.b, r.ProtectedNamespaces.Has)
	if err != nil {
		return invalidSpecError{field: "spec.namespaceSelector", err: errors.Unwrap(err)}
	}
	namespaces, err := r.listNamespaces(ctx)
	if err != nil {
		return err
	}
	manager := desired.FieldManager(s.b.Name)
	for _, ns := range namespaces {
		switch {
		case ns.DeletionTimestamp != nil:
		case !selection.Selects(ns.Name, ns.Labels):
			s.others = append(s.others, ns)
		default:
			s.targets = append(s.targets, ns)
		}
		if hasFieldManager(ns, manager) {
			s.converged.Insert(ns.Name)
		}
	}
	sort.Slice(s.targets, func(i, j int) bool { return s.targets[i].Name < s.targets[j].Name })
	return nil
}

// ownedBy tells whether obj carries a controller ownerReference to the given UID.
func ownedBy(obj metav1.Object, uid types.UID) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == uid
}

// hasFieldManager tells whether a manager has written fields of an object with Server-Side Apply.
func hasFieldManager(obj metav1.Object, manager string) bool {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// maxSingleReads is how many objects of one name readUnlisted reads one by one; beyond it, one
// list across namespaces is cheaper.
const maxSingleReads = 8

// readUnlisted reads from the API server, metadata only, the objects of a declared name that
// the cache does not hold where the baseline needs one: one by one when few are missing
// (drift), listed across namespaces when many are (a new baseline, name or namespace).
func (r *SecurityBaselineReconciler) readUnlisted(ctx context.Context, gvk schema.GroupVersionKind, name string,
	missing []desired.Key, into map[desired.Key]*metav1.PartialObjectMetadata,
) error {
	if len(missing) <= maxSingleReads {
		for _, key := range missing {
			item := &metav1.PartialObjectMetadata{}
			item.SetGroupVersionKind(gvk)
			err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Name}, item)
			switch {
			case err == nil:
				into[key] = item
			case !apierrors.IsNotFound(err):
				return fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, key.Namespace, key.Name, err)
			}
		}
		return nil
	}
	wanted := sets.New[string]()
	for _, key := range missing {
		wanted.Insert(key.Namespace)
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.APIReader.List(ctx, list, client.MatchingFields{"metadata.name": name}); err != nil {
		return fmt.Errorf("listing %s named %s: %w", gvk.Kind, name, err)
	}
	for i := range list.Items {
		if item := &list.Items[i]; wanted.Has(item.Namespace) {
			item.SetGroupVersionKind(gvk)
			into[desired.Key{Kind: gvk.Kind, Namespace: item.Namespace, Name: item.Name}] = item
		}
	}
	return nil
}

// inTheWay returns the object holding a declared name that the baseline does not hold through
// its cache: a labelled object it does not own, or one only the API server listed.
func (s *scope) inTheWay(key desired.Key) client.Object {
	if obj := s.labelledObject(key); obj != nil {
		return obj
	}
	if obj := s.unlisted[key]; obj != nil {
		return obj
	}
	return nil
}

// wasConverged tells whether a missing declared object can only be missing because someone
// deleted it: it was declared everywhere at an earlier pass, and the namespace holds others.
func (s *scope) wasConverged(key desired.Key) bool {
	return s.inventory.Has(inventoryEntry(key.Kind, key.Name)) && s.holdsBaseline(key.Namespace)
}

// holdsBaseline tells whether a namespace holds an object or a label of the baseline.
func (s *scope) holdsBaseline(namespace string) bool {
	if n := s.live[namespace]; n != nil {
		for _, o := range n.objects {
			if ownedBy(o.obj, s.b.UID) {
				return true
			}
		}
	}
	return s.converged.Has(namespace)
}

// podSecurityPeers returns the other live baselines in Enforce mode that set Pod Security labels.
func (r *SecurityBaselineReconciler) podSecurityPeers(ctx context.Context, b *securityv1alpha1.SecurityBaseline) ([]*securityv1alpha1.SecurityBaseline, error) {
	list := &securityv1alpha1.SecurityBaselineList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing SecurityBaselines: %w", err)
	}
	var peers []*securityv1alpha1.SecurityBaseline
	for i := range list.Items {
		p := &list.Items[i]
		if p.UID != b.UID && p.DeletionTimestamp.IsZero() && p.Spec.PodSecurity != nil && p.Spec.Mode != securityv1alpha1.ModeAudit {
			peers = append(peers, p)
		}
	}
	return peers, nil
}

// servedKinds returns the managed kinds the cluster serves now, asked of discovery (the
// RESTMapper) on every pass for each optional kind the baseline declares or held, and the CRDs
// the baseline declares objects of that the cluster does not serve. A served optional kind is
// also watched, so its objects' changes reach the baseline.
func (r *SecurityBaselineReconciler) servedKinds(b *securityv1alpha1.SecurityBaseline) (map[schema.GroupVersionKind]bool, []string) {
	served := map[schema.GroupVersionKind]bool{
		desired.NetworkPolicyGVK: true, desired.RoleGVK: true, desired.RoleBindingGVK: true, desired.ServiceAccountGVK: true,
	}
	declared, held := map[schema.GroupVersionKind]bool{}, map[schema.GroupVersionKind]bool{}
	for _, s := range b.Spec.SecretStores {
		if s.CSI != nil {
			declared[desired.SecretProviderClassGVK] = true
		} else {
			declared[desired.SecretStoreGVK] = true
		}
	}
	// Objects of a kind no longer declared may still exist: the inventory (status) says which
	// kinds the baseline held at its last complete pass, and a watched kind is served anyway.
	for _, entry := range b.Status.Inventory {
		kind, _, _ := strings.Cut(entry, "/")
		for _, gvk := range []schema.GroupVersionKind{desired.SecretStoreGVK, desired.SecretProviderClassGVK} {
			if gvk.Kind == kind {
				held[gvk] = true
			}
		}
	}
	var missing []string
	for _, gvk := range []schema.GroupVersionKind{desired.SecretStoreGVK, desired.SecretProviderClassGVK} {
		if _, watched := r.watched.Load(gvk); !watched && !declared[gvk] && !held[gvk] {
			continue // not asked of discovery: a cluster without the CRD costs no request per pass
		}
		if err := r.watchOptionalKind(gvk); err != nil {
			if declared[gvk] {
				missing = append(missing, crdName(gvk))
			}
			continue
		}
		served[gvk] = true
	}
	return served, missing
}

// crdName is the CustomResourceDefinition name of an optional kind.
func crdName(gvk schema.GroupVersionKind) string {
	plural := map[string]string{"SecretStore": "secretstores", "SecretProviderClass": "secretproviderclasses"}[gvk.Kind]
	return plural + "." + gvk.Group
}

func (r *SecurityBaselineReconciler) newList(gvk schema.GroupVersionKind) (client.ObjectList, error) {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if r.Scheme.Recognizes(listGVK) {
		obj, err := r.Scheme.New(listGVK)
		if err != nil {
			return nil, err
		}
		return obj.(client.ObjectList), nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(listGVK)
	return list, nil
}
