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

// Package cli is the kubectl plugin kubectl-securitybaseline: it validates, renders and diffs
// SecurityBaselines in CI pipelines, and reports their status, with the operator's own builders
// (internal/desired), comparison (internal/apply) and the API server's validation code.
package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// Output formats.
const (
	outputJSON  = "json"
	outputYAML  = "yaml"
	outputTable = "table"
	outputDiff  = "diff"
)

// Exit codes, as kubectl diff has them.
const (
	// ExitOK: valid, selected, nothing would change.
	ExitOK = 0
	// ExitFindings: a document is invalid (validate), the namespace is not selected
	// (render --selected), or something would change or conflict (diff).
	ExitFindings = 1
	// ExitError: the command could not run (bad flags, unreadable input, cluster unreachable).
	ExitError = 2
)

// DefaultProtectedNamespaces are the namespaces the operator never targets with its default
// flags: kube-system, kube-public, kube-node-lease and its own namespace.
var DefaultProtectedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "securitybaseline-system"}

// findingsError ends a command with ExitFindings after it printed its findings.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }

// options are the flags every subcommand shares.
type options struct {
	genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	filenames   []string
	// renderOutput, diffOutput and statusOutput are each command's -o.
	renderOutput, diffOutput, statusOutput string
	protected                              []string
}

// NewCommand returns the kubectl-securitybaseline root command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{IOStreams: streams, configFlags: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "kubectl-securitybaseline",
		Short: "Validate, render and diff SecurityBaselines, and report their status",
		Long: `kubectl securitybaseline checks SecurityBaselines (security.baseline.dev/v1alpha1) before
they reach a cluster and shows what they would change in one.

  validate  offline: check every SecurityBaseline in files against the CRD's schema and CEL rules
  render    offline: print the objects the operator would write in a namespace
  diff      read-only: what applying the baselines would create, change, delete or conflict with
  status    per baseline and namespace: compliant, drifted objects, last drift

Exit codes: 0 valid / nothing to change, 1 invalid / not selected / something would change,
2 the command could not run.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.configFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(newValidateCommand(o), newRenderCommand(o), newDiffCommand(o), newStatusCommand(o))
	return cmd
}

// Run runs the plugin with the given arguments and returns its exit code.
func Run(args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return ExitOK
	}
	if findings, ok := errors.AsType[findingsError](err); ok {
		if findings.msg != "" {
			_, _ = fmt.Fprintln(streams.ErrOut, findings.msg)
		}
		return ExitFindings
	}
	_, _ = fmt.Fprintln(streams.ErrOut, "error:", err)
	return ExitError
}

func addFilenameFlag(cmd *cobra.Command, o *options, usage string) {
	cmd.Flags().StringSliceVarP(&o.filenames, "filename", "f", nil, usage)
}

func addProtectedFlag(cmd *cobra.Command, o *options) {
	cmd.Flags().StringSliceVar(&o.protected, "protected-namespaces", DefaultProtectedNamespaces,
		"namespaces the operator never targets (its --protected-namespaces and its own namespace)")
}

func checkOutput(output string, allowed ...string) error {
	if slices.Contains(allowed, output) {
		return nil
	}
	return fmt.Errorf("unsupported output format %q: use one of %s", output, strings.Join(allowed, ", "))
}

// fieldManager is the operator's Server-Side Apply field manager of a baseline.
func fieldManager(name string) string { return desired.FieldManager(name) }
