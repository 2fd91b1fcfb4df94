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
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// baselineLabel is the metric label naming a SecurityBaseline.
const baselineLabel = "baseline"

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
)

func init() {
	metrics.Registry.MustRegister(driftCorrections, driftedObjects, matchedNamespaces, compliantNamespaces, managedObjects)
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
	for _, d := range obs.conflicts {
		r.Recorder.Eventf(b, relatedObject(driftKey(d)), corev1.EventTypeWarning, securityv1alpha1.EventConflict, "Converge",
			"%s %s/%s: %s", d.Kind, d.Namespace, d.Name, d.Message)
	}
}

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
}
