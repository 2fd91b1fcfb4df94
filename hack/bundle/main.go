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

// Command bundle writes the OLM bundle (bundle/manifests, bundle/metadata) from the output of
// `kustomize build config/manifests` on stdin: the ClusterServiceVersion base gets the
// operator's Deployment, its cluster and namespaced permissions and the samples as
// alm-examples; the CRD and the metrics Service are copied beside it. The output is
// deterministic, so `make verify` can tell when the committed bundle is stale.
//
//	kustomize build config/manifests | go run ./hack/bundle -version 0.1.0 -image IMG -dir bundle
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const packageName = "securitybaseline-operator"

func main() {
	version := flag.String("version", "0.1.0", "Operator version.")
	image := flag.String("image", "securitybaseline-operator:latest", "Operator image.")
	dir := flag.String("dir", "bundle", "Bundle directory.")
	channel := flag.String("channel", "alpha", "OLM channel.")
	flag.Parse()
	if err := run(os.Stdin, *dir, *version, *image, *channel); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, dir, version, image, channel string) error {
	objs, err := decode(in)
	if err != nil {
		return err
	}
	var csv *unstructured.Unstructured
	var examples []any
	var deployments, clusterPermissions, permissions []any
	var extra []*unstructured.Unstructured
	bound := boundToOperator(objs)
	for _, o := range objs {
		switch o.GetKind() {
		case "ClusterServiceVersion":
			csv = o
		case "SecurityBaseline":
			examples = append(examples, o.Object)
		case "Deployment":
			spec, _, _ := unstructured.NestedMap(o.Object, "spec")
			setImage(spec, image)
			labels, _, _ := unstructured.NestedMap(o.Object, "metadata", "labels")
			deployments = append(deployments, map[string]any{"name": o.GetName(), "label": labels, "spec": spec})
		case "ClusterRole":
			if bound["ClusterRole/"+o.GetName()] {
				// OLM binds clusterPermissions to the operator; an aggregated role's rules are
				// those of the ClusterRoles it selects, resolved here.
				clusterPermissions = append(clusterPermissions, map[string]any{"serviceAccountName": serviceAccount, "rules": rulesOf(o, objs)})
			} else {
				extra = append(extra, o)
			}
		case "Role":
			if bound["Role/"+o.GetName()] {
				permissions = append(permissions, map[string]any{"serviceAccountName": serviceAccount, "rules": rulesOf(o, objs)})
			} else {
				extra = append(extra, o)
			}
		case "CustomResourceDefinition", "Service":
			extra = append(extra, o)
		}
		// Namespace, ServiceAccount and bindings are created by OLM from the CSV.
	}
	if csv == nil {
		return fmt.Errorf("no ClusterServiceVersion in the input")
	}
	name := packageName + ".v" + version
	csv.SetName(name)
	csv.SetNamespace("")
	ann := csv.GetAnnotations()
	rawExamples, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return err
	}
	ann["alm-examples"] = string(rawExamples)
	ann["containerImage"] = image
	csv.SetAnnotations(ann)
	must(unstructured.SetNestedField(csv.Object, version, "spec", "version"))
	must(unstructured.SetNestedField(csv.Object, map[string]any{
		"deployments": deployments, "clusterPermissions": clusterPermissions, "permissions": permissions,
	}, "spec", "install", "spec"))

	manifests := filepath.Join(dir, "manifests")
	if err := os.RemoveAll(manifests); err != nil {
		return err
	}
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		return err
	}
	if err := write(filepath.Join(manifests, packageName+".clusterserviceversion.yaml"), csv.Object); err != nil {
		return err
	}
	for _, o := range extra {
		group, _, grouped := strings.Cut(o.GetAPIVersion(), "/")
		if !grouped {
			group = "v1"
		}
		file := fmt.Sprintf("%s_%s_%s.yaml", o.GetName(), group, strings.ToLower(o.GetKind()))
		if o.GetKind() == "CustomResourceDefinition" {
			plural, group, _ := strings.Cut(o.GetName(), ".")
			file = group + "_" + plural + ".yaml"
		}
		o.SetNamespace("")
		if err := write(filepath.Join(manifests, file), o.Object); err != nil {
			return err
		}
	}
	annotations := map[string]any{"annotations": map[string]any{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         packageName,
		"operators.operatorframework.io.bundle.channels.v1":        channel,
		"operators.operatorframework.io.bundle.channel.default.v1": channel,
	}}
	if err := os.MkdirAll(filepath.Join(dir, "metadata"), 0o755); err != nil {
		return err
	}
	return write(filepath.Join(dir, "metadata", "annotations.yaml"), annotations)
}

// serviceAccount is the operator's ServiceAccount after config/default's name prefix.
const serviceAccount = "securitybaseline-controller-manager"

// boundToOperator returns "Kind/name" of the roles the input's bindings grant the operator's
// ServiceAccount.
func boundToOperator(objs []*unstructured.Unstructured) map[string]bool {
	bound := map[string]bool{}
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "RoleBinding" {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" && m["name"] == serviceAccount {
				kind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind")
				name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
				bound[kind+"/"+name] = true
			}
		}
	}
	return bound
}

// rulesOf returns a role's rules; for a ClusterRole with an aggregationRule, the rules of the
// input's ClusterRoles its selectors match, as kube-controller-manager would aggregate them.
func rulesOf(role *unstructured.Unstructured, objs []*unstructured.Unstructured) []any {
	selectors, aggregated, _ := unstructured.NestedSlice(role.Object, "aggregationRule", "clusterRoleSelectors")
	if !aggregated {
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		return rules
	}
	rules := []any{}
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" || o.GetName() == role.GetName() {
			continue
		}
		for _, sel := range selectors {
			matchLabels, _, _ := unstructured.NestedStringMap(sel.(map[string]any), "matchLabels")
			if len(matchLabels) > 0 && labels.SelectorFromSet(matchLabels).Matches(labels.Set(o.GetLabels())) {
				own, _, _ := unstructured.NestedSlice(o.Object, "rules")
				rules = append(rules, own...)
				break
			}
		}
	}
	return rules
}

func setImage(spec map[string]any, image string) {
	containers, _, _ := unstructured.NestedSlice(spec, "template", "spec", "containers")
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == "manager" {
			m["image"] = image
		}
	}
	must(unstructured.SetNestedSlice(spec, containers, "template", "spec", "containers"))
}

func decode(in io.Reader) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(in, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

func write(path string, obj any) error {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("---\n"), bytes.TrimSpace(raw)...), 0o644)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
