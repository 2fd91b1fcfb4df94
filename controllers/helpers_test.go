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
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// testLabel isolates each spec: its baseline selects only namespaces carrying its value.
const testLabel = "test.baseline.dev/spec"

// newNamespace creates a namespace that the spec's selector value picks (empty: none).
func newNamespace(selectorValue string) *corev1.Namespace {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("ns")}}
	if selectorValue != "" {
		ns.Labels = map[string]string{testLabel: selectorValue}
	}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns
}

// fullSpec declares one of everything the contract offers but secret stores.
func fullSpec(selectorValue string) securityv1alpha1.SecurityBaselineSpec {
	return securityv1alpha1.SecurityBaselineSpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: selectorValue}},
		PodSecurity:       &securityv1alpha1.PodSecurity{Enforce: "restricted", Warn: "restricted"},
		NetworkPolicies: &securityv1alpha1.NetworkPolicies{
			DefaultDeny:        []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			AllowDNS:           true,
			AllowSameNamespace: true,
			Policies: []securityv1alpha1.NetworkPolicy{{
				Name: "allow-ingress-controller",
				Spec: securityv1alpha1.NetworkPolicySpec{
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
					Ingress: []securityv1alpha1.NetworkPolicyIngressRule{{From: []securityv1alpha1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "ingress-nginx"}},
					}}}},
				},
			}},
		},
		RBAC: &securityv1alpha1.RBAC{
			Roles: []securityv1alpha1.Role{{Name: "app-reader", Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list", "watch"},
			}}}},
			RoleBindings: []securityv1alpha1.RoleBinding{{
				Name:     "app-readers",
				RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "app-reader"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}},
			}},
			ServiceAccounts: []securityv1alpha1.ServiceAccount{{Name: "secrets-reader"}},
		},
	}
}

// objectsPerNamespace is what fullSpec manages in each namespace: 4 NetworkPolicies, a Role, a
// RoleBinding, a ServiceAccount and the Namespace's Pod Security labels.
const objectsPerNamespace = 8

// createBaseline creates a baseline and deletes it when the spec ends.
func createBaseline(name string, spec securityv1alpha1.SecurityBaselineSpec) *securityv1alpha1.SecurityBaseline {
	GinkgoHelper()
	b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	Expect(k8sClient.Create(ctx, b)).To(Succeed())
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, b))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(b), &securityv1alpha1.SecurityBaseline{}))
		}).Should(BeTrue(), "the baseline's finalizer is released")
	})
	return b
}

// updateBaseline changes a baseline's spec, retrying on conflicts.
func updateBaseline(name string, mutate func(*securityv1alpha1.SecurityBaselineSpec)) {
	GinkgoHelper()
	Eventually(func() error {
		b := &securityv1alpha1.SecurityBaseline{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, b); err != nil {
			return err
		}
		mutate(&b.Spec)
		return k8sClient.Update(ctx, b)
	}).Should(Succeed())
}

func getBaseline(g Gomega, name string) *securityv1alpha1.SecurityBaseline {
	b := &securityv1alpha1.SecurityBaseline{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, b)).To(Succeed())
	return b
}

func condition(b *securityv1alpha1.SecurityBaseline, condType string) *metav1.Condition {
	return meta.FindStatusCondition(b.Status.Conditions, condType)
}

// expectReady waits until the baseline reports every one of matched namespaces compliant.
func expectReady(name string, matched int32) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		b := getBaseline(g, name)
		g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
		g.Expect(b.Status.MatchedNamespaces).To(Equal(matched))
		g.Expect(b.Status.CompliantNamespaces).To(Equal(matched))
		g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
	}).Should(Succeed())
}

// getObject reads an object straight from the API server.
func getObject(obj client.Object, namespace, name string) error {
	return k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)
}

func isNotFound(obj client.Object, namespace, name string) func() bool {
	return func() bool { return apierrors.IsNotFound(getObject(obj, namespace, name)) }
}

func driftEntry(namespace, kind, name string, reason securityv1alpha1.DriftReason) types.GomegaMatcher {
	return And(HaveField("Namespace", namespace), HaveField("Kind", kind), HaveField("Name", name), HaveField("Reason", reason))
}

func jsonObject(raw string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(raw)} }

// baselineEvents lists the events.k8s.io events of a reason on the named SecurityBaseline.
func baselineEvents(g Gomega, name, reason string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(ctx, list)).To(Succeed())
	var found []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "SecurityBaseline" && e.Regarding.Name == name && e.Reason == reason {
			found = append(found, e)
		}
	}
	return found
}

// relatedTo matches an event whose related object is the given one.
func relatedTo(kind, namespace, name string) types.GomegaMatcher {
	return HaveField("Related", HaveValue(And(HaveField("Kind", kind), HaveField("Namespace", namespace), HaveField("Name", name))))
}

// setNamespaceLabel sets (value != "") or removes a label of a namespace, retrying on conflicts.
func setNamespaceLabel(name, key, value string) {
	GinkgoHelper()
	Eventually(func() error {
		ns := &corev1.Namespace{}
		if err := getObject(ns, "", name); err != nil {
			return err
		}
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		if value == "" {
			delete(ns.Labels, key)
		} else {
			ns.Labels[key] = value
		}
		return k8sClient.Update(ctx, ns)
	}).Should(Succeed())
}

// reconcileCount reads controller-runtime's controller_runtime_reconcile_total of the
// securitybaseline controller for one result (success, error, requeue, requeue_after).
func reconcileCount(result string) float64 {
	GinkgoHelper()
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["controller"] == "securitybaseline" && labels["result"] == result {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// installSecretStoreCRDs installs the External Secrets and Secrets Store CSI CRDs (idempotent).
func installSecretStoreCRDs() {
	GinkgoHelper()
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join("..", "test", "testdata", "crds")}, ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())
}

// noDriftAccounted expects a baseline to have counted no drift: no corrections, no lastDrift,
// DriftDetected False with reason NoDrift and no DriftCorrected event.
func noDriftAccounted(g Gomega, name string) {
	b := getBaseline(g, name)
	g.Expect(b.Status.DriftCorrections).To(BeZero(), "driftCorrections")
	g.Expect(b.Status.LastDrift).To(BeNil(), "lastDrift")
	g.Expect(condition(b, securityv1alpha1.ConditionDriftDetected)).To(And(
		HaveField("Status", metav1.ConditionFalse), HaveField("Reason", securityv1alpha1.ReasonNoDrift)))
	g.Expect(baselineEvents(g, name, securityv1alpha1.EventDriftCorrected)).To(BeEmpty(), "DriftCorrected events")
}
