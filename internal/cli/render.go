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
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/printers"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// Placeholders render prints where a value depends on the live baseline's UID, which is unknown
// offline: the ownerReference's uid, and the spec-hash annotation (a hash of the declared
// content, ownerReference included).
const (
	UIDPlaceholder      = "$(BASELINE_UID)"
	SpecHashPlaceholder = "$(SPEC_HASH)"
)

type renderOptions struct {
	*options
	labels   map[string]string
	uid      string
	name     string
	selected bool
}

func newRenderCommand(o *options) *cobra.Command {
	r := &renderOptions{options: o}
	cmd := &cobra.Command{
		Use:   "render -f FILE --namespace NAME [--labels k=v,...] [--selected]",
		Short: "Print offline the objects the operator would write in a namespace",
		Long: `render prints the exact objects the operator writes for each SecurityBaseline of the input in
one namespace: the Namespace with only the baseline's Pod Security labels (the operator labels
Namespaces, never owns them), then its NetworkPolicies, Roles, RoleBindings, ServiceAccounts and
secret stores, with $(NAMESPACE) substituted and the operator's labels, spec-hash annotation and
controller ownerReference. The input is defaulted as the API server stores it; an invalid
baseline is refused.

The ownerReference's uid is the live baseline's UID, and the spec-hash annotation hashes it too:
offline they are rendered as $(BASELINE_UID) and $(SPEC_HASH), unless the input carries
metadata.uid (kubectl get -o yaml prints it) or --uid is given.

--selected prints instead whether each baseline targets a namespace of that name and labels
(the kubernetes.io/metadata.name label is implied; protected and excluded namespaces are never
targeted) and exits 0 when all do, 1 otherwise.`,
		Example: `  kubectl securitybaseline render -f baseline.yaml --namespace team-a
  kubectl securitybaseline render -f baseline.yaml -n team-a --labels security.baseline.dev/profile=restricted --selected`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return r.run() },
	}
	addFilenameFlag(cmd, o, "file, directory (recursive) or - (stdin) holding SecurityBaselines")
	addProtectedFlag(cmd, o)
	cmd.Flags().StringToStringVar(&r.labels, "labels", nil, "labels of the namespace, for --selected (k=v,...)")
	cmd.Flags().StringVar(&r.uid, "uid", "", "UID of the live baseline, for the ownerReference and spec-hash (default: metadata.uid of the input)")
	cmd.Flags().StringVar(&r.name, "name", "", "render only the SecurityBaseline of this name")
	cmd.Flags().BoolVar(&r.selected, "selected", false, "print whether the baselines target the namespace; exit 1 when one does not")
	cmd.Flags().StringVarP(&o.renderOutput, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

func (r *renderOptions) run() error {
	if err := checkOutput(r.renderOutput, outputYAML, outputJSON); err != nil {
		return err
	}
	namespace := ""
	if r.configFlags.Namespace != nil {
		namespace = *r.configFlags.Namespace
	}
	if namespace == "" {
		return errors.New("--namespace is required")
	}
	loaded, err := r.loadBaselines()
	if err != nil {
		return err
	}
	var baselines []*securityv1alpha1.SecurityBaseline
	for _, l := range loaded {
		if r.name == "" || l.baseline.Name == r.name {
			baselines = append(baselines, l.baseline)
		}
	}
	if len(baselines) == 0 {
		return fmt.Errorf("no SecurityBaseline named %q in the input", r.name)
	}
	if r.selected {
		return r.printSelected(baselines, namespace)
	}
	var objs []*unstructured.Unstructured
	unknownUID := false
	for _, b := range baselines {
		if r.uid != "" {
			b.UID = types.UID(r.uid)
		}
		if selected, reason, err := desired.Selects(b, namespace, r.labels, r.protected); err == nil && !selected && len(r.labels) > 0 {
			_, _ = fmt.Fprintf(r.ErrOut, "note: SecurityBaseline %s does not target this namespace (%s): the operator writes none of these there\n", b.Name, reason)
		}
		unknownUID = unknownUID || b.UID == ""
		rendered, err := Render(b, namespace)
		if err != nil {
			return err
		}
		objs = append(objs, rendered...)
	}
	if r.renderOutput == outputJSON {
		return printJSONList(r.Out, objs)
	}
	if unknownUID {
		_, _ = fmt.Fprintf(r.Out, "# ownerReferences[].uid is the live baseline's UID and the %s annotation hashes it:\n"+
			"# unknown offline, they are rendered as %s and %s (pass --uid to compute them).\n",
			desired.SpecHashAnnotation, UIDPlaceholder, SpecHashPlaceholder)
	}
	return printYAML(r.Out, objs)
}

func (r *renderOptions) printSelected(baselines []*securityv1alpha1.SecurityBaseline, namespace string) error {
	all := true
	for _, b := range baselines {
		selected, reason, err := desired.Selects(b, namespace, r.labels, r.protected)
		if err != nil {
			return fmt.Errorf("SecurityBaseline %s: %w", b.Name, err)
		}
		if selected {
			_, _ = fmt.Fprintf(r.Out, "SecurityBaseline %s targets namespace %s\n", b.Name, namespace)
			continue
		}
		all = false
		_, _ = fmt.Fprintf(r.Out, "SecurityBaseline %s does not target namespace %s: %s\n", b.Name, namespace, reason)
	}
	if !all {
		return findingsError{}
	}
	return nil
}

// Render returns the objects the operator writes for a baseline in a namespace, as it writes
// them: the Namespace with only the baseline's Pod Security labels (when it sets any), then
// every object of desired.ForNamespace in its order. A baseline without a UID (not read from a
// cluster) gets UIDPlaceholder as ownerReference uid and SpecHashPlaceholder as spec-hash.
func Render(b *securityv1alpha1.SecurityBaseline, namespace string) ([]*unstructured.Unstructured, error) {
	b = b.DeepCopy()
	unknownUID := b.UID == ""
	if unknownUID {
		b.UID = UIDPlaceholder
	}
	var out []*unstructured.Unstructured
	if labels := desired.PodSecurityLabels(b.Spec.PodSecurity); len(labels) > 0 {
		m, err := apply.ToMap(desired.NamespaceLabels(namespace, labels))
		if err != nil {
			return nil, err
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	objs, err := desired.ForNamespace(b, namespace)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		u, err := o.Unstructured()
		if err != nil {
			return nil, err
		}
		if unknownUID {
			annotations := u.GetAnnotations()
			annotations[desired.SpecHashAnnotation] = SpecHashPlaceholder
			u.SetAnnotations(annotations)
		}
		out = append(out, u)
	}
	return out, nil
}

func printYAML(w io.Writer, objs []*unstructured.Unstructured) error {
	p := &printers.YAMLPrinter{}
	for _, u := range objs {
		if err := p.PrintObj(u, w); err != nil {
			return err
		}
	}
	return nil
}

// printJSONList prints objects as a v1 List, as kubectl get -o json prints several objects.
func printJSONList(w io.Writer, objs []*unstructured.Unstructured) error {
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}}}
	for _, u := range objs {
		list.Items = append(list.Items, *u)
	}
	return (&printers.JSONPrinter{}).PrintObj(list, w)
}
