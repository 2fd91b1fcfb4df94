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

package install

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/yaml"
)

const (
	// serviceAccount is the operator's ServiceAccount in every install method.
	serviceAccount = "securitybaseline-controller-manager"
	// configNamespace is config/default's namespace.
	configNamespace = "securitybaseline-system"
)

var rbacKinds = []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// rbacSource is the operator's RBAC as one install method ships it: the Namespace, the
// ServiceAccount and every role and binding.
type rbacSource struct {
	name      string
	namespace string
	objects   func() []*unstructured.Unstructured
}

var rbacSources = []rbacSource{
	{name: "config/default (kustomize)", namespace: configNamespace, objects: func() []*unstructured.Unstructured {
		return ofKind(kustomizeBuild("config/default"), rbacKinds...)
	}},
	{name: "Helm chart", namespace: "sbo-helm", objects: func() []*unstructured.Unstructured {
		return append([]*unstructured.Unstructured{namespaceObject("sbo-helm")}, ofKind(renderChart("sbo-helm", nil), rbacKinds...)...)
	}},
	{name: "OLM bundle (ClusterServiceVersion)", namespace: "sbo-olm", objects: func() []*unstructured.Unstructured {
		return csvRBAC("sbo-olm")
	}},
}

func namespaceObject(name string) *unstructured.Unstructured {
	return toUnstructured(&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name}})
}

func toUnstructured(obj runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u
}

// committedCSV reads the ClusterServiceVersion of the committed bundle.
func committedCSV() *operatorsv1alpha1.ClusterServiceVersion {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join(repo, "bundle", "manifests", "securitybaseline-operator.clusterserviceversion.yaml"))
	Expect(err).NotTo(HaveOccurred())
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	Expect(yaml.Unmarshal(raw, csv)).To(Succeed())
	return csv
}

// readBundleManifests reads every object of the committed bundle's manifests/.
func readBundleManifests() []*unstructured.Unstructured {
	GinkgoHelper()
	files, err := filepath.Glob(filepath.Join(repo, "bundle", "manifests", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var objs []*unstructured.Unstructured
	for _, f := range files {
		objs = append(objs, readObjects(f)...)
	}
	return objs
}

// csvRBAC is what OLM creates for the CSV's permissions in namespace ns (an OperatorGroup for
// AllNamespaces): the ServiceAccount, a ClusterRole and ClusterRoleBinding per
// clusterPermissions entry, a Role and RoleBinding per permissions entry.
func csvRBAC(ns string) []*unstructured.Unstructured {
	GinkgoHelper()
	csv := committedCSV()
	objs := []*unstructured.Unstructured{namespaceObject(ns)}
	sas := sets.New[string]()
	add := func(obj runtime.Object) { objs = append(objs, toUnstructured(obj)) }
	gvk := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
	}
	strategy := csv.Spec.InstallStrategy.StrategySpec
	for i, p := range strategy.ClusterPermissions {
		sas.Insert(p.ServiceAccountName)
		name := fmt.Sprintf("%s-olm-cluster-%d", ns, i)
		add(&rbacv1.ClusterRole{TypeMeta: gvk("ClusterRole"), ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: p.Rules})
		add(&rbacv1.ClusterRoleBinding{TypeMeta: gvk("ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: p.ServiceAccountName, Namespace: ns}}})
	}
	for i, p := range strategy.Permissions {
		sas.Insert(p.ServiceAccountName)
		name := fmt.Sprintf("olm-ns-%d", i)
		add(&rbacv1.Role{TypeMeta: gvk("Role"), ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: p.Rules})
		add(&rbacv1.RoleBinding{TypeMeta: gvk("RoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: p.ServiceAccountName, Namespace: ns}}})
	}
	Expect(sets.List(sas)).To(Equal([]string{serviceAccount}), "the CSV's permissions are for the operator's ServiceAccount")
	for _, d := range strategy.DeploymentSpecs {
		Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal(serviceAccount))
	}
	// The bundle's other ClusterRoles (metrics-reader, editor, viewer), which OLM creates as is.
	objs = append(objs, ofKind(readBundleManifests(), "ClusterRole")...)
	add(&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: ns}})
	return objs
}

// permissions flattens what objs grant ServiceAccount ns/serviceAccount into
// "scope group/resource verb name" strings, aggregated ClusterRoles resolved as
// kube-controller-manager resolves them. Scope is "cluster" or "namespace" (the
// ServiceAccount's own namespace, whatever its name).
func permissions(objs []*unstructured.Unstructured, ns string) sets.Set[string] {
	GinkgoHelper()
	clusterRoles := map[string]*rbacv1.ClusterRole{}
	roles := map[string]*rbacv1.Role{}
	for _, o := range ofKind(objs, "ClusterRole", "Role") {
		if o.GetKind() == "Role" {
			r := &rbacv1.Role{}
			Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, r)).To(Succeed())
			roles[o.GetNamespace()+"/"+o.GetName()] = r
			continue
		}
		r := &rbacv1.ClusterRole{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, r)).To(Succeed())
		clusterRoles[o.GetName()] = r
	}
	out := sets.New[string]()
	for _, o := range ofKind(objs, "ClusterRoleBinding", "RoleBinding") {
		b := &rbacv1.RoleBinding{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, b)).To(Succeed())
		bound := false
		for _, s := range b.Subjects {
			bound = bound || (s.Kind == "ServiceAccount" && s.Name == serviceAccount && s.Namespace == ns)
		}
		if !bound {
			continue
		}
		scope := "cluster"
		if o.GetKind() == "RoleBinding" {
			Expect(o.GetNamespace()).To(Equal(ns), "the operator's RoleBindings are in its own namespace")
			scope = "namespace"
		}
		var rules []rbacv1.PolicyRule
		if b.RoleRef.Kind == "Role" {
			r, ok := roles[o.GetNamespace()+"/"+b.RoleRef.Name]
			Expect(ok).To(BeTrue(), "%s %s binds a Role that is not shipped", o.GetKind(), o.GetName())
			rules = r.Rules
		} else {
			r, ok := clusterRoles[b.RoleRef.Name]
			Expect(ok).To(BeTrue(), "%s %s binds a ClusterRole that is not shipped", o.GetKind(), o.GetName())
			rules = aggregatedRules(r, clusterRoles)
		}
		for _, rule := range rules {
			for _, p := range flatten(rule) {
				out.Insert(scope + " " + p)
			}
		}
	}
	return out
}

func aggregatedRules(r *rbacv1.ClusterRole, all map[string]*rbacv1.ClusterRole) []rbacv1.PolicyRule {
	if r.AggregationRule == nil {
		return r.Rules
	}
	var rules []rbacv1.PolicyRule
	for _, other := range all {
		for _, sel := range r.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			Expect(err).NotTo(HaveOccurred())
			if other.Name != r.Name && s.Matches(labels.Set(other.Labels)) {
				rules = append(rules, other.Rules...)
				break
			}
		}
	}
	return rules
}

func flatten(rule rbacv1.PolicyRule) []string {
	var out []string
	for _, url := range rule.NonResourceURLs {
		for _, verb := range rule.Verbs {
			out = append(out, "url "+url+" "+verb)
		}
	}
	names := rule.ResourceNames
	if len(names) == 0 {
		names = []string{"*"}
	}
	for _, g := range rule.APIGroups {
		for _, r := range rule.Resources {
			for _, verb := range rule.Verbs {
				for _, n := range names {
					out = append(out, fmt.Sprintf("%s/%s %s %s", g, r, verb, n))
				}
			}
		}
	}
	return out
}

var _ = Describe("the operator's RBAC", func() {
	It("is the same whether installed from config/, the Helm chart or the OLM bundle", func() {
		want := permissions(rbacSources[0].objects(), configNamespace)
		Expect(want.Has("cluster security.baseline.dev/securitybaselines/status patch *")).To(BeTrue(), "sanity: the manager role is bound")
		Expect(want.Has("cluster /pods get *")).To(BeTrue(), "sanity: the aggregated grantable role is resolved")
		GinkgoWriter.Printf("config/default grants the operator %d permissions\n", want.Len())
		for _, src := range rbacSources[1:] {
			got := permissions(src.objects(), src.namespace)
			Expect(sets.List(got.Difference(want))).To(BeEmpty(), "%s grants more than config/", src.name)
			Expect(sets.List(want.Difference(got))).To(BeEmpty(), "%s grants less than config/", src.name)
		}
	})

	It("keeps the chart's manager role equal to config/rbac/role.yaml (generated by make helm-chart)", func() {
		role := readObjects(filepath.Join(repo, "config", "rbac", "role.yaml"))[0]
		var chartRole *unstructured.Unstructured
		for _, o := range ofKind(renderChart(configNamespace, nil), "ClusterRole") {
			if o.GetName() == "securitybaseline-"+role.GetName() {
				chartRole = o
			}
		}
		Expect(chartRole).NotTo(BeNil())
		Expect(chartRole.Object["rules"]).To(Equal(role.Object["rules"]), "run `make helm-chart`")
	})
})

// appsDeployment builds a Deployment from a CSV's deployment spec.
type appsDeployment struct {
	name string
	spec appsv1.DeploymentSpec
}

// Deployment returns the Deployment OLM would create.
func (d appsDeployment) Deployment() *appsv1.Deployment {
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: metav1.ObjectMeta{Name: d.name}, Spec: d.spec}
}
