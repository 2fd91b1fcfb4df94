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
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

var _ = Describe("status", func() {
	It("prints a row per baseline and namespace from the baseline's status", func() {
		profile, name := uniqueName("p"), uniqueName("sbl")
		a, b, gone := uniqueName("a"), uniqueName("b"), uniqueName("gone")
		createNamespace(a, map[string]string{"profile": profile})
		createNamespace(b, map[string]string{"profile": profile})
		live := createAsOperator(writeFile(baselineYAML(name, profile, "")), nil)

		when := metav1.NewTime(time.Now().Add(-5 * time.Minute).Truncate(time.Second))
		conflict := securityv1alpha1.Drift{Namespace: b, Kind: "Role", Name: "app-reader", Reason: securityv1alpha1.DriftConflict, Message: "a Role named app-reader exists", Time: &when}
		leftover := securityv1alpha1.Drift{Namespace: gone, Kind: "NetworkPolicy", Name: "x", Reason: securityv1alpha1.DriftFailed}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(live), live)).To(Succeed())
		live.Status.ObservedGeneration = live.Generation
		live.Status.MatchedNamespaces, live.Status.CompliantNamespaces, live.Status.DriftedObjects = 2, 1, 2
		live.Status.Drift = []securityv1alpha1.Drift{conflict, leftover}
		live.Status.LastDrift = conflict.DeepCopy()
		Expect(k8sClient.Status().Update(ctx, live)).To(Succeed())

		r := run("", "status", name, "--kubeconfig", kubeconfig, "-o", "json")
		Expect(r.code).To(Equal(ExitOK), r.errOut)
		var rows []StatusRow
		Expect(json.Unmarshal([]byte(r.out), &rows)).To(Succeed())
		Expect(rows).To(HaveLen(3))
		Expect(rows[0]).To(And(HaveField("Namespace", a), HaveField("Matched", true), HaveField("Compliant", CompliantTrue), HaveField("Drifted", 0)))
		Expect(rows[1]).To(And(HaveField("Namespace", b), HaveField("Matched", true), HaveField("Compliant", CompliantFalse), HaveField("Drifted", 1),
			HaveField("LastDrift.Name", "app-reader")))
		Expect(rows[2]).To(And(HaveField("Namespace", gone), HaveField("Matched", false), HaveField("Compliant", CompliantFalse)))

		r = run("", "status", name, "--kubeconfig", kubeconfig)
		Expect(r.code).To(Equal(ExitOK), r.errOut)
		Expect(r.out).To(MatchRegexp(`BASELINE\s+NAMESPACE\s+MATCHED\s+COMPLIANT\s+DRIFTED\s+LAST DRIFT`))
		Expect(r.out).To(MatchRegexp(name + `\s+` + b + `\s+true\s+False\s+1\s+Role/app-reader Conflict 5m\d*s? ago`))

		By("saying Unknown while the status is for an older generation")
		live.Spec.Mode = securityv1alpha1.ModeAudit
		Expect(k8sClient.Update(ctx, live)).To(Succeed())
		r = run("", "status", name, "--kubeconfig", kubeconfig, "-o", "json")
		Expect(json.Unmarshal([]byte(r.out), &rows)).To(Succeed())
		Expect(rows).To(HaveEach(HaveField("Compliant", CompliantUnknown)))
	})

	It("exits 2 for a baseline that does not exist", func() {
		r := run("", "status", "does-not-exist", "--kubeconfig", kubeconfig)
		Expect(r.code).To(Equal(ExitError))
		Expect(r.errOut).To(ContainSubstring("not found"))
	})
})
