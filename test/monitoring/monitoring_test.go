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

package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

const (
	configDir  = "../../config/prometheus/"
	metricsGo  = "../../controllers/metrics.go"
	readme     = "../../README.md"
	controller = "securitybaseline"
)

// controllerRuntimeMetrics are the controller-runtime (v0.25) metrics the rules and the
// dashboard may use, with the suffixes of their histograms.
var controllerRuntimeMetrics = []string{
	"controller_runtime_reconcile_total",
	"controller_runtime_reconcile_errors_total",
	"controller_runtime_terminal_reconcile_errors_total",
	"controller_runtime_reconcile_panics_total",
	"controller_runtime_reconcile_time_seconds_bucket",
	"controller_runtime_reconcile_time_seconds_sum",
	"controller_runtime_reconcile_time_seconds_count",
	"controller_runtime_active_workers",
	"controller_runtime_max_concurrent_reconciles",
	"workqueue_depth",
	"workqueue_adds_total",
	"workqueue_retries_total",
	"workqueue_queue_duration_seconds_bucket",
	"workqueue_work_duration_seconds_bucket",
	"workqueue_unfinished_work_seconds",
	"workqueue_longest_running_processor_seconds",
	"rest_client_requests_total",
	"up",
}

// PrometheusRule is monitoring.coreos.com/v1 PrometheusRule, as far as the shipped rules use it;
// read strictly, so a misspelt field fails.
type PrometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []Rule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// Dashboard is the part of a Grafana dashboard the test reads.
type Dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []Panel `json:"panels"`
}

// Panel is a Grafana panel.
type Panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource map[string]any           `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// exportedMetrics reads the operator's own metric names from controllers/metrics.go, with the
// series names of its histograms.
func exportedMetrics() []string {
	GinkgoHelper()
	src, err := os.ReadFile(metricsGo)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	re := regexp.MustCompile(`New(Counter|Gauge|Histogram)Vec\(prometheus\.\w+Opts\{\s*Name:\s*"([a-z_]+)"`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		if m[1] == "Histogram" {
			names = append(names, m[2]+"_bucket", m[2]+"_sum", m[2]+"_count")
			continue
		}
		names = append(names, m[2])
	}
	Expect(names).To(ContainElement("securitybaseline_drifted_objects"))
	return names
}

// metricNames lists the metric names an expression selects (identifiers not followed by "(",
// outside label matchers and strings, that are not PromQL keywords).
func metricNames(expr string) []string {
	GinkgoHelper()
	stripped := regexp.MustCompile(`\{[^}]*\}|"[^"]*"|\[[^\]]*\]`).ReplaceAllString(expr, " ")
	keywords := []string{"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
		"bool", "offset", "sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk",
		"quantile", "count_values", "limitk", "limit_ratio"}
	var names []string
	for _, m := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`).FindAllString(stripped, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(keywords, m) {
			continue
		}
		names = append(names, m)
	}
	// Grouping labels: by (a, b) and without (...) lists were not removed above.
	grouping := regexp.MustCompile(`\b(by|without|on|ignoring)\s*\(([^)]*)\)`)
	for _, g := range grouping.FindAllStringSubmatch(stripped, -1) {
		for label := range strings.SplitSeq(g[2], ",") {
			names = slices.DeleteFunc(names, func(n string) bool { return n == strings.TrimSpace(label) })
		}
	}
	return names
}

// balanced checks that brackets and quotes of an expression pair up.
func balanced(expr string) error {
	var stack []rune
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	inString := false
	for _, r := range expr {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '{' || r == '[':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return fmt.Errorf("unbalanced %q", r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString || len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack)
	}
	return nil
}

func checkExpr(expr, where string, known []string) {
	GinkgoHelper()
	Expect(strings.TrimSpace(expr)).NotTo(BeEmpty(), where)
	Expect(balanced(expr)).To(Succeed(), "%s: %s", where, expr)
	names := metricNames(expr)
	Expect(names).NotTo(BeEmpty(), "%s selects no metric: %s", where, expr)
	for _, n := range names {
		Expect(known).To(ContainElement(n), "%s uses %s, which the manager does not export: %s", where, n, expr)
	}
	if strings.Contains(expr, "controller=") {
		Expect(expr).To(ContainSubstring(`controller="`+controller+`"`), where)
	}
}

func readRule() PrometheusRule {
	GinkgoHelper()
	data, err := os.ReadFile(configDir + "prometheus_rule.yaml")
	Expect(err).NotTo(HaveOccurred())
	var pr PrometheusRule
	Expect(yaml.UnmarshalStrict(data, &pr)).To(Succeed())
	return pr
}

func readDashboard() Dashboard {
	GinkgoHelper()
	data, err := os.ReadFile(configDir + "grafana-dashboard.json")
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Valid(data)).To(BeTrue())
	var d Dashboard
	Expect(json.Unmarshal(data, &d)).To(Succeed())
	return d
}

var _ = Describe("PrometheusRule", func() {
	It("is a valid monitoring.coreos.com/v1 PrometheusRule whose alerts are complete", func() {
		pr := readRule()
		Expect(pr.APIVersion).To(Equal("monitoring.coreos.com/v1"))
		Expect(pr.Kind).To(Equal("PrometheusRule"))
		Expect(pr.Metadata.Name).NotTo(BeEmpty())
		known := append(exportedMetrics(), controllerRuntimeMetrics...)
		funcs := template.FuncMap{"humanize": fmt.Sprint, "humanizeDuration": fmt.Sprint}
		var alerts []string
		for _, g := range pr.Spec.Groups {
			Expect(g.Name).NotTo(BeEmpty())
			Expect(g.Rules).NotTo(BeEmpty(), g.Name)
			for _, r := range g.Rules {
				Expect(r.Alert).To(MatchRegexp(`^SecurityBaseline[A-Z][A-Za-z]+$`))
				Expect(alerts).NotTo(ContainElement(r.Alert), "duplicate alert")
				alerts = append(alerts, r.Alert)
				checkExpr(r.Expr, r.Alert, known)
				_, err := model.ParseDuration(r.For)
				Expect(err).NotTo(HaveOccurred(), "%s: for %q", r.Alert, r.For)
				Expect(r.Labels).To(HaveKeyWithValue("severity", BeElementOf("warning", "critical")), r.Alert)
				for _, key := range []string{"summary", "description", "runbook"} {
					Expect(r.Annotations).To(HaveKeyWithValue(key, Not(BeEmpty())), "%s: annotation %s", r.Alert, key)
				}
				for key, text := range r.Annotations {
					// Prometheus defines these variables before expanding an annotation.
					defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
					_, err := template.New(key).Funcs(funcs).Parse(defs + text)
					Expect(err).NotTo(HaveOccurred(), "%s: annotation %s", r.Alert, key)
				}
			}
		}
		Expect(alerts).To(ContainElements("SecurityBaselineDriftPersistent", "SecurityBaselineNotCompliant",
			"SecurityBaselineStalled", "SecurityBaselineWritesFailing", "SecurityBaselineReconcileErrors",
			"SecurityBaselineOperatorDown"))
	})

	It("is installed with the ServiceMonitor and the dashboard", func() {
		data, err := os.ReadFile(configDir + "kustomization.yaml")
		Expect(err).NotTo(HaveOccurred())
		var k struct {
			Resources          []string `json:"resources"`
			ConfigMapGenerator []struct {
				Files   []string `json:"files"`
				Options struct {
					Labels map[string]string `json:"labels"`
				} `json:"options"`
			} `json:"configMapGenerator"`
		}
		Expect(yaml.Unmarshal(data, &k)).To(Succeed())
		Expect(k.Resources).To(ContainElements("monitor.yaml", "prometheus_rule.yaml"))
		Expect(k.ConfigMapGenerator).To(HaveLen(1))
		Expect(k.ConfigMapGenerator[0].Files).To(ContainElement(HaveSuffix("=grafana-dashboard.json")))
		Expect(k.ConfigMapGenerator[0].Options.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"))
	})
})

var _ = Describe("Grafana dashboard", func() {
	It("parses, and every panel queries metrics the manager exports", func() {
		d := readDashboard()
		Expect(d.UID).NotTo(BeEmpty())
		Expect(d.Title).NotTo(BeEmpty())
		known := append(exportedMetrics(), controllerRuntimeMetrics...)
		var ids []int
		var exprs []string
		for _, p := range d.Panels {
			Expect(ids).NotTo(ContainElement(p.ID), "duplicate panel id")
			ids = append(ids, p.ID)
			Expect(p.GridPos.X+p.GridPos.W).To(BeNumerically("<=", 24), p.Title)
			if p.Type == "row" {
				continue
			}
			Expect(p.Title).NotTo(BeEmpty())
			Expect(p.Datasource).To(HaveKeyWithValue("uid", "${datasource}"), p.Title)
			Expect(p.Targets).NotTo(BeEmpty(), "panel %q has no targets", p.Title)
			var refs []string
			for _, t := range p.Targets {
				Expect(refs).NotTo(ContainElement(t.RefID), p.Title)
				refs = append(refs, t.RefID)
				checkExpr(t.Expr, p.Title, known)
				exprs = append(exprs, t.Expr)
			}
		}
		all := strings.Join(exprs, "\n")
		for _, want := range []string{
			"securitybaseline_drifted_objects", "securitybaseline_compliant_namespaces",
			"securitybaseline_matched_namespaces", "rate(securitybaseline_drift_corrections_total",
			"histogram_quantile(0.99, sum by (le) (rate(securitybaseline_drift_repair_duration_seconds_bucket",
			"securitybaseline_api_writes_total", "controller_runtime_reconcile_time_seconds_bucket",
			"controller_runtime_reconcile_errors_total", "workqueue_depth", "securitybaseline_stalled",
		} {
			Expect(all).To(ContainSubstring(want))
		}
	})
})

var _ = Describe("README", func() {
	It("documents every metric the operator exports", func() {
		data, err := os.ReadFile(readme)
		Expect(err).NotTo(HaveOccurred())
		for _, name := range exportedMetrics() {
			name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			Expect(string(data)).To(ContainSubstring("`"+name+"`"), "README does not document %s", name)
		}
	})
})
