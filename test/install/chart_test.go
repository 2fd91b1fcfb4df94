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
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

var chartDir = filepath.Join(repo, "charts", "securitybaseline-operator")

// renderChart renders the chart as `helm install` would (schema checked), returning the CRDs
// of crds/ and then every rendered object.
func renderChart(namespace string, values map[string]any) []*unstructured.Unstructured {
	GinkgoHelper()
	objs, err := tryRenderChart(namespace, values)
	Expect(err).NotTo(HaveOccurred())
	return objs
}

func tryRenderChart(namespace string, values map[string]any) ([]*unstructured.Unstructured, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	rv, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: "sbo", Namespace: namespace, Revision: 1, IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	rendered, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		objs = append(objs, decodeAll(crd.File.Data)...)
	}
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasSuffix(name, ".yaml") {
			objs = append(objs, decodeAll([]byte(rendered[name]))...)
		}
	}
	for _, o := range objs {
		if o.GetNamespace() == "" && namespaced(o.GetKind()) {
			o.SetNamespace(namespace) // as helm install does
		}
	}
	return objs, nil
}

func namespaced(kind string) bool {
	return slices.Contains([]string{"ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"}, kind)
}

// nonDefaultValues switches every toggle away from its default.
var nonDefaultValues = map[string]any{
	"image":               map[string]any{"repository": "registry.example/sbo", "digest": "sha256:" + strings.Repeat("ab", 32)},
	"replicas":            2,
	"protectedNamespaces": []any{"kube-system", "platform"},
	"workers":             8,
	"logLevel":            "debug",
	"extraArgs":           []any{"--zap-encoder=console"},
	"rbac":                map[string]any{"bindableClusterRoles": []any{"view"}, "grantableReadOnly": false, "userRoles": false},
	"admissionPolicy":     map[string]any{"create": false, "operatorInstalls": true},
	"metrics": map[string]any{"secure": false, "port": 8080, "readerRole": false,
		"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}},
		"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
	"podAnnotations":          map[string]any{"example.com/team": "platform"},
	"nodeSelector":            map[string]any{"kubernetes.io/os": "linux"},
	"tolerations":             []any{map[string]any{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}},
	"priorityClassName":       "system-cluster-critical",
	"maxConcurrentReconciles": 2,
}

func deploymentOf(objs []*unstructured.Unstructured) *appsv1.Deployment {
	GinkgoHelper()
	deps := ofKind(objs, "Deployment")
	Expect(deps).To(HaveLen(1))
	d := &appsv1.Deployment{}
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deps[0].Object, d)).To(Succeed())
	return d
}

var _ = Describe("the Helm chart", Ordered, func() {
	It("renders the default values into objects the API server accepts", func() {
		objs := renderChart("sbo-chart", nil)
		Expect(ofKind(objs, "CustomResourceDefinition")).To(HaveLen(1))
		Expect(ofKind(objs, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")).To(HaveLen(2))
		Expect(ofKind(objs, "ServiceMonitor", "PrometheusRule")).To(BeEmpty())
		applyCRDs(objs)
		ensureNamespace("sbo-chart", nil)
		warns := dryRunCreate(objs)
		Expect(warns).To(BeEmpty())
		GinkgoWriter.Printf("chart (default values): %d objects accepted\n", len(objs))
	})

	It("renders non-default values into objects the API server accepts", func() {
		objs := renderChart("sbo-chart-custom", nonDefaultValues)
		Expect(ofKind(objs, "ValidatingAdmissionPolicy")).To(BeEmpty())
		Expect(ofKind(objs, "ServiceMonitor", "PrometheusRule")).To(HaveLen(2))
		for _, o := range ofKind(objs, "ClusterRole") {
			Expect(o.GetName()).NotTo(BeElementOf("securitybaseline-grantable-read-only", "securitybaseline-metrics-reader",
				"securitybaseline-securitybaseline-editor-role"))
		}
		rule := ofKind(objs, "PrometheusRule")[0]
		Expect(rule.Object["spec"]).To(Equal(ofKind(kustomizeBuild("config/prometheus"), "PrometheusRule")[0].Object["spec"]),
			"the chart's alerts are config/prometheus/prometheus_rule.yaml's, Prometheus templates intact (make helm-chart)")
		Expect(rule.GetLabels()).To(HaveKeyWithValue("release", "prom"))
		d := deploymentOf(objs)
		Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example/sbo@sha256:" + strings.Repeat("ab", 32)))
		Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElements(
			"--metrics-secure=false", "--protected-namespaces=kube-system,platform", "--zap-encoder=console", "--install-admission-policy=true"))
		applyCRDs(objs)
		ensureNamespace("sbo-chart-custom", nil)
		Expect(dryRunCreate(objs)).To(BeEmpty())
	})

	It("turns off an empty bindable allow-list instead of binding every ClusterRole", func() {
		objs := renderChart("sbo-chart", map[string]any{"rbac": map[string]any{"bindableClusterRoles": []any{}}})
		for _, o := range objs {
			Expect(o.GetName()).NotTo(HavePrefix("securitybaseline-bindable-clusterroles"))
		}
	})

	It("rejects values its schema does not allow", func() {
		for _, bad := range []map[string]any{
			{"rbac": map[string]any{"bindableClusterRoles": []any{"cluster-admin"}}},
			{"admissionPolicy": map[string]any{"create": false, "operatorInstalls": false}},
			{"resources": map[string]any{"limits": map[string]any{"memory": "lots"}}},
			{"unknownKey": true},
		} {
			_, err := tryRenderChart("sbo-chart", bad)
			Expect(err).To(HaveOccurred(), "%v", bad)
		}
	})

	It("runs the manager exactly as config/manager does", func() {
		chart := deploymentOf(renderChart("securitybaseline-system", nil))
		config := deploymentOf(kustomizeBuild("config/default"))
		cs, cc := chart.Spec.Template.Spec, config.Spec.Template.Spec
		Expect(cs.SecurityContext).To(Equal(cc.SecurityContext))
		Expect(cs.ServiceAccountName).To(Equal(cc.ServiceAccountName))
		Expect(cs.TerminationGracePeriodSeconds).To(Equal(cc.TerminationGracePeriodSeconds))
		m, n := cs.Containers[0], cc.Containers[0]
		Expect(m.SecurityContext).To(Equal(n.SecurityContext))
		Expect(m.Resources).To(Equal(n.Resources))
		Expect(m.Env).To(Equal(n.Env))
		Expect(m.Ports).To(Equal(n.Ports))
		Expect(m.Command).To(Equal(n.Command))
		Expect(m.LivenessProbe).To(Equal(n.LivenessProbe))
		Expect(m.ReadinessProbe).To(Equal(n.ReadinessProbe))
		for _, arg := range n.Args {
			if arg == "--leader-elect" {
				arg = "--leader-elect=true"
			}
			Expect(m.Args).To(ContainElement(arg))
		}
	})
})
