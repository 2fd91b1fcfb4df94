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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
	"github.com/securitybaseline/securitybaseline-operator/test/internal/harness"
)

// rawCreate creates, with a plain client, the objects the baseline produces in every namespace
// (without ownerReferences: there is no baseline) and sets the Pod Security labels; it returns
// the seconds it took.
func rawCreate(ctx context.Context, c client.Client, b *securityv1alpha1.SecurityBaseline, namespaces []string, workers int) (float64, error) {
	start := time.Now()
	labels := desired.PodSecurityLabels(b.Spec.PodSecurity)
	err := harness.Parallel(workers, len(namespaces), func(i int) error {
		objs, err := desired.ForNamespace(b, namespaces[i])
		if err != nil {
			return err
		}
		for _, o := range objs {
			u, err := toUnstructured(o.Apply)
			if err != nil {
				return err
			}
			u.SetOwnerReferences(nil)
			if err := c.Create(ctx, u); err != nil {
				return err
			}
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
		return c.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i]}}, client.RawPatch(types.MergePatchType, patch))
	})
	return time.Since(start).Seconds(), err
}

// toUnstructured encodes an apply configuration (which carries its kind and apiVersion) as the
// object it declares.
func toUnstructured(ac any) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(ac)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return u, nil
}

// cleanup deletes every object carrying the operator's label and the Pod Security labels.
func cleanup(ctx context.Context, c client.Client, namespaces []string, workers int) error {
	selector := client.MatchingLabels{desired.LabelManagedBy: desired.OperatorName}
	var unset = map[string]any{}
	for k := range desired.PodSecurityLabels(benchBaseline().Spec.PodSecurity) {
		unset[k] = nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": unset}})
	return harness.Parallel(workers, len(namespaces), func(i int) error {
		for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.ServiceAccount{}} {
			if err := c.DeleteAllOf(ctx, obj, client.InNamespace(namespaces[i]), selector); err != nil {
				return err
			}
		}
		return c.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i]}}, client.RawPatch(types.MergePatchType, patch))
	})
}

// removeBaseline takes the baseline away while no operator runs: objects and labels by the
// plain client, then the finalizer.
func removeBaseline(ctx context.Context, c client.Client, namespaces []string, workers int) error {
	if err := cleanup(ctx, c, namespaces, workers); err != nil {
		return err
	}
	b := &securityv1alpha1.SecurityBaseline{ObjectMeta: metav1.ObjectMeta{Name: baselineName}}
	if err := c.Patch(ctx, b, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := c.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
		return err
	}
	return harness.Poll(ctx, 50*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(b), &securityv1alpha1.SecurityBaseline{})), nil
	})
}

// converge applies the baseline and returns the seconds until it reports every one of n
// namespaces compliant and Ready.
func converge(ctx context.Context, c client.Client, n int) (float64, error) {
	start := time.Now()
	if err := c.Create(ctx, benchBaseline()); err != nil {
		return 0, err
	}
	err := harness.Poll(ctx, 50*time.Millisecond, 30*time.Minute, func(ctx context.Context) (bool, error) {
		b := &securityv1alpha1.SecurityBaseline{}
		if err := c.Get(ctx, client.ObjectKey{Name: baselineName}, b); err != nil {
			return false, err
		}
		ready := meta.IsStatusConditionTrue(b.Status.Conditions, securityv1alpha1.ConditionReady)
		return ready && b.Status.ObservedGeneration == b.Generation && int(b.Status.CompliantNamespaces) == n, nil
	})
	return time.Since(start).Seconds(), err
}

// driftSample is one drift the benchmark inflicts: the object, the write that drifts it and
// how to tell it was restored.
type driftSample struct {
	obj      client.Object
	write    func() error
	restored func(got client.Object) bool
}

// newDriftSample picks the i-th drift in namespace ns: deleting a NetworkPolicy, deleting a
// RoleBinding, editing a Role's rules, editing a NetworkPolicy's policy types, in turn.
func newDriftSample(ctx context.Context, c client.Client, b *securityv1alpha1.SecurityBaseline, ns string, i int) (driftSample, error) {
	var s driftSample
	switch i % 4 {
	case 0: // delete a NetworkPolicy
		s.obj = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name + desired.DefaultDenySuffix}}
	case 1: // delete a RoleBinding
		s.obj = &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-readers"}}
	case 2: // edit a Role's rules
		s.obj = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: roleName}}
	case 3: // edit a NetworkPolicy's policy types
		s.obj = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: b.Name + desired.AllowSameNamespaceSuffix}}
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(s.obj), s.obj); err != nil {
		return s, err
	}
	uid, rv := s.obj.GetUID(), s.obj.GetResourceVersion()
	switch o := s.obj.(type) {
	case *rbacv1.Role:
		o.Rules[0].Verbs = []string{"*"}
		s.write = func() error { return c.Update(ctx, o) }
		s.restored = func(got client.Object) bool {
			return got.GetResourceVersion() != rv && slices.Equal(got.(*rbacv1.Role).Rules[0].Verbs, benchBaseline().Spec.RBAC.Roles[0].Rules[0].Verbs)
		}
	case *networkingv1.NetworkPolicy:
		if i%4 == 3 {
			o.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			o.Spec.Egress = nil
			s.write = func() error { return c.Update(ctx, o) }
			s.restored = func(got client.Object) bool {
				return got.GetResourceVersion() != rv && len(got.(*networkingv1.NetworkPolicy).Spec.PolicyTypes) == 2
			}
			break
		}
		s.write = func() error { return c.Delete(ctx, o) }
		s.restored = func(got client.Object) bool { return got.GetUID() != uid }
	default:
		s.write = func() error { return c.Delete(ctx, s.obj) }
		s.restored = func(got client.Object) bool { return got.GetUID() != uid }
	}
	return s, nil
}

// driftLatencies deletes or edits random managed objects one at a time and returns, in
// milliseconds, how long each took to be restored.
func driftLatencies(ctx context.Context, c client.Client, b *securityv1alpha1.SecurityBaseline, namespaces []string, samples int) ([]float64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []float64
	for i := range samples {
		ns := namespaces[rng.IntN(len(namespaces))]
		s, err := newDriftSample(ctx, c, b, ns, i)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		if err := s.write(); err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		start := time.Now()
		err = harness.Poll(ctx, 2*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
			got := s.obj.DeepCopyObject().(client.Object)
			err := c.Get(ctx, client.ObjectKeyFromObject(s.obj), got)
			if err != nil && !apierrors.IsNotFound(err) {
				return false, err
			}
			return err == nil && s.restored(got), nil
		})
		if errors.Is(err, harness.ErrTimeout) {
			return nil, fmt.Errorf("sample %d: %s %s/%s not restored within a minute", i, fmt.Sprintf("%T", s.obj), ns, s.obj.GetName())
		}
		if err != nil {
			return nil, err
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
	}
	return lat, nil
}

func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// writesAtRest counts the write requests (POST, PUT, PATCH, DELETE) the operator sends while idle,
// from its own client metrics.
func writesAtRest(ctx context.Context, op *harness.Operator, idle time.Duration) (int, error) {
	// Let events of the drift phase settle first.
	time.Sleep(5 * time.Second)
	before, err := harness.Scrape(ctx, op.MetricsURL())
	if err != nil {
		return 0, err
	}
	time.Sleep(idle)
	after, err := harness.Scrape(ctx, op.MetricsURL())
	if err != nil {
		return 0, err
	}
	return after.Writes() - before.Writes(), nil
}

// createUnrelated creates n unrelated objects, half Roles, half ConfigMaps, spread over the
// namespaces: objects the operator's label-filtered cache must not hold.
func createUnrelated(ctx context.Context, c client.Client, namespaces []string, n, workers int) error {
	return harness.Parallel(workers, n, func(i int) error {
		ns := namespaces[i%len(namespaces)]
		meta := metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("unrelated-%05d", i), Labels: map[string]string{"app": "unrelated"}}
		var obj client.Object
		if i%2 == 0 {
			obj = &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}}}
		} else {
			obj = &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"config": strings.Repeat("x", 512)}}
		}
		return c.Create(ctx, obj)
	})
}
