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
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// baselineLabel is the metric label naming a SecurityBaseline.
const baselineLabel = "baseline"

// Labels of the write, repair and stall metrics.
const (
	kindLabel   = "kind"
	verbLabel   = "verb"
	resultLabel = "result"
	reasonLabel = "reason"
)

// Values of the result label of securitybaseline_api_writes_total.
const (
	writeSuccess   = "success"
	writeConflict  = "conflict"
	writeForbidden = "forbidden"
	writeInvalid   = "invalid"
	writeError     = "error"
)

var (
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "securitybaseline_drift_corrections_total",
		Help: "Objects repaired after drift, per SecurityBaseline.",
	}, []string{baselineLabel})
	driftedObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securitybaseline_drifted_objects",
		Help: "Objects currently not as declared, per SecurityBaseline.",
	}, []string{baselineLabel})
	matchedNamespaces = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securitybaseline_matched_namespaces",
		Help: "Namespaces the selector targets, per SecurityBaseline.",
	}, []string{baselineLabel})
	compliantNamespaces = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securitybaseline_compliant_namespaces",
		Help: "Targeted namespaces holding the whole baseline, per SecurityBaseline.",
	}, []string{baselineLabel})
	managedObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securitybaseline_managed_objects",
		Help: "Objects (and labelled Namespaces) managed, per SecurityBaseline.",
	}, []string{baselineLabel})
	repairDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "securitybaseline_drift_repair_duration_seconds",
		Help:    "Time from noticing drift on a managed object to the API server accepting its repair, per kind.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{kindLabel})
	apiWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "securitybaseline_api_writes_total",
		Help: "Writes sent to the API server, per verb (create, apply, delete, patch), kind and result " +
			"(success, conflict, forbidden, invalid, error).",
	}, []string{verbLabel, kindLabel, resultLabel})
	stalledBaselines = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securitybaseline_stalled",
		Help: "1 while a SecurityBaseline is Stalled, with the Stalled reason; no series otherwise.",
	}, []string{baselineLabel, reasonLabel})
)

func init() {
	metrics.Registry.MustRegister(driftCorrections, driftedObjects, matchedNamespaces, compliantNamespaces, managedObjects)
	metrics.Registry.MustRegister(repairDuration, apiWrites, stalledBaselines)
}

// observeRepairLatency records how long the repair of a drifted object of a kind took, from
// noticing the drift to the API server accepting the repair.
func observeRepairLatency(kind string, d time.Duration) {
	repairDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// countWrite counts one write to the API server: verb is create, apply, delete or patch; the
// result is read from err (nil is success; a delete of an object already gone is a success).
func countWrite(verb, kind string, err error) {
	apiWrites.WithLabelValues(verb, kind, writeResult(verb, err)).Inc()
}

// writeResult classifies the outcome of a write for securitybaseline_api_writes_total.
func writeResult(verb string, err error) string {
	switch {
	case err == nil, verb == "delete" && apierrors.IsNotFound(err):
		return writeSuccess
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return writeConflict
	case apierrors.IsForbidden(err):
		return writeForbidden
	case apierrors.IsInvalid(err):
		return writeInvalid
	}
	return writeError
}

// setStalled publishes whether a baseline is Stalled: reason is the Stalled condition's reason,
// or "" when it is not Stalled (or is deleted), which removes the baseline's series.
func setStalled(baseline, reason string) {
	stalledBaselines.DeletePartialMatch(prometheus.Labels{baselineLabel: baseline})
	if reason != "" {
		stalledBaselines.WithLabelValues(baseline, reason).Set(1)
	}
}

// record publishes an observation as metrics and events: one Normal DriftCorrected event per
// repaired object and one Warning Conflict event per new conflict, each with the object as the
// event's related object, so events about different objects never fold into one series.
func (r *SecurityBaselineReconciler) record(b *securityv1alpha1.SecurityBaseline, obs *observation) {
	if obs.suspended || obs.invalidSpec != "" {
		return
	}
	driftCorrections.WithLabelValues(b.Name).Add(float64(len(obs.corrected)))
	driftedObjects.WithLabelValues(b.Name).Set(float64(len(obs.drift)))
	matchedNamespaces.WithLabelValues(b.Name).Set(float64(obs.matched))
	compliantNamespaces.WithLabelValues(b.Name).Set(float64(obs.compliant))
	managedObjects.WithLabelValues(b.Name).Set(float64(obs.managed))
	for _, d := range obs.corrected {
		r.Recorder.Eventf(b, relatedObject(driftKey(d)), corev1.EventTypeNormal, securityv1alpha1.EventDriftCorrected, "Repair",
			"restored %s %s/%s (%s)", d.Kind, d.Namespace, d.Name, d.Reason)
	}
	for _, v := range obs.violations {
		r.Recorder.Eventf(b, relatedObject(namespaceKey(v.namespace)), corev1.EventTypeWarning, securityv1alpha1.EventPodSecurityViolations, "CheckPodSecurity",
			"%s", violationMessage(b, v))
	}
	for _, d := range obs.conflicts {
		r.Recorder.Eventf(b, relatedObject(driftKey(d)), corev1.EventTypeWarning, securityv1alpha1.EventConflict, "Converge",
			"%s %s/%s: %s", d.Kind, d.Namespace, d.Name, d.Message)
	}
}

// violationMessage says which running pods of a namespace violate the enforce level being set.
func violationMessage(b *securityv1alpha1.SecurityBaseline, v namespaceViolations) string {
	action := "set anyway (spec.podSecurity.onViolation: Apply)"
	switch {
	case v.held:
		action = "held back (spec.podSecurity.onViolation: Hold)"
	case b.Spec.Mode == securityv1alpha1.ModeAudit:
		action = "not set (Audit mode)"
	}
	var level securityv1alpha1.PodSecurityLevel
	if b.Spec.PodSecurity != nil {
		level = b.Spec.PodSecurity.Enforce
	}
	msg := fmt.Sprintf("namespace %s: %d running pods violate enforce level %s, %s", v.namespace, v.pods, level, action)
	for i, p := range v.first {
		if i == 3 {
			msg += "; ..."
			break
		}
		msg += fmt.Sprintf("; %s: %s", p.pod, p.message)
	}
	if len(msg) > maxEventNote {
		msg = msg[:maxEventNote-3] + "..."
	}
	return msg
}

// maxEventNote is the longest note an events.k8s.io Event takes (1 kB).
const maxEventNote = 1024

func driftKey(d securityv1alpha1.Drift) desired.Key {
	return desired.Key{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name}
}

// relatedObject names a managed object (or a Namespace, for its Pod Security labels) as an
// event's related object.
func relatedObject(key desired.Key) runtime.Object {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if key.Kind == namespaceKind {
		obj.Namespace = ""
		obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(namespaceKind))
		return obj
	}
	obj.SetGroupVersionKind(gvkOfKind(key.Kind))
	return obj
}

// forgetMetrics drops the series of a deleted baseline.
func forgetMetrics(baseline string) {
	for _, v := range []*prometheus.GaugeVec{driftedObjects, matchedNamespaces, compliantNamespaces, managedObjects} {
		v.DeleteLabelValues(baseline)
	}
	driftCorrections.DeleteLabelValues(baseline)
	setStalled(baseline, "")
}
