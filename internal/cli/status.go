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
	"sort"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// Compliance values of a StatusRow.
const (
	CompliantTrue    = "True"
	CompliantFalse   = "False"
	CompliantUnknown = "Unknown"
)

// StatusRow is the state of one baseline in one namespace, from the baseline's status.
type StatusRow struct {
	Baseline  string `json:"baseline"`
	Namespace string `json:"namespace"`
	// Matched: the baseline's selector targets the namespace now.
	Matched bool `json:"matched"`
	// Compliant is True, False (drift listed for the namespace) or Unknown (status not yet
	// written for the current generation, or the drift list is capped and does not name it).
	Compliant string `json:"compliant"`
	// Drifted counts the drift entries status lists for the namespace.
	Drifted int `json:"drifted"`
	// Drift lists them.
	Drift []securityv1alpha1.Drift `json:"drift,omitempty"`
	// LastDrift is the baseline's last drift when it was in this namespace.
	LastDrift *securityv1alpha1.Drift `json:"lastDrift,omitempty"`
}

func newStatusCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show per baseline and namespace whether it is compliant, from the baselines' status",
		Long: `status prints one row per SecurityBaseline and namespace: the namespaces its selector targets
now (computed from the live namespaces) and any namespace its status lists drift for, whether
the namespace is compliant, how many objects drifted there and the baseline's last drift when
it happened there. -o json or -o yaml print the rows with every drift entry, for scripts.`,
		Example: `  kubectl securitybaseline status
  kubectl securitybaseline status restricted-apps -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.runStatus(cmd.Context(), args) },
	}
	addProtectedFlag(cmd, o)
	cmd.Flags().StringVarP(&o.statusOutput, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func (o *options) runStatus(ctx context.Context, args []string) error {
	if err := checkOutput(o.statusOutput, outputTable, outputJSON, outputYAML); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	reader, _, _, err := o.newClients()
	if err != nil {
		return err
	}
	baselines := &securityv1alpha1.SecurityBaselineList{}
	if len(args) == 1 {
		b := &securityv1alpha1.SecurityBaseline{}
		if err := reader.Get(ctx, client.ObjectKey{Name: args[0]}, b); err != nil {
			return err
		}
		baselines.Items = append(baselines.Items, *b)
	} else if err := reader.List(ctx, baselines); err != nil {
		return err
	}
	namespaces := &corev1.NamespaceList{}
	if err := reader.List(ctx, namespaces); err != nil {
		return err
	}
	var rows []StatusRow
	for i := range baselines.Items {
		r, err := StatusRows(&baselines.Items[i], namespaces.Items, o.protected)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	switch o.statusOutput {
	case outputJSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []StatusRow{}
		}
		return enc.Encode(rows)
	case outputYAML:
		raw, err := yaml.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(raw)
		return err
	}
	return printStatusTable(o.Out, rows, time.Now())
}

// StatusRows computes a baseline's rows: the namespaces it targets now, and those its status
// lists drift for, sorted by namespace.
func StatusRows(b *securityv1alpha1.SecurityBaseline, namespaces []corev1.Namespace, protected []string) ([]StatusRow, error) {
	byNamespace := map[string]*StatusRow{}
	row := func(ns string) *StatusRow {
		if r := byNamespace[ns]; r != nil {
			return r
		}
		r := &StatusRow{Baseline: b.Name, Namespace: ns}
		byNamespace[ns] = r
		return r
	}
	for i := range namespaces {
		ns := &namespaces[i]
		if ns.DeletionTimestamp != nil {
			continue
		}
		selected, _, err := desired.Selects(b, ns.Name, ns.Labels, protected)
		if err != nil {
			return nil, fmt.Errorf("SecurityBaseline %s: %w", b.Name, err)
		}
		if selected {
			row(ns.Name).Matched = true
		}
	}
	for _, d := range b.Status.Drift {
		r := row(d.Namespace)
		r.Drift = append(r.Drift, d)
		r.Drifted++
	}
	if d := b.Status.LastDrift; d != nil {
		if r := byNamespace[d.Namespace]; r != nil {
			r.LastDrift = d.DeepCopy()
		}
	}
	observed := b.Status.ObservedGeneration == b.Generation
	complete := int(b.Status.DriftedObjects) <= len(b.Status.Drift)
	rows := make([]StatusRow, 0, len(byNamespace))
	for _, r := range byNamespace {
		switch {
		case !observed:
			r.Compliant = CompliantUnknown
		case r.Drifted > 0:
			r.Compliant = CompliantFalse
		case complete:
			r.Compliant = CompliantTrue
		default:
			r.Compliant = CompliantUnknown
		}
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Namespace < rows[j].Namespace })
	return rows, nil
}

func printStatusTable(w io.Writer, rows []StatusRow, now time.Time) error {
	const str = "string"
	table := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Baseline", Type: str},
		{Name: "Namespace", Type: str},
		{Name: "Matched", Type: "boolean"},
		{Name: "Compliant", Type: str},
		{Name: "Drifted", Type: "integer"},
		{Name: "Last Drift", Type: str},
	}}
	for _, r := range rows {
		last := "<none>"
		if d := r.LastDrift; d != nil {
			last = fmt.Sprintf("%s/%s %s", d.Kind, d.Name, d.Reason)
			if d.Time != nil {
				last += " " + duration.HumanDuration(now.Sub(d.Time.Time)) + " ago"
			}
		}
		table.Rows = append(table.Rows, metav1.TableRow{Cells: []any{r.Baseline, r.Namespace, r.Matched, r.Compliant, int64(r.Drifted), last}})
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No SecurityBaselines found.")
		return err
	}
	return printers.NewTablePrinter(printers.PrintOptions{}).PrintObj(table, w)
}
