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

// Package crd embeds the SecurityBaseline CustomResourceDefinition, so that programs built from
// this module (the kubectl plugin) validate against exactly the schema the operator installs.
// securitybaselines.yaml is a copy of config/crd/bases/security.baseline.dev_securitybaselines.yaml
// that `make manifests` refreshes; `make verify` fails when the copy is stale.
package crd

import (
	_ "embed"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// YAML is the SecurityBaseline CRD as controller-gen generated it.
//
//go:embed securitybaselines.yaml
var YAML []byte

// SecurityBaseline returns the embedded SecurityBaseline CRD.
func SecurityBaseline() (*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(YAML, crd); err != nil {
		return nil, fmt.Errorf("decoding the embedded SecurityBaseline CRD: %w", err)
	}
	return crd, nil
}
