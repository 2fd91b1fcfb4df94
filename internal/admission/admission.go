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

// Package admission installs the ValidatingAdmissionPolicy that decides who may write a
// SecurityBaseline (docs/api-contract.md, "Who may write a SecurityBaseline"): creating one,
// or changing its spec, is admitted only from a user who may do, cluster-wide, what the
// baseline asks the operator to do. The policy's source is config/admission; manifests.yaml
// is its copy with config/default's name prefix, embedded here so that the operator can apply
// it where its installer cannot (OLM bundles carry no admission policies).
package admission

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
)

// Operator RBAC: server-side apply patches the two objects by name, and creates them by name
// when they are missing (the API server authorizes a create-by-apply with the object's name,
// unlike a POST, so resourceNames narrow create too); get reads them first, so a restart that
// finds them as applied writes nothing. No list or delete.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;create;patch,resourceNames=securitybaseline-author-authorization

const (
	// PolicyName names the ValidatingAdmissionPolicy and its binding once installed
	// (config/admission's author-authorization with config/default's name prefix).
	PolicyName = "securitybaseline-author-authorization"
	// FieldManager owns the fields the operator applies.
	FieldManager = "securitybaseline-operator"
)

//go:embed manifests.yaml
var manifests []byte

// Objects returns the policy and its binding, in the order they are applied: the policy first,
// so that the binding never names a policy that does not exist.
func Objects() ([]runtime.ApplyConfiguration, error) {
	return decode(manifests)
}

// Install server-side applies the policy and its binding with FieldManager, taking over fields
// another manager set (an install that drifted is put back as shipped). Errors that may pass
// (the API server restarting, timeouts, throttling) are retried until ctx ends; the others
// (forbidden, invalid, the API missing) end it at once.
func Install(ctx context.Context, c client.Client, log logr.Logger) error {
	objs, err := Objects()
	if err != nil {
		return err
	}
	applied := 0
	for _, obj := range objs {
		if alreadyApplied(ctx, c, obj) {
			continue
		}
		applied++
		var applyErr error
		backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: math.MaxInt32, Cap: 10 * time.Second}
		err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
			applyErr = c.Apply(ctx, obj, client.FieldOwner(FieldManager), client.ForceOwnership)
			switch {
			case applyErr == nil:
				return true, nil
			case permanent(applyErr):
				return false, applyErr
			}
			log.Info("retrying to apply the admission policy", "object", describe(obj), "reason", applyErr.Error())
			return false, nil
		})
		if err != nil {
			if applyErr != nil && !errors.Is(err, applyErr) {
				err = fmt.Errorf("%w (last attempt: %w)", err, applyErr)
			}
			return fmt.Errorf("applying %s: %w", describe(obj), err)
		}
	}
	log.Info("the admission policy is in place: SecurityBaselines are admitted only from users who may do what they ask",
		"validatingAdmissionPolicy", PolicyName, "binding", PolicyName, "objectsApplied", applied)
	return nil
}

// alreadyApplied tells whether the live object holds, owned by the operator's field manager,
// every field it would apply with the same value (client-go's extract functions read them from
// managedFields): then applying again would change nothing, and a restart writes nothing. Any
// doubt (not found, not readable, another value) means apply.
func alreadyApplied(ctx context.Context, c client.Client, obj runtime.ApplyConfiguration) bool {
	var owned any
	switch o := obj.(type) {
	case *admissionregistrationv1ac.ValidatingAdmissionPolicyApplyConfiguration:
		live := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		if err := c.Get(ctx, client.ObjectKey{Name: *o.GetName()}, live); err != nil {
			return false
		}
		ac, err := admissionregistrationv1ac.ExtractValidatingAdmissionPolicy(live, FieldManager)
		if err != nil {
			return false
		}
		owned = ac
	case *admissionregistrationv1ac.ValidatingAdmissionPolicyBindingApplyConfiguration:
		live := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		if err := c.Get(ctx, client.ObjectKey{Name: *o.GetName()}, live); err != nil {
			return false
		}
		ac, err := admissionregistrationv1ac.ExtractValidatingAdmissionPolicyBinding(live, FieldManager)
		if err != nil {
			return false
		}
		owned = ac
	default:
		return false
	}
	want, errWant := apply.ToMap(obj)
	got, errGot := apply.ToMap(owned)
	// The owned fields may hold more than declared (defaults the API server set inside them).
	return errWant == nil && errGot == nil && apply.Diff(want, got) == ""
}

// permanent tells an error that retrying cannot cure.
func permanent(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsInvalid(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) ||
		meta.IsNoMatchError(err)
}

// decode reads the YAML documents of raw into typed apply configurations; a field the API
// does not know fails here rather than being dropped by the API server.
func decode(raw []byte) ([]runtime.ApplyConfiguration, error) {
	var objs []runtime.ApplyConfiguration
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the embedded admission manifests: %w", err)
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("reading the embedded admission manifests: %w", err)
		}
		var obj runtime.ApplyConfiguration
		switch {
		case meta.APIVersion == "" && meta.Kind == "":
			continue // an empty document
		case meta.APIVersion == "admissionregistration.k8s.io/v1" && meta.Kind == "ValidatingAdmissionPolicy":
			obj = &admissionregistrationv1ac.ValidatingAdmissionPolicyApplyConfiguration{}
		case meta.APIVersion == "admissionregistration.k8s.io/v1" && meta.Kind == "ValidatingAdmissionPolicyBinding":
			obj = &admissionregistrationv1ac.ValidatingAdmissionPolicyBindingApplyConfiguration{}
		default:
			return nil, fmt.Errorf("the embedded admission manifests hold an unexpected %s %s", meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("decoding the embedded %s: %w", meta.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func describe(obj runtime.ApplyConfiguration) string {
	switch o := obj.(type) {
	case *admissionregistrationv1ac.ValidatingAdmissionPolicyApplyConfiguration:
		return "ValidatingAdmissionPolicy " + *o.GetName()
	case *admissionregistrationv1ac.ValidatingAdmissionPolicyBindingApplyConfiguration:
		return "ValidatingAdmissionPolicyBinding " + *o.GetName()
	}
	return fmt.Sprintf("%T", obj)
}
