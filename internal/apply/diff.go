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

// Package apply compares what a baseline declares with what the cluster holds, and writes the
// difference with Server-Side Apply.
package apply

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// ToMap returns the JSON form of an object or apply configuration as generic maps, so a
// declared configuration and a live object compare on equal terms (numbers as float64).
func ToMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Diff returns the path of the first field declared in desired whose value differs in live,
// or "" when live holds every declared field. Fields live has and desired does not declare
// (server defaults, other managers' fields) are ignored. Lists compare element by element and
// must have the same length, except metadata.ownerReferences, where live may hold more.
// The path names the field only, never its value, so it is safe for status and events.
// apiVersion and kind are not compared: they name the object, and cached typed objects do not
// carry them.
func Diff(desired, live map[string]any) string {
	for k, d := range desired {
		if k == "apiVersion" || k == "kind" {
			continue
		}
		if q := diffMap("", map[string]any{k: d}, live); q != "" {
			return q
		}
	}
	return ""
}

func diffMap(path string, desired, live map[string]any) string {
	for k, d := range desired {
		p := join(path, k)
		l, ok := live[k]
		if !ok || l == nil {
			if isEmpty(d) {
				continue
			}
			return p
		}
		if p == "metadata.ownerReferences" {
			if q := diffContains(p, d, l); q != "" {
				return q
			}
			continue
		}
		if q := diffValue(p, d, l); q != "" {
			return q
		}
	}
	return ""
}

func diffValue(path string, desired, live any) string {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return path
		}
		return diffMap(path, d, l)
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return path
		}
		for i := range d {
			if q := diffValue(path+"["+strconv.Itoa(i)+"]", d[i], l[i]); q != "" {
				return q
			}
		}
		return ""
	case nil:
		return ""
	default:
		if !reflect.DeepEqual(desired, live) {
			return path
		}
		return ""
	}
}

// diffContains checks that every desired element has a live element holding all its fields.
func diffContains(path string, desired, live any) string {
	d, _ := desired.([]any)
	l, _ := live.([]any)
	for i, de := range d {
		found := false
		for _, le := range l {
			if diffValue("", de, le) == "" {
				found = true
				break
			}
		}
		if !found {
			return fmt.Sprintf("%s[%d]", path, i)
		}
	}
	return ""
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
