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
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// countingClient counts every write the reconciler sends (securitybaseline_api_writes_total).
type countingClient struct {
	client.Client
}

// Create implements client.Writer.
func (c countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	err := c.Client.Create(ctx, obj, opts...)
	countWrite("create", c.kindOf(obj), err)
	return err
}

// Delete implements client.Writer.
func (c countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	err := c.Client.Delete(ctx, obj, opts...)
	countWrite("delete", c.kindOf(obj), err)
	return err
}

// Patch implements client.Writer.
func (c countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	countWrite("patch", c.kindOf(obj), err)
	return err
}

// Apply implements client.Writer.
func (c countingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	err := c.Client.Apply(ctx, obj, opts...)
	kind := "unknown"
	switch k := obj.(type) {
	case interface{ GetKind() *string }:
		if k.GetKind() != nil {
			kind = *k.GetKind()
		}
	case interface{ GetKind() string }:
		kind = k.GetKind()
	}
	countWrite("apply", kind, err)
	return err
}

func (c countingClient) kindOf(obj client.Object) string {
	if kind := obj.GetObjectKind().GroupVersionKind().Kind; kind != "" {
		return kind
	}
	if gvk, err := apiutil.GVKForObject(obj, c.Scheme()); err == nil {
		return gvk.Kind
	}
	return "unknown"
}
