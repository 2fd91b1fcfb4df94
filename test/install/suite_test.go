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

// Package install tests the operator the way users install it: the OLM bundle against OLM's
// validators, the Helm chart and the release manifests against a real API server, the pod
// against the restricted Pod Security level, the image's build, and the shipped RBAC by
// running the operator as its ServiceAccount.
package install

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/securitybaseline/securitybaseline-operator/internal/manager"
)

// repo is the repository root, relative to this package.
const repo = "../.."

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client // admin, uncached
	clientset *kubernetes.Clientset
	scheme    = manager.NewScheme()
	ctx       context.Context
	cancel    context.CancelFunc
)

func TestInstall(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Install Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.TODO())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	testEnv = &envtest.Environment{
		// The CRDs are applied by the specs, from the artifact each one tests; the third-party
		// CRDs the operator and the chart write objects of are real copies.
		CRDDirectoryPaths:     []string{filepath.Join(repo, "test", "testdata", "crds"), filepath.Join(repo, "test", "testdata", "crds", "reports"), filepath.Join("testdata", "crds")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make controlplane` and set KUBEBUILDER_ASSETS=bin/k8s/1.37.2 (make test does both)")
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

func init() {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(2 * time.Second)
	SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
}

// kustomizeBuild runs `bin/kustomize build` on a directory of config/.
func kustomizeBuild(dir string) []*unstructured.Unstructured {
	GinkgoHelper()
	bin := filepath.Join(repo, "bin", "kustomize")
	_, err := os.Stat(bin)
	Expect(err).NotTo(HaveOccurred(), "run `make kustomize` (make test does)")
	out, err := exec.Command(bin, "build", filepath.Join(repo, dir)).Output()
	Expect(err).NotTo(HaveOccurred(), "kustomize build %s: %s", dir, stderrOf(err))
	return decodeAll(out)
}

func stderrOf(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// decodeAll decodes a multi-document YAML stream.
func decodeAll(raw []byte) []*unstructured.Unstructured {
	GinkgoHelper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		Expect(err).NotTo(HaveOccurred())
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

func readObjects(path string) []*unstructured.Unstructured {
	GinkgoHelper()
	raw, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return decodeAll(raw)
}

func ofKind(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

// applyCRDs creates (or updates) CRDs for real and waits until they are served.
func applyCRDs(objs []*unstructured.Unstructured) {
	GinkgoHelper()
	for _, o := range ofKind(objs, "CustomResourceDefinition") {
		c := o.DeepCopy()
		c.SetManagedFields(nil)
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(c), client.FieldOwner("install-test"), client.ForceOwnership)).To(Succeed(), o.GetName())
		Eventually(func(g Gomega) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: o.GetName()}, crd)).To(Succeed())
			established := false
			for _, cond := range crd.Status.Conditions {
				established = established || (cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue)
			}
			g.Expect(established).To(BeTrue())
		}).Should(Succeed(), "CRD %s established", o.GetName())
	}
}

// ensureNamespace creates a namespace for real if it does not exist.
func ensureNamespace(name string, labels map[string]string) {
	GinkgoHelper()
	err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
	if !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// warnings records the API server's warnings for one client.
type warnings struct {
	mu   sync.Mutex
	list []string
}

// HandleWarningHeader implements rest.WarningHandler.
func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// warningClient returns an admin client whose API server warnings are recorded in w.
func warningClient(w *warnings) client.Client {
	GinkgoHelper()
	c := rest.CopyConfig(cfg)
	c.WarningHandler = w
	cl, err := client.New(c, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return cl
}

// dryRunCreate sends every object to the API server with a server-side dry-run create and
// returns the warnings; CRDs and Namespaces are skipped (apply them for real first).
func dryRunCreate(objs []*unstructured.Unstructured) []string {
	GinkgoHelper()
	w := &warnings{}
	c := warningClient(w)
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace" {
			continue
		}
		err := c.Create(ctx, o.DeepCopy(), client.DryRunAll)
		if apierrors.IsAlreadyExists(err) { // for example the admission policy the operator applied
			err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.DryRunAll, client.FieldOwner("install-test"), client.ForceOwnership)
		}
		Expect(err).NotTo(HaveOccurred(), "%s %s/%s rejected by the API server", o.GetKind(), o.GetNamespace(), o.GetName())
	}
	return w.take()
}
