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

package harness

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// InstallCRDs creates the CRDs of every YAML file in dirs and waits until the API server
// serves them.
func InstallCRDs(cfg *rest.Config, scheme *runtime.Scheme, dirs ...string) error {
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Scheme:             scheme,
		Paths:              dirs,
		ErrorIfPathMissing: true,
		MaxTime:            2 * time.Minute,
		PollInterval:       50 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("installing the CRDs of %v: %w", dirs, err)
	}
	return nil
}
