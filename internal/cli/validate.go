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
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

func newValidateCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate -f FILE|DIR|-",
		Short: "Check SecurityBaselines offline against the CRD's OpenAPI schema and CEL rules",
		Long: `validate checks every SecurityBaseline in the given files (multi-document YAML or JSON;
directories recursively; - for stdin; other kinds are ignored) exactly as the API server
checks a create: unknown fields (as kubectl's default --validate=strict), defaulting,
metadata, the OpenAPI schema and the CEL rules (x-kubernetes-validations) of the CRD embedded
in this binary, run by the API server's own code. Admission policies are not run.

Each error prints as file:document: field: message (documents counted from 1).
Exit code 0 when every baseline is valid, 1 when one is not, 2 when the input cannot be read.`,
		Example: `  kubectl securitybaseline validate -f config/samples/
  kustomize build overlays/prod | kubectl securitybaseline validate -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.runValidate() },
	}
	addFilenameFlag(cmd, o, "file, directory (recursive) or - (stdin) holding SecurityBaselines")
	return cmd
}

func (o *options) runValidate() error {
	docs, err := ReadDocuments(o.filenames, o.In)
	if err != nil {
		return err
	}
	validator, err := NewValidator()
	if err != nil {
		return err
	}
	checked, invalid := 0, 0
	for _, doc := range docs {
		if doc.Err != nil {
			invalid++
			_, _ = fmt.Fprintf(o.Out, "%s: %v\n", doc.Position(), doc.Err)
			continue
		}
		if !doc.IsSecurityBaseline() {
			continue
		}
		checked++
		if _, problems := validator.Validate(doc.Object); len(problems) > 0 {
			invalid++
			for _, p := range problems {
				_, _ = fmt.Fprintf(o.Out, "%s: %s\n", doc.Position(), p)
			}
		}
	}
	if invalid > 0 {
		return findingsError{msg: fmt.Sprintf("%d of %d SecurityBaselines invalid", invalid, checked)}
	}
	_, _ = fmt.Fprintf(o.ErrOut, "%d SecurityBaselines valid\n", checked)
	return nil
}

// loadedBaseline is a valid SecurityBaseline read from a document, defaulted as the API
// server stores it.
type loadedBaseline struct {
	doc      Document
	baseline *securityv1alpha1.SecurityBaseline
}

// loadBaselines reads the SecurityBaselines of the input and refuses invalid ones: what render
// and diff compute is only meaningful for a baseline the API server accepts.
func (o *options) loadBaselines() ([]loadedBaseline, error) {
	docs, err := ReadDocuments(o.filenames, o.In)
	if err != nil {
		return nil, err
	}
	validator, err := NewValidator()
	if err != nil {
		return nil, err
	}
	var out []loadedBaseline
	invalid := 0
	for _, doc := range docs {
		if doc.Err != nil || !doc.IsSecurityBaseline() {
			continue
		}
		stored, problems := validator.Validate(doc.Object)
		if len(problems) > 0 {
			invalid++
			for _, p := range problems {
				_, _ = fmt.Fprintf(o.ErrOut, "%s: %s\n", doc.Position(), p)
			}
			continue
		}
		b, err := toBaseline(stored)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doc.Position(), err)
		}
		out = append(out, loadedBaseline{doc: doc, baseline: b})
	}
	if invalid > 0 {
		return nil, fmt.Errorf("%d SecurityBaselines invalid (see kubectl securitybaseline validate)", invalid)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no SecurityBaseline in %v", o.filenames)
	}
	return out, nil
}

func toBaseline(u *unstructured.Unstructured) (*securityv1alpha1.SecurityBaseline, error) {
	b := &securityv1alpha1.SecurityBaseline{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, b); err != nil {
		return nil, err
	}
	return b, nil
}
