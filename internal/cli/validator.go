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

package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/crd"
)

// Problem is one reason a document is not a valid SecurityBaseline: the field and the API
// server's message about it.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if noField(p.Field) {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// Validator checks SecurityBaselines offline exactly as the API server does on create: the same
// decoding (pruning, strict unknown fields as kubectl's default --validate=strict, defaulting),
// the same ObjectMeta checks and the same OpenAPI schema and CEL (x-kubernetes-validations)
// validation, with the API server's own code (k8s.io/apiextensions-apiserver) and the CRD
// embedded in the binary. Admission (webhooks, ValidatingAdmissionPolicies) is not run.
type Validator struct {
	gvk        schema.GroupVersionKind
	structural *structuralschema.Structural
	strategy   rest.RESTCreateStrategy
}

// NewValidator builds a Validator from the embedded CRD, as the API server builds the storage
// of a custom resource (customresource_handler.go).
func NewValidator() (*Validator, error) {
	def, err := crd.SecurityBaseline()
	if err != nil {
		return nil, err
	}
	var version *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range def.Spec.Versions {
		if def.Spec.Versions[i].Name == securityv1alpha1.GroupVersion.Version && def.Spec.Versions[i].Served {
			version = &def.Spec.Versions[i]
		}
	}
	if version == nil || version.Schema == nil {
		return nil, errors.New("the embedded CRD does not serve " + securityv1alpha1.GroupVersion.String() + " with a schema")
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(version.Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("converting the CRD schema: %w", err)
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("the CRD schema is not structural: %w", err)
	}
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return nil, fmt.Errorf("pruning the CRD defaults: %w", err)
	}
	schemaValidator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	var statusValidator apiservervalidation.SchemaValidator
	var status *apiextensions.CustomResourceSubresourceStatus
	if version.Subresources != nil && version.Subresources.Status != nil {
		status = &apiextensions.CustomResourceSubresourceStatus{}
		if statusSchema, ok := internal.OpenAPIV3Schema.Properties["status"]; ok {
			if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&statusSchema); err != nil {
				return nil, err
			}
		}
	}
	gvk := securityv1alpha1.GroupVersion.WithKind(def.Spec.Names.Kind)
	strategy := &createStrategy{
		NameGenerator:   names.SimpleNameGenerator,
		namespaceScoped: def.Spec.Scope == apiextensionsv1.NamespaceScoped,
		kind:            gvk,
		schemaValidator: schemaValidator,
		structural:      structural,
		celValidator:    cel.NewValidator(structural, true, celconfig.PerCallLimit),
		hasStatus:       status != nil,
	}
	_ = statusValidator // only status updates use it
	return &Validator{gvk: gvk, structural: structural, strategy: strategy}, nil
}

// Validate checks one document and returns it as the API server would store it (pruned and
// defaulted, without status and system fields) with the problems found; a document with
// problems is one the API server rejects.
func (v *Validator) Validate(doc map[string]any) (*unstructured.Unstructured, []Problem) {
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(doc)}
	unknown, err := v.coerce(u)
	if err != nil {
		return nil, []Problem{{Message: err.Error()}}
	}
	if len(unknown) > 0 {
		// The API server rejects the request as it decodes it, before validating anything.
		problems := make([]Problem, 0, len(unknown))
		for _, path := range unknown {
			problems = append(problems, Problem{Field: path, Message: "unknown field (not declared in the schema)"})
		}
		return nil, problems
	}
	structuraldefaulting.Default(u.Object, v.structural)
	// A cluster-scoped object's namespace is dropped, as for a cluster-scoped request.
	if err := rest.EnsureObjectNamespaceMatchesRequestNamespace(metav1NamespaceNone, u); err != nil {
		return nil, []Problem{{Field: "metadata.namespace", Message: err.Error()}}
	}
	stored := u.DeepCopy()
	unstructured.RemoveNestedField(stored.Object, "status")

	ctx := genericapirequest.WithNamespace(context.Background(), metav1NamespaceNone)
	if u.GetName() == "" && u.GetGenerateName() != "" {
		u.SetName(v.strategy.GenerateName(u.GetGenerateName()))
	}
	rest.FillObjectMetaSystemFields(u)
	v.strategy.PrepareForCreate(ctx, u)
	errs := rest.ValidateCreate(ctx, u, v.strategy)
	if len(errs) == 0 {
		return stored, nil
	}
	problems := make([]Problem, 0, len(errs))
	for _, e := range errs {
		problems = append(problems, Problem{Field: e.Field, Message: e.ErrorBody()})
	}
	// The schema validator's order follows Go map iteration: sort by field for stable output,
	// the errors about no field (rules not checked) last.
	slices.SortStableFunc(problems, func(a, b Problem) int {
		aNone, bNone := noField(a.Field), noField(b.Field)
		if aNone != bNone {
			if aNone {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Field, b.Field)
	})
	return nil, problems
}

// noField tells whether a field path names no field: the API server prints a nil path as "<nil>".
func noField(path string) bool { return path == "" || path == "<nil>" }

// metav1NamespaceNone is the namespace of cluster-scoped requests.
const metav1NamespaceNone = ""

// coerce does what the API server's decoder does with a custom resource
// (unstructuredSchemaCoercer): reads ObjectMeta, prunes fields the schema does not declare and
// returns their paths (a strict request fails on them), drops nulls the schema does not allow.
func (v *Validator) coerce(u *unstructured.Unstructured) ([]string, error) {
	kind, apiVersion := u.GetKind(), u.GetAPIVersion()
	objectMeta, found, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object,
		schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, v.structural, true, opts)...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, v.structural)
	coerceErr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, v.structural, false,
		schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if coerceErr != nil {
		return nil, coerceErr
	}
	unknown = append(unknown, paths...)
	u.SetKind(kind)
	u.SetAPIVersion(apiVersion)
	if found {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

// typer names unstructured objects by their apiVersion and kind (the strategy's ObjectTyper).
type typer struct{}

func (typer) ObjectKinds(obj runtime.Object) ([]schema.GroupVersionKind, bool, error) {
	return []schema.GroupVersionKind{obj.GetObjectKind().GroupVersionKind()}, false, nil
}

func (typer) Recognizes(schema.GroupVersionKind) bool { return true }
