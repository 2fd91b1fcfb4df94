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

package v1alpha1

// Condition types of a SecurityBaseline.
const (
	// ConditionReady is True when every matched namespace is compliant.
	ConditionReady = "Ready"
	// ConditionReconciling is present (True) while a rollout is in progress (kstatus).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is present (True) while progress is impossible without a spec or
	// cluster change (kstatus).
	ConditionStalled = "Stalled"
	// ConditionDriftDetected is True while some object differs from the spec and is not yet
	// repaired; False with reason DriftCorrected after Enforce repaired drift.
	ConditionDriftDetected = "DriftDetected"
)

// Condition reasons of a SecurityBaseline.
const (
	// ReasonCompliant: every matched namespace holds the baseline.
	ReasonCompliant = "Compliant"
	// ReasonNotCompliant: some matched namespace does not hold the baseline.
	ReasonNotCompliant = "NotCompliant"
	// ReasonProgressing: objects are being applied or a write failed and will be retried.
	ReasonProgressing = "Progressing"
	// ReasonConflict: objects or labels the baseline does not manage are in the way.
	ReasonConflict = "Conflict"
	// ReasonForbidden: the operator may not write some object.
	ReasonForbidden = "Forbidden"
	// ReasonSuspended: reconciliation is suspended by spec.suspend.
	ReasonSuspended = "Suspended"
	// ReasonDriftCorrected: drift was seen and repaired.
	ReasonDriftCorrected = "DriftCorrected"
	// ReasonNoDrift: no drift was seen.
	ReasonNoDrift = "NoDrift"
	// ReasonDriftFound: some object differs from the spec and is not repaired.
	ReasonDriftFound = "DriftFound"
	// ReasonInvalidSpec: the spec cannot be acted on, or the API server rejected an object it
	// declares as invalid; the message quotes the server.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonCRDNotInstalled: a kind the baseline declares (SecretStore, SecretProviderClass)
	// is not served by the cluster.
	ReasonCRDNotInstalled = "CRDNotInstalled"
)

// Event reasons emitted on a SecurityBaseline.
const (
	// EventDriftCorrected (Normal) names an object that was repaired.
	EventDriftCorrected = "DriftCorrected"
	// EventApplyFailed (Warning) names an object that could not be written.
	EventApplyFailed = "ApplyFailed"
	// EventConflict (Warning) names an object or label the baseline does not manage.
	EventConflict = "Conflict"
)
