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
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"
)

// project returns the part of live that declared declares: the fields of declared maps (at any
// depth), lists element by element (live's extra elements whole, as ownerReferences other
// owners hold). It is what internal/apply.Diff compares, so the diff shows exactly that.
func project(live, declared any) any {
	switch d := declared.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live
		}
		out := map[string]any{}
		for k, dv := range d {
			if lv, ok := l[k]; ok {
				out[k] = project(lv, dv)
			}
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok {
			return live
		}
		out := make([]any, len(l))
		for i := range l {
			if i < len(d) {
				out[i] = project(l[i], d[i])
			} else {
				out[i] = l[i]
			}
		}
		return out
	default:
		return live
	}
}

// unifiedDiff returns the unified diff of two values printed as YAML, the live one (before)
// first ("" when equal); a nil value is an object that does not exist.
func unifiedDiff(before, after any, toName string) (string, error) {
	a, err := yamlLines(before)
	if err != nil {
		return "", err
	}
	b, err := yamlLines(after)
	if err != nil {
		return "", err
	}
	if slices.Equal(a, b) {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: a, B: b, FromFile: "live", ToFile: toName, Context: 3})
}

func yamlLines(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return difflib.SplitLines(strings.TrimSuffix(string(raw), "\n")), nil
}
