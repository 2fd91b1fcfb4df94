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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

type bundleOptions struct {
	version, image, dir, channel, icon string
}

// bundleInputs are config/manifests' objects, sorted into what the bundle is made of.
type bundleInputs struct {
	csv      *operatorsv1alpha1.ClusterServiceVersion
	crd      *apiextensionsv1.CustomResourceDefinition
	examples []map[string]any
	extra    []*unstructured.Unstructured
	strategy operatorsv1alpha1.StrategyDetailsDeployment
}

// collect sorts the input objects: the CSV base, the CRD, the samples, the Deployment and the
// operator's permissions for the CSV, and the manifests shipped beside it.
func collect(objs []*unstructured.Unstructured, image string) (*bundleInputs, error) {
	in := &bundleInputs{csv: &operatorsv1alpha1.ClusterServiceVersion{}}
	bound, aggregated := boundToOperator(objs)
	for _, u := range objs {
		switch u.GetKind() {
		case "ClusterServiceVersion":
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, in.csv); err != nil {
				return nil, fmt.Errorf("ClusterServiceVersion base: %w", err)
			}
		case "SecurityBaseline":
			in.examples = append(in.examples, u.Object)
		case kindCRD:
			in.crd = &apiextensionsv1.CustomResourceDefinition{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, in.crd); err != nil {
				return nil, err
			}
			in.extra = append(in.extra, u)
		case "Deployment":
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
				return nil, err
			}
			for i := range d.Spec.Template.Spec.Containers {
				if d.Spec.Template.Spec.Containers[i].Name == "manager" {
					d.Spec.Template.Spec.Containers[i].Image = image
				}
			}
			in.strategy.DeploymentSpecs = append(in.strategy.DeploymentSpecs, operatorsv1alpha1.StrategyDeploymentSpec{
				Name: d.Name, Label: labels.Set(d.Labels), Spec: d.Spec,
			})
		case kindClusterRole, kindRole:
			key := u.GetKind() + "/" + u.GetName()
			switch {
			case bound[key] && u.GetKind() == kindRole:
				in.strategy.Permissions = append(in.strategy.Permissions, permission(u, objs))
			case bound[key]:
				// OLM creates a ClusterRole per entry and binds it to the operator; an aggregated
				// role's rules are resolved here, as kube-controller-manager would aggregate them.
				in.strategy.ClusterPermissions = append(in.strategy.ClusterPermissions, permission(u, objs))
			case aggregated[key]:
				// Its rules are in the aggregating role's entry.
			default:
				in.extra = append(in.extra, u) // for users (metrics-reader, editor, viewer)
			}
		case "Service":
			in.extra = append(in.extra, u)
		}
		// Namespace, ServiceAccount and bindings are created by OLM from the CSV. The admission
		// policy cannot be shipped in a bundle: the operator applies it at start-up.
	}
	if in.csv.Kind == "" || in.crd == nil || len(in.strategy.DeploymentSpecs) != 1 {
		return nil, fmt.Errorf("want a ClusterServiceVersion base, the CRD and one Deployment in the input")
	}
	return in, nil
}

// writeBundle writes the OLM bundle from config/manifests' objects.
func writeBundle(objs []*unstructured.Unstructured, o bundleOptions) error {
	ver, err := semver.Parse(o.version)
	if err != nil {
		return fmt.Errorf("-version: %w", err)
	}
	in, err := collect(objs, o.image)
	if err != nil {
		return err
	}
	csv, crd, examples, extra, strategy := in.csv, in.crd, in.examples, in.extra, in.strategy
	if err := checkDescriptors(csv, crd); err != nil {
		return err
	}
	icon, err := os.ReadFile(o.icon)
	if err != nil {
		return err
	}
	rawExamples, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return err
	}
	csv.Name = packageName + ".v" + o.version
	csv.Namespace = ""
	csv.Annotations["alm-examples"] = string(rawExamples)
	csv.Annotations["containerImage"] = o.image
	csv.Spec.Version = version.OperatorVersion{Version: ver}
	csv.Spec.Icon = []operatorsv1alpha1.Icon{{Data: base64.StdEncoding.EncodeToString(icon), MediaType: "image/svg+xml"}}
	csv.Spec.RelatedImages = []operatorsv1alpha1.RelatedImage{{Name: "manager", Image: o.image}}
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment, StrategySpec: strategy,
	}

	manifests := filepath.Join(o.dir, "manifests")
	if err := os.RemoveAll(manifests); err != nil {
		return err
	}
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		return err
	}
	if err := write(filepath.Join(manifests, packageName+".clusterserviceversion.yaml"), csv, true); err != nil {
		return err
	}
	for _, u := range extra {
		if err := write(filepath.Join(manifests, fileName(u)), withoutNamespace(u), false); err != nil {
			return err
		}
	}
	return writeMetadata(o)
}

// writeMetadata writes metadata/annotations.yaml and, beside the bundle directory, the bundle
// image's bundle.Dockerfile carrying the same annotations as labels.
func writeMetadata(o bundleOptions) error {
	annotations := [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", packageName},
		{"operators.operatorframework.io.bundle.channels.v1", o.channel},
		{"operators.operatorframework.io.bundle.channel.default.v1", o.channel},
	}
	m := map[string]string{}
	var dockerfile strings.Builder
	dockerfile.WriteString("# The OLM bundle image (generated by `make bundle`): docker build -f bundle.Dockerfile -t <bundle-img> .\nFROM scratch\n")
	for _, a := range annotations {
		m[a[0]] = a[1]
		fmt.Fprintf(&dockerfile, "LABEL %s=%s\n", a[0], a[1])
	}
	rel := filepath.ToSlash(filepath.Base(filepath.Clean(o.dir)))
	fmt.Fprintf(&dockerfile, "COPY %s/manifests /manifests/\nCOPY %s/metadata /metadata/\n", rel, rel)
	if err := os.MkdirAll(filepath.Join(o.dir, "metadata"), 0o755); err != nil {
		return err
	}
	if err := write(filepath.Join(o.dir, "metadata", "annotations.yaml"), map[string]any{"annotations": m}, false); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(filepath.Dir(filepath.Clean(o.dir)), "bundle.Dockerfile"), []byte(dockerfile.String()), 0o644)
}

func permission(role *unstructured.Unstructured, objs []*unstructured.Unstructured) operatorsv1alpha1.StrategyDeploymentPermissions {
	return operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: serviceAccount, Rules: rulesOf(role, objs)}
}

// boundToOperator returns "Kind/name" of the roles the input's bindings grant the operator's
// ServiceAccount, and of the ClusterRoles aggregated into those.
func boundToOperator(objs []*unstructured.Unstructured) (bound, aggregated map[string]bool) {
	bound, aggregated = map[string]bool{}, map[string]bool{}
	for _, u := range objs {
		if u.GetKind() != "ClusterRoleBinding" && u.GetKind() != "RoleBinding" {
			continue
		}
		b := &rbacv1.RoleBinding{} // same fields as a ClusterRoleBinding
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, b); err != nil {
			continue
		}
		if slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == serviceAccount }) {
			bound[b.RoleRef.Kind+"/"+b.RoleRef.Name] = true
		}
	}
	for _, u := range objs {
		if u.GetKind() == kindClusterRole && bound[kindClusterRole+"/"+u.GetName()] {
			for _, m := range aggregatedInto(u, objs) {
				aggregated[kindClusterRole+"/"+m.GetName()] = true
			}
		}
	}
	return bound, aggregated
}

// aggregatedInto returns the input's ClusterRoles that role's aggregationRule selects.
func aggregatedInto(role *unstructured.Unstructured, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	cr := &rbacv1.ClusterRole{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, cr); err != nil || cr.AggregationRule == nil {
		return nil
	}
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() != kindClusterRole || u.GetName() == role.GetName() {
			continue
		}
		for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
			if len(sel.MatchLabels) > 0 && labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(u.GetLabels())) {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// rulesOf returns a role's rules; for a ClusterRole with an aggregationRule, the rules of the
// input's ClusterRoles its selectors match.
func rulesOf(role *unstructured.Unstructured, objs []*unstructured.Unstructured) []rbacv1.PolicyRule {
	cr := &rbacv1.ClusterRole{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, cr); err != nil {
		panic(err)
	}
	if cr.AggregationRule == nil {
		return cr.Rules
	}
	rules := []rbacv1.PolicyRule{}
	for _, u := range aggregatedInto(role, objs) {
		rules = append(rules, rulesOf(u, objs)...)
	}
	return rules
}

// checkDescriptors fails when a spec or status descriptor's path is not a field of the CRD's
// served version, so the descriptors cannot outlive a renamed field.
func checkDescriptors(csv *operatorsv1alpha1.ClusterServiceVersion, crd *apiextensionsv1.CustomResourceDefinition) error {
	for _, owned := range csv.Spec.CustomResourceDefinitions.Owned {
		for _, v := range crd.Spec.Versions {
			if v.Name != owned.Version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			root := v.Schema.OpenAPIV3Schema.Properties
			for _, d := range owned.SpecDescriptors {
				if !hasPath(root["spec"], d.Path) {
					return fmt.Errorf("specDescriptor %q: no such field in %s %s", d.Path, crd.Name, v.Name)
				}
			}
			for _, d := range owned.StatusDescriptors {
				if !hasPath(root["status"], d.Path) {
					return fmt.Errorf("statusDescriptor %q: no such field in %s %s", d.Path, crd.Name, v.Name)
				}
			}
		}
	}
	return nil
}

func hasPath(s apiextensionsv1.JSONSchemaProps, path string) bool {
	for field := range strings.SplitSeq(path, ".") {
		next, ok := s.Properties[field]
		if !ok {
			return false
		}
		s = next
	}
	return true
}

// fileName names a bundle manifest the way operator-sdk does.
func fileName(u *unstructured.Unstructured) string {
	if u.GetKind() == kindCRD {
		plural, group, _ := strings.Cut(u.GetName(), ".")
		return group + "_" + plural + ".yaml"
	}
	group, _, grouped := strings.Cut(u.GetAPIVersion(), "/")
	if !grouped {
		group = "v1"
	}
	return fmt.Sprintf("%s_%s_%s.yaml", u.GetName(), group, strings.ToLower(u.GetKind()))
}

func withoutNamespace(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	c.SetNamespace("")
	return c.Object
}
