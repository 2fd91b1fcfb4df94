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
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
)

func newDiffCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff -f FILE",
		Short: "Show what applying SecurityBaselines would change in the cluster (read-only)",
		Long: `diff shows, for each SecurityBaseline of the input, what the operator would do once it is
applied: the namespaces it would target, and per namespace the objects it would create, change
(a unified diff of the declared fields) or delete (objects of the live baseline the new spec no
longer declares), and the conflicts it would report (a declared name held by an object the live
baseline does not own; Pod Security levels set differently by a baseline created earlier).

It works for a baseline that does not exist yet and for a changed one. It never writes: every
write is a server-side dry run (create, Server-Side Apply with the operator's field manager,
delete), so defaulting and admission are the cluster's own. Dry runs are authorized like writes:
see the README for the RBAC it needs.

Exit code 0 when nothing would change, 1 when something would, 2 on errors (as kubectl diff).`,
		Example: `  kubectl securitybaseline diff -f baseline.yaml --context staging`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.runDiff(cmd.Context()) },
	}
	addFilenameFlag(cmd, o, "file, directory (recursive) or - (stdin) holding SecurityBaselines")
	addProtectedFlag(cmd, o)
	cmd.Flags().StringVarP(&o.diffOutput, "output", "o", "diff", "output format: diff or json")
	return cmd
}

// newClients returns a client for reads and one that turns every write into a dry run.
func (o *options) newClients() (reader, writer client.Client, warnings *warningCollector, err error) {
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	warnings = &warningCollector{}
	cfg.WarningHandlerWithContext = warnings
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, nil, err
	}
	if err := securityv1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, nil, err
	}
	return c, client.NewDryRunClient(c), warnings, nil
}

func (o *options) runDiff(ctx context.Context) error {
	if err := checkOutput(o.diffOutput, outputDiff, outputJSON); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	loaded, err := o.loadBaselines()
	if err != nil {
		return err
	}
	reader, writer, warnings, err := o.newClients()
	if err != nil {
		return err
	}
	p := &planner{reader: reader, writer: writer, warnings: warnings, protected: o.protected}
	plans := make([]*Plan, 0, len(loaded))
	changed := false
	for _, l := range loaded {
		plan, err := p.plan(ctx, l.baseline, l.doc.Position())
		if err != nil {
			return err
		}
		plans = append(plans, plan)
		changed = changed || plan.Changed()
	}
	if o.diffOutput == outputJSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(plans); err != nil {
			return err
		}
	} else {
		for _, plan := range plans {
			printPlan(o.Out, plan)
		}
	}
	if changed {
		return findingsError{}
	}
	return nil
}

// printPlan prints a plan for people.
func printPlan(w io.Writer, plan *Plan) {
	state := "exists"
	if !plan.Exists {
		state = "new"
	}
	_, _ = fmt.Fprintf(w, "SecurityBaseline %s (%s, %s)\n", plan.Baseline, plan.Source, state)
	for _, n := range plan.Notes {
		_, _ = fmt.Fprintf(w, "  note: %s\n", n)
	}
	if plan.SpecDiff != "" {
		_, _ = fmt.Fprintf(w, "  ~ spec\n%s", indent(plan.SpecDiff, "      "))
	}
	targets := strings.Join(plan.Targets, ", ")
	if targets == "" {
		targets = "(none)"
	}
	_, _ = fmt.Fprintf(w, "  targets %d namespaces: %s\n", len(plan.Targets), targets)
	counts := map[string]int{}
	namespace := "\x00"
	for _, c := range plan.Changes {
		counts[c.Action]++
		if c.Namespace != namespace {
			namespace = c.Namespace
			_, _ = fmt.Fprintf(w, "  namespace %s\n", namespace)
		}
		line := fmt.Sprintf("    %s %s %s %s", symbol(c.Action), c.Action, c.Kind, c.Name)
		if c.Message != "" {
			line += ": " + c.Message
		}
		_, _ = fmt.Fprintln(w, line)
		for _, warning := range c.Warnings {
			_, _ = fmt.Fprintf(w, "      warning: %s\n", warning)
		}
		if c.Diff != "" {
			_, _ = fmt.Fprint(w, indent(c.Diff, "      "))
		}
	}
	var summary []string
	for _, a := range []string{ActionCreate, ActionChange, ActionReplace, ActionDelete, ActionConflict, ActionRejected, ActionUnavailable} {
		if counts[a] > 0 {
			summary = append(summary, fmt.Sprintf("%d to %s", counts[a], a))
		}
	}
	if len(summary) == 0 {
		summary = append(summary, "no object changes")
	}
	summary = []string{strings.NewReplacer("to conflict", "conflicts", "to rejected", "rejected", "to unavailable", "unavailable").Replace(strings.Join(summary, ", "))}
	_, _ = fmt.Fprintf(w, "  summary: %s\n", summary[0])
}

func symbol(action string) string {
	switch action {
	case ActionCreate:
		return "+"
	case ActionDelete:
		return "-"
	case ActionChange, ActionReplace:
		return "~"
	default:
		return "!"
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	if !strings.HasSuffix(b.String(), "\n") && b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// specDiff is the unified diff of the live baseline's spec and the new one.
func specDiff(live, b *securityv1alpha1.SecurityBaseline) (string, error) {
	before, err := apply.ToMap(live.Spec)
	if err != nil {
		return "", err
	}
	after, err := apply.ToMap(b.Spec)
	if err != nil {
		return "", err
	}
	return unifiedDiff(before, after, "file")
}

// warningCollector records the API server's warnings of one request at a time.
type warningCollector struct {
	mu       sync.Mutex
	messages []string
}

// HandleWarningHeaderWithContext records a warning.
func (w *warningCollector) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = append(w.messages, message)
}

func (w *warningCollector) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = nil
}

func (w *warningCollector) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.messages
	w.messages = nil
	return m
}
