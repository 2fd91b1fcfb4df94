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

package controllers

import (
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

var _ = Describe("computeStatus", func() {
	now := metav1.NewTime(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	missing := securityv1alpha1.Drift{Namespace: "b", Kind: "Role", Name: "r", Reason: securityv1alpha1.DriftMissing}
	conflict := securityv1alpha1.Drift{Namespace: "a", Kind: "Role", Name: "r", Reason: securityv1alpha1.DriftConflict}

	newBaseline := func() *securityv1alpha1.SecurityBaseline {
		return &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Generation: 3},
			Status: securityv1alpha1.SecurityBaselineStatus{ObservedGeneration: -1}}
	}
	conditionOf := func(b *securityv1alpha1.SecurityBaseline, t string) (metav1.ConditionStatus, string) {
		c := condition(b, t)
		if c == nil {
			return "", ""
		}
		return c.Status, c.Reason
	}

	It("reports a compliant baseline Ready, with kstatus conditions absent", func() {
		b := newBaseline()
		computeStatus(b, &observation{matched: 2, compliant: 2, managed: 16}, now)
		Expect(b.Status.ObservedGeneration).To(Equal(int64(3)))
		Expect(b.Status.MatchedNamespaces).To(Equal(int32(2)))
		Expect(b.Status.ManagedObjects).To(Equal(int32(16)))
		Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
		Expect(condition(b, securityv1alpha1.ConditionReconciling)).To(BeNil())
		Expect(condition(b, securityv1alpha1.ConditionStalled)).To(BeNil())
		_, reason := conditionOf(b, securityv1alpha1.ConditionDriftDetected)
		Expect(reason).To(Equal(securityv1alpha1.ReasonNoDrift))
	})

	It("counts corrections, records lastDrift and keeps DriftDetected False/DriftCorrected afterwards", func() {
		b := newBaseline()
		computeStatus(b, &observation{matched: 1, compliant: 1, corrected: []securityv1alpha1.Drift{missing}}, now)
		Expect(b.Status.DriftCorrections).To(Equal(int64(1)))
		Expect(b.Status.LastDrift).To(HaveValue(HaveField("Time", HaveValue(Equal(now)))))
		status, reason := conditionOf(b, securityv1alpha1.ConditionDriftDetected)
		Expect(status).To(Equal(metav1.ConditionFalse))
		Expect(reason).To(Equal(securityv1alpha1.ReasonDriftCorrected))

		later := metav1.NewTime(now.Add(time.Minute))
		computeStatus(b, &observation{matched: 1, compliant: 1}, later)
		Expect(b.Status.DriftCorrections).To(Equal(int64(1)))
		Expect(b.Status.LastDrift.Time).To(HaveValue(Equal(now)), "lastDrift moves only on new drift")
		_, reason = conditionOf(b, securityv1alpha1.ConditionDriftDetected)
		Expect(reason).To(Equal(securityv1alpha1.ReasonDriftCorrected))
	})

	It("does not take a failed write for drift (the API server being down is not a change by someone else)", func() {
		b := newBaseline()
		failed := securityv1alpha1.Drift{Namespace: "a", Kind: "Role", Name: "r", Reason: securityv1alpha1.DriftFailed, Message: "write failed"}
		computeStatus(b, &observation{matched: 1, drift: []securityv1alpha1.Drift{failed}, errs: []error{errors.New("connection refused")}}, now)
		Expect(b.Status.LastDrift).To(BeNil())
		Expect(b.Status.DriftedObjects).To(Equal(int32(1)), "it is still reported while it lasts")
	})

	It("is stable: the same unresolved drift gives the same status", func() {
		b := newBaseline()
		obs := func() *observation {
			return &observation{matched: 2, compliant: 1, drift: []securityv1alpha1.Drift{missing, conflict}}
		}
		computeStatus(b, obs(), now)
		first := b.Status.DeepCopy()
		computeStatus(b, obs(), metav1.NewTime(now.Add(time.Hour)))
		Expect(b.Status).To(Equal(*first))
	})

	It("sorts the drift list and caps it at 20 entries while counting all", func() {
		b := newBaseline()
		var drift []securityv1alpha1.Drift
		for i := 30; i > 0; i-- {
			drift = append(drift, securityv1alpha1.Drift{Namespace: fmt.Sprintf("ns-%02d", i), Kind: "Role", Name: "r", Reason: securityv1alpha1.DriftModified})
		}
		computeStatus(b, &observation{matched: 30, drift: drift}, now)
		Expect(b.Status.DriftedObjects).To(Equal(int32(30)))
		Expect(b.Status.Drift).To(HaveLen(20))
		Expect(b.Status.Drift[0].Namespace).To(Equal("ns-01"))
		Expect(b.Status.Drift[19].Namespace).To(Equal("ns-20"))
	})

	audit := func() *securityv1alpha1.SecurityBaseline {
		b := newBaseline()
		b.Spec.Mode = securityv1alpha1.ModeAudit
		return b
	}

	DescribeTable("names what keeps a baseline from Ready, the way kstatus and Argo CD read it",
		func(b *securityv1alpha1.SecurityBaseline, obs *observation, ready metav1.ConditionStatus, readyReason, stalledReason string, reconciling bool) {
			computeStatus(b, obs, now)
			status, reason := conditionOf(b, securityv1alpha1.ConditionReady)
			Expect(status).To(Equal(ready))
			Expect(reason).To(Equal(readyReason))
			_, stalled := conditionOf(b, securityv1alpha1.ConditionStalled)
			Expect(stalled).To(Equal(stalledReason))
			Expect(condition(b, securityv1alpha1.ConditionReconciling) != nil).To(Equal(reconciling))
		},
		Entry("a conflict", newBaseline(), &observation{matched: 1, drift: []securityv1alpha1.Drift{conflict}},
			metav1.ConditionFalse, securityv1alpha1.ReasonConflict, securityv1alpha1.ReasonConflict, false),
		Entry("a forbidden write", newBaseline(), &observation{matched: 1, drift: []securityv1alpha1.Drift{{Reason: securityv1alpha1.DriftForbidden}}},
			metav1.ConditionFalse, securityv1alpha1.ReasonForbidden, securityv1alpha1.ReasonForbidden, false),
		Entry("a CRD not installed", newBaseline(), &observation{matched: 1, compliant: 1, missingKinds: []string{"secretstores.external-secrets.io"}},
			metav1.ConditionFalse, securityv1alpha1.ReasonCRDNotInstalled, securityv1alpha1.ReasonCRDNotInstalled, false),
		Entry("a conflict while other writes are retried: Stalled wins", newBaseline(), &observation{matched: 2, drift: []securityv1alpha1.Drift{conflict},
			errs: []error{errors.New("boom")}}, metav1.ConditionFalse, securityv1alpha1.ReasonConflict, securityv1alpha1.ReasonConflict, false),
		Entry("a failed write being retried", newBaseline(), &observation{matched: 1, drift: []securityv1alpha1.Drift{{Reason: securityv1alpha1.DriftFailed}},
			errs: []error{errors.New("boom")}}, metav1.ConditionUnknown, securityv1alpha1.ReasonProgressing, "", true),
		Entry("a rollout being confirmed", newBaseline(), &observation{matched: 3, compliant: 3, written: 3},
			metav1.ConditionUnknown, securityv1alpha1.ReasonProgressing, "", true),
		Entry("Audit drift", audit(), &observation{matched: 1, drift: []securityv1alpha1.Drift{missing}},
			metav1.ConditionFalse, securityv1alpha1.ReasonDriftFound, securityv1alpha1.ReasonDriftFound, false),
		Entry("Audit, no drift", audit(), &observation{matched: 1, compliant: 1},
			metav1.ConditionTrue, securityv1alpha1.ReasonCompliant, "", false),
	)

	It("takes Ready, Reconciling and Stalled away from a suspended baseline, keeping its counts", func() {
		b := newBaseline()
		computeStatus(b, &observation{matched: 2, drift: []securityv1alpha1.Drift{conflict}}, now)
		computeStatus(b, &observation{suspended: true}, now)
		Expect(condition(b, securityv1alpha1.ConditionReady)).To(BeNil())
		Expect(condition(b, securityv1alpha1.ConditionStalled)).To(BeNil())
		Expect(condition(b, securityv1alpha1.ConditionReconciling)).To(BeNil())
		Expect(b.Status.MatchedNamespaces).To(Equal(int32(2)))
		Expect(b.Status.ObservedGeneration).To(Equal(int64(3)))
	})
})
