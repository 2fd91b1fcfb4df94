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
	"fmt"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/operation"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/storage/names"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// createStrategy is the create half of the API server's strategy for custom resources
// (k8s.io/apiextensions-apiserver/pkg/registry/customresource: strategy.go and validator.go, at
// the version in go.mod), composed of the same validation functions. That package itself is not
// imported: it links the etcd storage. The envtest suite checks that both agree.
type createStrategy struct {
	typer
	names.NameGenerator
	namespaceScoped bool
	kind            schema.GroupVersionKind
	schemaValidator apiservervalidation.SchemaValidator
	structural      *structuralschema.Structural
	celValidator    *cel.Validator
	hasStatus       bool
}

// NamespaceScoped tells whether the resource is namespaced.
func (s *createStrategy) NamespaceScoped() bool { return s.namespaceScoped }

// PrepareForCreate drops status (set through the status subresource only) and sets generation 1.
func (s *createStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	u := obj.(*unstructured.Unstructured)
	if s.hasStatus {
		delete(u.Object, "status")
	}
	u.SetGeneration(1)
}

// Validate is customResourceStrategy.Validate.
func (s *createStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return field.ErrorList{field.Invalid(field.NewPath(""), obj, fmt.Sprintf("has type %T. Must be a pointer to an Unstructured type", obj))}
	}
	errs := s.validateResource(ctx, u)
	// embedded resources
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u.Object, s.structural, false)...)
	// x-kubernetes-list-type map and set invariants
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, u.Object)...)
	// x-kubernetes-validations rules
	if blocked, err := hasBlockingErr(errs); blocked {
		errs = append(errs, err)
	} else {
		celErrs, _ := s.celValidator.Validate(ctx, nil, s.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs
}

// validateResource is customResourceValidator.Validate (no scale subresource).
func (s *createStrategy) validateResource(ctx context.Context, u *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if u.GetKind() != s.kind.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), fmt.Sprintf("must be %v", s.kind.Kind)))
	}
	if u.GetAPIVersion() != s.kind.GroupVersion().String() {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), fmt.Sprintf("must be %v", s.kind.GroupVersion().String())))
	}
	if len(errs) > 0 {
		return errs
	}
	metadata, errs := objectMeta(u)
	if len(errs) == 0 {
		errs = validation.ValidateObjectMetaDeclaratively(ctx, operation.Create, metadata, nil, s.namespaceScoped,
			validation.NameIsDNSSubdomain, field.NewPath("metadata"), utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta))
	}
	return append(errs, apiservervalidation.ValidateCustomResource(nil, u.UnstructuredContent(), s.schemaValidator)...)
}

// WarningsOnCreate returns no warnings (the API server warns about finalizer names only).
func (s *createStrategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

// Canonicalize does nothing, as for every custom resource.
func (s *createStrategy) Canonicalize(runtime.Object) {}

// objectMeta is customresource's getObjectMeta.
func objectMeta(u *unstructured.Unstructured) (*metav1.ObjectMeta, field.ErrorList) {
	raw := u.UnstructuredContent()["metadata"]
	if raw == nil {
		return &metav1.ObjectMeta{}, nil
	}
	metadataMap, ok := raw.(map[string]any)
	if !ok {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, fmt.Sprintf("expected map[string]interface{}, got %T", raw))}
	}
	meta := &metav1.ObjectMeta{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(metadataMap, meta); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
	}
	return meta, nil
}

// hasBlockingErr is customresource's: CEL rules are not evaluated on an object that failed these.
func hasBlockingErr(errs field.ErrorList) (bool, *field.Error) {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return false, nil
}
