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
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kinds are the namespaced kinds the baseline under test manages.
var kinds = []struct {
	kind string
	list func() client.ObjectList
}{
	{kindNetworkPolicy, func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{kindRole, func() client.ObjectList { return &rbacv1.RoleList{} }},
	{kindRoleBinding, func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
	{kindServiceAccount, func() client.ObjectList { return &corev1.ServiceAccountList{} }},
}

// clusterState is every object of those kinds and every Namespace, read straight from the API
// server.
type clusterState struct {
	objects    map[string][]client.Object // by kind
	index      map[string]client.Object   // by id()
	namespaces map[string]*corev1.Namespace
}

func id(kind, namespace, name string) string { return kind + " " + namespace + "/" + name }

func readCluster(ctx context.Context, c client.Client) (*clusterState, error) {
	s := &clusterState{objects: map[string][]client.Object{}, index: map[string]client.Object{}, namespaces: map[string]*corev1.Namespace{}}
	for _, k := range kinds {
		list := k.list()
		if err := c.List(ctx, list); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", k.kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			obj := it.(client.Object)
			s.objects[k.kind] = append(s.objects[k.kind], obj)
			s.index[id(k.kind, obj.GetNamespace(), obj.GetName())] = obj
		}
	}
	nsList := &corev1.NamespaceList{}
	if err := c.List(ctx, nsList); err != nil {
		return nil, fmt.Errorf("listing Namespaces: %w", err)
	}
	for i := range nsList.Items {
		s.namespaces[nsList.Items[i].Name] = &nsList.Items[i]
	}
	return s, nil
}

// belongs reports whether obj is the baseline's by its label or by an ownerReference to uid.
func belongs(obj client.Object, uid types.UID) bool {
	if obj.GetLabels()[labelBaseline] == baselineName {
		return true
	}
	return slices.ContainsFunc(obj.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == uid })
}

// baselineObjects returns the ids of every object that belongs to the baseline, sorted.
func (s *clusterState) baselineObjects(uid types.UID) []string {
	var ids []string
	for kind, objs := range s.objects {
		for _, obj := range objs {
			if belongs(obj, uid) {
				ids = append(ids, id(kind, obj.GetNamespace(), obj.GetName()))
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// podSecurityLabels returns the Pod Security labels of every Namespace.
func (s *clusterState) podSecurityLabels() map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, ns := range s.namespaces {
		out[name] = podSecurity(ns.Labels)
	}
	return out
}

func podSecurity(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, podSecurityPrefix) {
			out[k] = v
		}
	}
	return out
}

// snapshot maps the baseline's objects to their resourceVersions and every Namespace to its
// labels.
func (s *clusterState) snapshot(uid types.UID) map[string]string {
	out := map[string]string{}
	for _, objID := range s.baselineObjects(uid) {
		out[objID] = "resourceVersion " + s.index[objID].GetResourceVersion()
	}
	for name, ns := range s.namespaces {
		out["Namespace "+name] = "labels " + labelString(ns.Labels)
	}
	return out
}

func labelString(labels map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		kv = append(kv, k+"="+labels[k])
	}
	return "{" + strings.Join(kv, ",") + "}"
}

// compareSnapshots reports every entry that appeared, disappeared or changed.
func compareSnapshots(f *findings, check string, before, after map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(before)) {
		switch v, ok := after[k]; {
		case !ok:
			f.add(check, "%s: gone (was %s)", k, before[k])
		case v != before[k]:
			f.add(check, "%s: %s -> %s", k, before[k], v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[k]; !ok {
			f.add(check, "%s: appeared (%s)", k, after[k])
		}
	}
}

// checkNothingLeft checks, after the baseline is gone, that no object of it is left and that
// every Namespace has the Pod Security labels it had before the baseline existed.
func checkNothingLeft(f *findings, s *clusterState, uid types.UID, initial map[string]map[string]string) {
	for _, objID := range s.baselineObjects(uid) {
		obj := s.index[objID]
		f.add("deletion: object of the baseline left", "%s labels=%s ownerReferences=%s", objID, labelString(obj.GetLabels()), ownerRefs(obj))
	}
	for _, name := range slices.Sorted(maps.Keys(s.namespaces)) {
		if got := podSecurity(s.namespaces[name].Labels); !maps.Equal(got, initial[name]) {
			f.add("deletion: Pod Security labels left", "Namespace %s: %s, had %s before the baseline", name, labelString(got), labelString(initial[name]))
		}
	}
}

func ownerRefs(obj client.Object) string {
	var refs []string
	for _, r := range obj.GetOwnerReferences() {
		controller := ""
		if r.Controller != nil && *r.Controller {
			controller = ",controller"
		}
		refs = append(refs, fmt.Sprintf("%s/%s(uid %s%s)", r.Kind, r.Name, r.UID, controller))
	}
	return "[" + strings.Join(refs, " ") + "]"
}
