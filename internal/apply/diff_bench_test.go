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

package apply_test

import (
	"testing"

	"github.com/securitybaseline/securitybaseline-operator/internal/apply"
)

// BenchmarkDiff measures the comparison a reconcile makes for an object that has no verdict
// yet: a NetworkPolicy as declared against the live one with server defaults and metadata.
func BenchmarkDiff(b *testing.B) {
	desired, err := apply.ToMap(rawJSON(`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
		"metadata":{"name":"apps-allow-dns","namespace":"team-a","labels":{"app.kubernetes.io/managed-by":"securitybaseline-operator","security.baseline.dev/baseline":"apps"},
		"ownerReferences":[{"apiVersion":"security.baseline.dev/v1alpha1","kind":"SecurityBaseline","name":"apps","uid":"u","controller":true,"blockOwnerDeletion":true}]},
		"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}},
		"podSelector":{"matchLabels":{"k8s-app":"kube-dns"}}}],"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}]}}`))
	if err != nil {
		b.Fatal(err)
	}
	live, err := apply.ToMap(rawJSON(`{"metadata":{"name":"apps-allow-dns","namespace":"team-a","uid":"x","resourceVersion":"42","generation":1,
		"creationTimestamp":"2026-11-26T12:00:00Z","labels":{"app.kubernetes.io/managed-by":"securitybaseline-operator","security.baseline.dev/baseline":"apps"},
		"annotations":{"other":"kept"},
		"ownerReferences":[{"apiVersion":"security.baseline.dev/v1alpha1","kind":"SecurityBaseline","name":"apps","uid":"u","controller":true,"blockOwnerDeletion":true}]},
		"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}},
		"podSelector":{"matchLabels":{"k8s-app":"kube-dns"}}}],"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}]}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if path := apply.Diff(desired, live); path != "" {
			b.Fatalf("unexpected drift at %s", path)
		}
	}
}
