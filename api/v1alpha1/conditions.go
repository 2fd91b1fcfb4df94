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
	// ConditionReady is True when every matched namespace is compliant; Unknown while a rollout
	// is being confirmed; absent while the baseline is suspended.
	ConditionReady = "Ready"
	// ConditionReconciling is present (True) while a rollout or drift repair is being confirmed
	// or failed writes are retried (kstatus InProgress).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is present (True) while progress is impossible without a spec or
	// cluster change, or while Audit mode reports drift (kstatus Failed).
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
	// ReasonDriftCorrected: drift was seen and repaired.
	ReasonDriftCorrected = "DriftCorrected"
	// ReasonNoDrift: no drift was seen.
	ReasonNoDrift = "NoDrift"
	// ReasonDriftFound: some object differs from the spec and is not repaired; as the Stalled
	// reason, Audit mode found drift it does not repair (kstatus Failed, Argo CD Degraded).
	ReasonDriftFound = "DriftFound"
	// ReasonInvalidSpec: the spec cannot be acted on, or the API server rejected an object it
	// declares as invalid; the message quotes the server.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonPodSecurityViolations: running pods violate the enforce level a namespace should
	// get, and spec.podSecurity.onViolation Hold holds it back until they are fixed.
	ReasonPodSecurityViolations = "PodSecurityViolations"
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
	// EventPodSecurityViolations (Warning) names a namespace whose running pods violate the
	// enforce level being set.
	EventPodSecurityViolations = "PodSecurityViolations"
	// EventConflict (Warning) names an object or label the baseline does not manage.
	EventConflict = "Conflict"
)
