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

// Command bundle writes the install artifacts generated from config/ (kustomize output on
// stdin), so that none of them can drift from what `make deploy` installs:
//
//   - with -dir, the OLM bundle (manifests/, metadata/annotations.yaml): a ClusterServiceVersion
//     built with OLM's own typed API (github.com/operator-framework/api) from the hand-written
//     base in config/manifests/bases, the operator's Deployment, its cluster and namespaced
//     permissions (aggregated ClusterRoles resolved) and the samples as alm-examples; the CRD,
//     the metrics Service and the user-facing ClusterRoles beside it;
//   - with -chart, the generated parts of the Helm chart: crds/ and the RBAC and admission
//     policy templates, from the same objects.
//
// The output is deterministic, so `make verify` can tell when a committed file is stale.
//
//	kustomize build config/manifests | go run ./hack/bundle -version 0.1.0 -image IMG -dir bundle
//	kustomize build config/default | go run ./hack/bundle -chart charts/securitybaseline-operator
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	packageName = "securitybaseline-operator"
	// serviceAccount is the operator's ServiceAccount after config/default's name prefix.
	serviceAccount = "securitybaseline-controller-manager"
	// installNamespace is config/default's namespace, replaced by the chart's release namespace.
	installNamespace = "securitybaseline-system"

	kindCRD         = "CustomResourceDefinition"
	kindClusterRole = "ClusterRole"
	kindRole        = "Role"
)

func main() {
	var o bundleOptions
	flag.StringVar(&o.version, "version", "0.1.0", "Operator version (semver).")
	flag.StringVar(&o.image, "image", "securitybaseline-operator:latest", "Operator image.")
	flag.StringVar(&o.dir, "dir", "", "Bundle directory to write; empty: no bundle.")
	flag.StringVar(&o.channel, "channel", "candidate", "OLM channel (candidate, fast or stable: OLM's naming convention).")
	flag.StringVar(&o.icon, "icon", "config/manifests/bases/icon.svg", "SVG icon of the ClusterServiceVersion.")
	chart := flag.String("chart", "", "Helm chart directory whose generated files to write; empty: none.")
	flag.Parse()
	if err := run(os.Stdin, o, *chart); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, o bundleOptions, chart string) error {
	objs, err := decode(in)
	if err != nil {
		return err
	}
	if o.dir == "" && chart == "" {
		return errors.New("nothing to write: pass -dir and/or -chart")
	}
	if o.dir != "" {
		if err := writeBundle(objs, o); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	if chart != "" {
		if err := writeChart(objs, chart); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
	}
	return nil
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

// marshalTyped renders a typed object as YAML, without the null creationTimestamps and empty
// status and resources a typed object carries. Only for objects where no empty map matters (not
// CRDs: subresources.status is {}).
func marshalTyped(obj any) ([]byte, error) {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	prune(m)
	if raw, err = yaml.Marshal(m); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(raw), nil
}

// prune removes null values and empty maps (creationTimestamp: null, status: {}, resources: {})
// at any depth.
func prune(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(t)
			if len(t) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
}

// write writes obj as one YAML document; typed objects are pruned (see marshalTyped).
func write(path string, obj any, typed bool) error {
	raw, err := yaml.Marshal(obj)
	if typed {
		raw, err = marshalTyped(obj)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(append([]byte("---\n"), bytes.TrimSpace(raw)...), '\n'), 0o644)
}
