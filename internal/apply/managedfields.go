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

package apply

import (
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelOwners returns, for every label some field manager owns through Server-Side Apply or
// an update, the managers that own it.
func LabelOwners(entries []metav1.ManagedFieldsEntry) map[string][]string {
	owners := map[string][]string{}
	for _, e := range entries {
		if e.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Metadata struct {
				Labels map[string]json.RawMessage `json:"f:labels"`
			} `json:"f:metadata"`
		}
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		for k := range fields.Metadata.Labels {
			if label, ok := strings.CutPrefix(k, "f:"); ok {
				owners[label] = append(owners[label], e.Manager)
			}
		}
	}
	return owners
}

// LabelsOwnedBy returns the labels the given field manager owns.
func LabelsOwnedBy(entries []metav1.ManagedFieldsEntry, manager string) map[string]bool {
	owned := map[string]bool{}
	for label, managers := range LabelOwners(entries) {
		for _, m := range managers {
			if m == manager {
				owned[label] = true
			}
		}
	}
	return owned
}
