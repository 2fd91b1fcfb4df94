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
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// declaredObject is one object the baseline declares in every selected namespace, with the
// check of its content (it returns what differs).
type declaredObject struct {
	kind, name string
	content    func(obj client.Object, namespace string) []string
}

var declared = []declaredObject{
	{kindNetworkPolicy, baselineName + "-default-deny", checkDefaultDeny},
	{kindNetworkPolicy, baselineName + "-allow-dns", checkAllowDNS},
	{kindNetworkPolicy, baselineName + "-allow-same-namespace", checkAllowSameNamespace},
	{kindNetworkPolicy, extraPolicyName, checkExtraPolicy},
	{kindRole, roleName, checkRole},
	{kindRoleBinding, bindingName, checkRoleBinding},
	{kindServiceAccount, serviceAccountName, checkServiceAccount},
}

// checkFinalState checks that every selected namespace holds exactly the declared objects with
// the declared content, owned by the baseline and labelled, and that nothing of the baseline is
// anywhere else.
func checkFinalState(f *findings, s *clusterState, uid types.UID, selected map[string]bool, initial map[string]map[string]string) {
	isDeclared := map[string]bool{}
	for _, d := range declared {
		isDeclared[d.kind+"/"+d.name] = true
	}
	for _, objID := range s.baselineObjects(uid) {
		obj := s.index[objID]
		switch {
		case !selected[obj.GetNamespace()]:
			f.add("final: object of the baseline outside the selection (unselected, excluded or protected namespace)", "%s", objID)
		case !isDeclared[strings.SplitN(objID, " ", 2)[0]+"/"+obj.GetName()]:
			f.add("final: undeclared object of the baseline in a selected namespace", "%s", objID)
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(selected)) {
		for _, d := range declared {
			obj := s.index[id(d.kind, ns, d.name)]
			if obj == nil {
				f.add("final: declared object missing", "%s", id(d.kind, ns, d.name))
				continue
			}
			checkManaged(f, d.kind, obj, uid)
			if diff := d.content(obj, ns); len(diff) > 0 {
				f.add("final: content of "+d.kind+" "+d.name, "%s: %s", id(d.kind, ns, d.name), strings.Join(diff, "; "))
			}
		}
		checkNamespace(f, s.namespaces[ns], ns, uid)
	}
	for _, name := range slices.Sorted(maps.Keys(s.namespaces)) {
		if selected[name] {
			continue
		}
		if got := podSecurity(s.namespaces[name].Labels); !maps.Equal(got, initial[name]) {
			f.add("final: Pod Security labels changed outside the selection", "Namespace %s: %s, had %s", name, labelString(got), labelString(initial[name]))
		}
	}
}

// checkManaged checks the contract's labels and the single controller ownerReference.
func checkManaged(f *findings, kind string, obj client.Object, uid types.UID) {
	objID := id(kind, obj.GetNamespace(), obj.GetName())
	if l := obj.GetLabels(); l[labelManagedBy] != operatorName || l[labelBaseline] != baselineName {
		f.add("final: labels of managed objects", "%s: %s=%q %s=%q", objID, labelManagedBy, l[labelManagedBy], labelBaseline, l[labelBaseline])
	}
	var controllers, toBaseline int
	ok := true
	for _, r := range obj.GetOwnerReferences() {
		if r.UID == uid {
			toBaseline++
		}
		if r.Controller != nil && *r.Controller {
			controllers++
			ok = ok && r.UID == uid && r.Kind == baselineGVK.Kind && r.APIVersion == baselineGVK.GroupVersion().String() && r.Name == baselineName
		}
	}
	if controllers != 1 || toBaseline != 1 || !ok {
		f.add("final: ownerReferences of managed objects (want exactly one, the controller reference to the baseline "+string(uid)+")",
			"%s: %s", objID, ownerRefs(obj))
	}
}

func checkNamespace(f *findings, ns *corev1.Namespace, name string, uid types.UID) {
	if ns == nil {
		f.add("final: selected namespace missing", "%s", name)
		return
	}
	if got := podSecurity(ns.Labels); !maps.Equal(got, wantPodSecurity) {
		f.add("final: Pod Security labels of selected namespaces", "Namespace %s: %s, want %s", name, labelString(got), labelString(wantPodSecurity))
	}
	if slices.ContainsFunc(ns.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == uid }) {
		f.add("final: Namespace owned by the baseline", "Namespace %s: %v", name, ns.OwnerReferences)
	}
}

// checkStatus checks the exact status after convergence: nobody drifted anything.
func checkStatus(f *findings, o observed, n int) {
	st := o.status
	expect := func(field string, got, want int64) {
		if got != want {
			f.add("status: "+field, "got %d, want %d", got, want)
		}
	}
	expect("observedGeneration", st.ObservedGeneration, o.generation)
	expect("matchedNamespaces", st.MatchedNamespaces, int64(n))
	expect("compliantNamespaces", st.CompliantNamespaces, int64(n))
	expect("managedObjects", st.ManagedObjects, int64(n*objectsPerNamespace))
	expect("driftedObjects", st.DriftedObjects, 0)
	expect("driftCorrections (nobody drifted anything: restarts and first creation are no drift)", st.DriftCorrections, 0)
	if got := st.condition("Ready"); got != metav1.ConditionTrue {
		f.add("status: Ready condition", "Ready=%q, want True (%s)", got, st)
	}
	for _, t := range []string{"Stalled", "DriftDetected", "Reconciling"} {
		if got := st.condition(t); got == metav1.ConditionTrue {
			f.add("status: "+t+" condition", "%s=True after convergence (%s)", t, st)
		}
	}
	if st.LastDrift != nil {
		f.add("status: lastDrift (nobody drifted anything)", "%s", st.LastDrift)
	}
	for _, d := range st.Drift {
		f.add("status: drift entries", "%s", d)
	}
}

func checkDefaultDeny(obj client.Object, _ string) []string {
	np := obj.(*networkingv1.NetworkPolicy)
	diff := diffPolicyTypes(np, networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
	diff = append(diff, diffEverything(np)...)
	if len(np.Spec.Ingress)+len(np.Spec.Egress) > 0 {
		diff = append(diff, fmt.Sprintf("ingress %v egress %v, want no rules", np.Spec.Ingress, np.Spec.Egress))
	}
	return diff
}

func checkAllowDNS(obj client.Object, _ string) []string {
	np := obj.(*networkingv1.NetworkPolicy)
	diff := diffPolicyTypes(np, networkingv1.PolicyTypeEgress)
	diff = append(diff, diffEverything(np)...)
	if len(np.Spec.Ingress) > 0 {
		diff = append(diff, fmt.Sprintf("ingress %v, want none", np.Spec.Ingress))
	}
	ports := map[string]bool{}
	toDNS := false
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			if p.Protocol != nil && p.Port != nil {
				ports[string(*p.Protocol)+"/"+p.Port.String()] = true
			}
		}
		for _, peer := range rule.To {
			toDNS = toDNS || peer.PodSelector != nil && peer.PodSelector.MatchLabels["k8s-app"] == "kube-dns"
		}
	}
	if !ports["UDP/53"] || !ports["TCP/53"] || !toDNS {
		diff = append(diff, fmt.Sprintf("egress %v, want to k8s-app=kube-dns on 53/UDP and 53/TCP", np.Spec.Egress))
	}
	return diff
}

func checkAllowSameNamespace(obj client.Object, _ string) []string {
	np := obj.(*networkingv1.NetworkPolicy)
	diff := diffPolicyTypes(np, networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
	diff = append(diff, diffEverything(np)...)
	samePods := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	if len(np.Spec.Ingress) != 1 || !equality.Semantic.DeepEqual(np.Spec.Ingress[0].From, samePods) || len(np.Spec.Ingress[0].Ports) > 0 {
		diff = append(diff, fmt.Sprintf("ingress %v, want from podSelector {}", np.Spec.Ingress))
	}
	if len(np.Spec.Egress) != 1 || !equality.Semantic.DeepEqual(np.Spec.Egress[0].To, samePods) || len(np.Spec.Egress[0].Ports) > 0 {
		diff = append(diff, fmt.Sprintf("egress %v, want to podSelector {}", np.Spec.Egress))
	}
	return diff
}

func checkExtraPolicy(obj client.Object, _ string) []string {
	np := obj.(*networkingv1.NetworkPolicy)
	if !equality.Semantic.DeepEqual(np.Spec, extraPolicy) {
		return []string{fmt.Sprintf("spec %+v, want %+v", np.Spec, extraPolicy)}
	}
	return nil
}

func checkRole(obj client.Object, _ string) []string {
	if rules := obj.(*rbacv1.Role).Rules; !equality.Semantic.DeepEqual(rules, roleRules) {
		return []string{fmt.Sprintf("rules %+v, want %+v", rules, roleRules)}
	}
	return nil
}

func checkRoleBinding(obj client.Object, namespace string) []string {
	rb := obj.(*rbacv1.RoleBinding)
	var diff []string
	if rb.RoleRef != bindingRoleRef {
		diff = append(diff, fmt.Sprintf("roleRef %+v, want %+v", rb.RoleRef, bindingRoleRef))
	}
	want := bindingSubject
	want.Name = strings.ReplaceAll(want.Name, "$(NAMESPACE)", namespace)
	if !equality.Semantic.DeepEqual(rb.Subjects, []rbacv1.Subject{want}) {
		diff = append(diff, fmt.Sprintf("subjects %+v, want [%+v]", rb.Subjects, want))
	}
	return diff
}

func checkServiceAccount(obj client.Object, _ string) []string {
	if a := obj.(*corev1.ServiceAccount).AutomountServiceAccountToken; a == nil || *a {
		got := "unset"
		if a != nil {
			got = "true"
		}
		return []string{"automountServiceAccountToken " + got + ", want false"}
	}
	return nil
}

func diffPolicyTypes(np *networkingv1.NetworkPolicy, want ...networkingv1.PolicyType) []string {
	got := slices.Clone(np.Spec.PolicyTypes)
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		return []string{fmt.Sprintf("policyTypes %v, want %v", np.Spec.PolicyTypes, want)}
	}
	return nil
}

// diffEverything checks the policy applies to every pod of the namespace.
func diffEverything(np *networkingv1.NetworkPolicy) []string {
	if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) > 0 {
		return []string{fmt.Sprintf("podSelector %v, want {}", np.Spec.PodSelector)}
	}
	return nil
}
