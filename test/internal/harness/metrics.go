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

package harness

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one series of a scrape: its labels and value (a counter's, gauge's or untyped
// value; histograms and summaries count their observations).
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Metrics is one scrape of a Prometheus endpoint: the samples of each metric name.
type Metrics map[string][]Sample

// WriteMethods are the HTTP methods of requests that change something.
var WriteMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Scrape reads the Prometheus text exposition at url.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	m := Metrics{}
	for name, f := range families {
		for _, metric := range f.GetMetric() {
			s := Sample{Labels: map[string]string{}}
			for _, l := range metric.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch {
			case metric.GetCounter() != nil:
				s.Value = metric.GetCounter().GetValue()
			case metric.GetGauge() != nil:
				s.Value = metric.GetGauge().GetValue()
			case metric.GetUntyped() != nil:
				s.Value = metric.GetUntyped().GetValue()
			case metric.GetHistogram() != nil:
				s.Value = float64(metric.GetHistogram().GetSampleCount())
			case metric.GetSummary() != nil:
				s.Value = float64(metric.GetSummary().GetSampleCount())
			}
			m[name] = append(m[name], s)
		}
	}
	return m, nil
}

// Sum adds the values of metric name over the series whose labels hold every pair of match.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range m[name] {
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.Value
		}
	}
	return total
}

// Requests sums rest_client_requests_total, the client-go requests the process sent, over the
// given HTTP methods, per method.
func (m Metrics) Requests(methods ...string) map[string]int {
	out := map[string]int{}
	for _, s := range m["rest_client_requests_total"] {
		if method := s.Labels["method"]; slices.Contains(methods, method) {
			out[method] += int(s.Value)
		}
	}
	return out
}

// Writes is the number of POST, PUT, PATCH and DELETE requests the process sent.
func (m Metrics) Writes() int {
	total := 0
	for _, n := range m.Requests(WriteMethods...) {
		total += n
	}
	return total
}
