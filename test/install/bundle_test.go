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

package install

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	validationerrors "github.com/operator-framework/api/pkg/validation/errors"
	interfaces "github.com/operator-framework/api/pkg/validation/interfaces"
)

// allowedWarning is a validator warning the bundle may carry, with the reason it is acceptable.
type allowedWarning struct {
	// contains is a substring of the warning.
	contains string
	// only, when set, must also hold for the warning.
	only   func(warning string) bool
	reason string
}

// allowedWarnings are the only validator warnings the bundle may carry; any other fails the test.
var allowedWarnings = []allowedWarning{{
	contains: "this bundle is using APIs which were deprecated and removed in v1.25",
	only: func(w string) bool {
		// Every place it names is an RBAC rule of the install strategy, never a manifest.
		places := regexp.MustCompile(`"(ClusterServiceVersion[^"]*)"`).FindAllStringSubmatch(w, -1)
		for _, p := range places {
			if !regexp.MustCompile(`^ClusterServiceVersion\.Spec\.InstallStrategy\.StrategySpec\.(Cluster)?Permissions\[\d+\]\.Rules\[\d+\]$`).MatchString(p[1]) {
				return false
			}
		}
		return len(places) > 0
	},
	reason: "OperatorHubV2 and AlphaDeprecatedAPIs match RBAC rules by resource name alone (cronjobs, endpointslices, events, " +
		"horizontalpodautoscalers, poddisruptionbudgets had v1beta1 versions removed in 1.25), but RBAC rules carry no API " +
		"version: these grant access to the GA versions (the grantable read-only set and events.k8s.io/v1 events). No " +
		"manifest of the bundle uses a removed API.",
}}

var _ = Describe("the OLM bundle", func() {
	It("passes OLM's default and operatorframework-suite validators", func() {
		bundle, err := manifests.GetBundleFromDir(filepath.Join(repo, "bundle"))
		Expect(err).NotTo(HaveOccurred())
		// What `operator-sdk bundle validate ./bundle --select-optional suite=operatorframework
		// --optional-values=k8s-version=1.37` runs.
		validators := append(interfaces.Validators{}, validation.DefaultBundleValidators...)
		validators = append(validators,
			validation.OperatorHubV2Validator,
			validation.StandardCapabilitiesValidator,
			validation.StandardCategoriesValidator,
			validation.GoodPracticesValidator,
			validation.AlphaDeprecatedAPIsValidator,
		)
		objs := append(bundle.ObjectsToValidate(), map[string]string{"k8s-version": "1.37"})
		var problems []string
		errorCount, warningCount := 0, 0
		for _, result := range validators.Validate(objs...) {
			for _, e := range append(result.Errors, result.Warnings...) {
				GinkgoWriter.Printf("validator %s: %s\n", result.Name, e.Error())
				switch {
				case e.Level == validationerrors.LevelError:
					errorCount++
					problems = append(problems, e.Error())
				case !allowed(e.Error()):
					warningCount++
					problems = append(problems, e.Error())
				}
			}
		}
		GinkgoWriter.Printf("bundle validation (%d validators, k8s-version=1.37): %d errors, %d warnings not on the allow-list\n",
			len(validators), errorCount, warningCount)
		Expect(problems).To(BeEmpty())
	})

	It("describes the operator truthfully and completely", func() {
		csv := committedCSV()
		Expect(csv.Annotations).To(HaveKeyWithValue("capabilities", BeElementOf("Basic Install", "Seamless Upgrades")))
		Expect(csv.Spec.Description).NotTo(BeEmpty())
		Expect(csv.Spec.Icon).To(HaveLen(1))
		Expect(csv.Spec.Keywords).NotTo(BeEmpty())
		Expect(csv.Spec.Maintainers).NotTo(BeEmpty())
		Expect(csv.Spec.Links).NotTo(BeEmpty())
		Expect(csv.Spec.MinKubeVersion).NotTo(BeEmpty())
		Expect(csv.Spec.InstallModes).To(ConsistOf(
			operatorsv1alpha1.InstallMode{Type: operatorsv1alpha1.InstallModeTypeOwnNamespace, Supported: false},
			operatorsv1alpha1.InstallMode{Type: operatorsv1alpha1.InstallModeTypeSingleNamespace, Supported: false},
			operatorsv1alpha1.InstallMode{Type: operatorsv1alpha1.InstallModeTypeMultiNamespace, Supported: false},
			operatorsv1alpha1.InstallMode{Type: operatorsv1alpha1.InstallModeTypeAllNamespaces, Supported: true},
		))
		owned := csv.Spec.CustomResourceDefinitions.Owned
		Expect(owned).To(HaveLen(1))
		Expect(owned[0].SpecDescriptors).NotTo(BeEmpty())
		Expect(owned[0].StatusDescriptors).NotTo(BeEmpty())

		var examples []map[string]any
		Expect(json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples)).To(Succeed())
		samples := ofKind(kustomizeBuild("config/samples"), "SecurityBaseline")
		Expect(examples).To(HaveLen(len(samples)))
		for i, s := range samples {
			Expect(examples[i]).To(Equal(s.Object), "alm-examples[%d] is config/samples' %s", i, s.GetName())
		}

		// The Deployment and permissions are config/default's.
		strategy := csv.Spec.InstallStrategy.StrategySpec
		Expect(strategy.DeploymentSpecs).To(HaveLen(1))
		config := deploymentOf(kustomizeBuild("config/default"))
		Expect(strategy.DeploymentSpecs[0].Spec.Template.Spec.Containers[0].Args).To(Equal(config.Spec.Template.Spec.Containers[0].Args))
		Expect(strategy.DeploymentSpecs[0].Spec.Template.Spec.Containers[0].Resources).To(Equal(config.Spec.Template.Spec.Containers[0].Resources))
	})
})

func allowed(warning string) bool {
	for _, a := range allowedWarnings {
		if strings.Contains(warning, a.contains) && (a.only == nil || a.only(warning)) {
			GinkgoWriter.Printf("  allowed: %s\n", a.reason)
			return true
		}
	}
	return false
}
