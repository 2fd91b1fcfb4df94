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
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// indexBaseline indexes cached objects by the baseline label, so a reconcile reads its own
// objects without scanning and copying every cached object.
const indexBaseline = "security.baseline.dev/baseline"

// builtinKinds are the managed kinds always served, read through the baseline index.
var builtinKinds = map[schema.GroupVersionKind]client.Object{
	desired.NetworkPolicyGVK:  &networkingv1.NetworkPolicy{},
	desired.RoleGVK:           &rbacv1.Role{},
	desired.RoleBindingGVK:    &rbacv1.RoleBinding{},
	desired.ServiceAccountGVK: &corev1.ServiceAccount{},
}

// indexByBaseline adds the baseline index to the cache's informers of the built-in kinds.
func (r *SecurityBaselineReconciler) indexByBaseline(ctx context.Context, mgr ctrl.Manager) error {
	r.indexers = map[schema.GroupVersionKind]toolscache.Indexer{}
	for gvk, obj := range builtinKinds {
		informer, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		err = informer.AddIndexers(toolscache.Indexers{indexBaseline: func(o any) ([]string, error) {
			m, err := meta.Accessor(o)
			if err != nil || m.GetLabels()[desired.LabelBaseline] == "" {
				return nil, err
			}
			return []string{m.GetLabels()[desired.LabelBaseline]}, nil
		}})
		if err != nil {
			return fmt.Errorf("indexing %s by baseline: %w", gvk.Kind, err)
		}
		if withIndexer, ok := informer.(interface{ GetIndexer() toolscache.Indexer }); ok {
			r.indexers[gvk] = withIndexer.GetIndexer()
		}
	}
	informer, err := mgr.GetCache().GetInformer(ctx, &corev1.Namespace{})
	if err != nil {
		return err
	}
	if withIndexer, ok := informer.(interface{ GetIndexer() toolscache.Indexer }); ok {
		r.namespaces = withIndexer.GetIndexer()
	}
	return nil
}

// listNamespaces returns the cached Namespaces, read-only: straight from the informer's store
// (no copies), or with a list when the cache does not expose it.
func (r *SecurityBaselineReconciler) listNamespaces(ctx context.Context) ([]*corev1.Namespace, error) {
	if r.namespaces != nil {
		items := r.namespaces.List()
		namespaces := make([]*corev1.Namespace, 0, len(items))
		for _, item := range items {
			if ns, ok := item.(*corev1.Namespace); ok {
				namespaces = append(namespaces, ns)
			}
		}
		return namespaces, nil
	}
	list := &corev1.NamespaceList{}
	// Read-only use: the cache's objects are not copied.
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	namespaces := make([]*corev1.Namespace, len(list.Items))
	for i := range list.Items {
		namespaces[i] = &list.Items[i]
	}
	return namespaces, nil
}

// liveObject is an object carrying the baseline's label, as the cache holds it (read-only).
type liveObject struct {
	kind string
	obj  client.Object
}

// namespaceObjects are the objects carrying the baseline's label in one namespace, and a
// fingerprint of them: it changes whenever one of them is created, changed or deleted.
type namespaceObjects struct {
	objects     []liveObject
	fingerprint uint64
}

// find returns the object of a kind and name in the namespace.
func (n *namespaceObjects) find(kind, name string) (liveObject, bool) {
	if n != nil {
		for _, o := range n.objects {
			if o.kind == kind && o.obj.GetName() == name {
				return o, true
			}
		}
	}
	return liveObject{}, false
}

// fingerprintOf hashes an object's resourceVersion (FNV-1a, without allocating). A
// resourceVersion names one write of one object in the whole cluster, so the sum over a
// namespace's objects changes whenever any of them is created, changed (its ownerReferences
// and labels included) or deleted.
func fingerprintOf(obj client.Object) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	rv := obj.GetResourceVersion()
	for i := 0; i < len(rv); i++ {
		h = (h ^ uint64(rv[i])) * prime
	}
	return h
}

// listLabelled returns the cached objects of a kind carrying the baseline's label: through the
// baseline index for built-in kinds (no copies), with a label-selected list otherwise.
func (r *SecurityBaselineReconciler) listLabelled(ctx context.Context, gvk schema.GroupVersionKind, baseline string) ([]client.Object, error) {
	if indexer := r.indexers[gvk]; indexer != nil {
		items, err := indexer.ByIndex(indexBaseline, baseline)
		if err != nil {
			return nil, err
		}
		objs := make([]client.Object, 0, len(items))
		for _, item := range items {
			if obj, ok := item.(client.Object); ok {
				objs = append(objs, obj)
			}
		}
		return objs, nil
	}
	list, err := r.newList(gvk)
	if err != nil {
		return nil, err
	}
	// Read-only use: the cache's objects are not copied.
	if err := r.List(ctx, list, client.MatchingLabels{desired.LabelBaseline: baseline}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	objs := make([]client.Object, 0, len(items))
	for _, item := range items {
		objs = append(objs, item.(client.Object))
	}
	return objs, nil
}

// readLiveObjects reads the objects carrying the baseline's label, of every served kind (not
// only the declared ones: a kind removed from the spec still has objects to prune), grouped by
// namespace; ownership is decided where it matters (ownedBy), not for every object of every pass.
func (r *SecurityBaselineReconciler) readLiveObjects(ctx context.Context, s *scope) error {
	s.live = map[string]*namespaceObjects{}
	for _, gvk := range desired.ManagedGVKs {
		if !s.served[gvk] {
			continue
		}
		objs, err := r.listLabelled(ctx, gvk, s.b.Name)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			o := liveObject{kind: gvk.Kind, obj: obj}
			n := s.live[obj.GetNamespace()]
			if n == nil {
				n = &namespaceObjects{}
				s.live[obj.GetNamespace()] = n
			}
			n.objects = append(n.objects, o)
			n.fingerprint += fingerprintOf(obj)
		}
	}
	return nil
}

// ownedObject returns the baseline's own object of a key, or nil.
func (s *scope) ownedObject(key desired.Key) client.Object {
	if o, ok := s.live[key.Namespace].find(key.Kind, key.Name); ok && ownedBy(o.obj, s.b.UID) {
		return o.obj
	}
	return nil
}

// labelledObject returns an object of a key that carries the baseline's label without being
// owned by it (a user's copy, an orphan), or nil.
func (s *scope) labelledObject(key desired.Key) client.Object {
	if o, ok := s.live[key.Namespace].find(key.Kind, key.Name); ok && !ownedBy(o.obj, s.b.UID) {
		return o.obj
	}
	return nil
}

// namespaceStamp keys a namespace's verdict: the namespace (its labels, through its
// resourceVersion), the objects with the baseline's label in it, and the declared names. A
// namespace that was compliant with nothing written, at the same stamp and generation, still is.
func (s *scope) namespaceStamp(ns *corev1.Namespace) (desired.Key, string) {
	var fingerprint uint64
	if n := s.live[ns.Name]; n != nil {
		fingerprint = n.fingerprint
	}
	return desired.Key{Kind: "namespace-pass", Namespace: ns.Name},
		ns.ResourceVersion + "/" + strconv.FormatUint(fingerprint, 16) + "/" + strconv.FormatUint(s.declaredHash, 16)
}

// settle looks up the namespace verdicts of the target namespaces: a settled namespace holds
// exactly the declared objects as declared, so nothing in it needs a read, a build or a write.
func (s *scope) settle(now time.Time) {
	s.settled = make(map[string]bool, len(s.targets))
	for _, ns := range s.targets {
		key, stamp := s.namespaceStamp(ns)
		if s.verdicts.lookup(key, ns.UID, stamp, s.b.Generation, now) != nil {
			s.settled[ns.Name] = true
		}
	}
}

// holdsUndeclared tells whether the namespace holds an object of the baseline it no longer
// declares (to prune).
func (s *scope) holdsUndeclared(namespace string) bool {
	n := s.live[namespace]
	if n == nil {
		return false
	}
	for _, o := range n.objects {
		if !ownedBy(o.obj, s.b.UID) {
			continue
		}
		declared := false
		for _, d := range s.declared {
			if d.Kind == o.kind && d.Name == o.obj.GetName() {
				declared = true
				break
			}
		}
		if !declared {
			return true
		}
	}
	return false
}
