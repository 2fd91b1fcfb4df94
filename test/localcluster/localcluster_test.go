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

// Package localcluster tests the local control plane of hack/local-cluster.sh (used by make run,
// make cluster-up and make bench) the way a user meets it: kube-controller-manager must really
// run, so namespaces are deleted and dependents are garbage-collected.
package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Ports apart from the defaults (6443, 2379, 10257), make bench (16443, 12379, 20257) and
// make test-chaos (26443, 22379, 30257).
const (
	apiPort  = 17443
	etcdPort = 17379 // and 17380 for peers
	kcmPort  = 17257
)

var (
	script     string   // hack/local-cluster.sh
	env        []string // its environment: this test's directory, binaries and ports
	clusterDir string
	k8sClient  client.Client
)

func TestLocalCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Local Cluster Suite")
}

var _ = BeforeSuite(func() {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		Skip("KUBEBUILDER_ASSETS is unset: run `make controlplane` and set KUBEBUILDER_ASSETS=bin/k8s/1.37.2 (make test does both)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	if !filepath.IsAbs(assets) {
		assets = filepath.Join(root, assets) // as the Makefile means it: relative to the repository
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			Skip(fmt.Sprintf("%s is missing from KUBEBUILDER_ASSETS=%s: run `make controlplane`", bin, assets))
		}
	}

	script = filepath.Join(root, "hack", "local-cluster.sh")
	// A fixed directory, so that a run killed before its cleanup is stopped by the next one.
	clusterDir = filepath.Join(os.TempDir(), fmt.Sprintf("securitybaseline-localcluster-%d", apiPort))
	env = append(os.Environ(), "CONTROLPLANE_DIR="+assets, "LOCAL_CLUSTER_DIR="+clusterDir,
		"LOCAL_CLUSTER_API_PORT="+strconv.Itoa(apiPort), "LOCAL_CLUSTER_ETCD_PORT="+strconv.Itoa(etcdPort),
		"LOCAL_CLUSTER_KCM_PORT="+strconv.Itoa(kcmPort))
	_, _ = cluster("down")
	Expect(os.RemoveAll(clusterDir)).To(Succeed())

	DeferCleanup(func() {
		out, err := cluster("down")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(os.RemoveAll(clusterDir)).To(Succeed())
	})
	out, err := cluster("up")
	Expect(err).NotTo(HaveOccurred(), "hack/local-cluster.sh up:\n%s", out)

	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(clusterDir, "kubeconfig"))
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = Describe("the local cluster of hack/local-cluster.sh", func() {
	AfterEach(func() {
		if !CurrentSpecReport().Failed() {
			return
		}
		// The cluster directory goes away with the suite: show what its logs said.
		out, _ := cluster("status")
		GinkgoWriter.Printf("hack/local-cluster.sh status:\n%s\n", out)
		for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
			raw, _ := os.ReadFile(filepath.Join(clusterDir, c+".log"))
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			GinkgoWriter.Printf("last lines of %s.log:\n%s\n", c, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})

	It("reports every component healthy", func() {
		out, err := cluster("status")
		Expect(err).NotTo(HaveOccurred(), out)
		for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
			Expect(out).To(MatchRegexp(`(?m)^%s +healthy`, c))
		}
	})

	It("deletes a namespace with its content", SpecTimeout(2*settle), func(ctx SpecContext) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("gone")}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		Expect(k8sClient.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "content", Namespace: ns.Name},
			Data:       map[string]string{"k": "v"},
		})).To(Succeed())

		Expect(k8sClient.Delete(ctx, ns)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(ns), &corev1.Namespace{})
		}).WithContext(ctx).WithTimeout(settle).Should(Satisfy(apierrors.IsNotFound), "namespace %s stays Terminating", ns.Name)
	})

	It("garbage-collects an object whose owner is deleted", SpecTimeout(2*settle), func(ctx SpecContext) {
		blockOwnerDeletion := true
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("owner"), Namespace: "default"}}
		Expect(k8sClient.Create(ctx, owner)).To(Succeed())
		dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name:      uniqueName("dependent"),
			Namespace: "default",
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
				BlockOwnerDeletion: &blockOwnerDeletion,
			}},
		}}
		Expect(k8sClient.Create(ctx, dependent)).To(Succeed())

		Expect(k8sClient.Delete(ctx, owner)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		}).WithContext(ctx).WithTimeout(settle).Should(Satisfy(apierrors.IsNotFound), "dependent %s outlives its owner", dependent.Name)
	})

	It("restarts only the component that died", func() {
		pids := map[string]int{}
		for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
			pids[c] = pidOf(c)
		}
		Expect(syscall.Kill(pids["kube-controller-manager"], syscall.SIGKILL)).To(Succeed())

		Eventually(func() error {
			_, err := cluster("status")
			return err
		}).Should(HaveOccurred(), "status exits non-zero when kube-controller-manager is dead")
		out, _ := cluster("status")
		Expect(out).To(MatchRegexp(`(?m)^kube-controller-manager +not running`))
		Expect(out).To(MatchRegexp(`(?m)^kube-apiserver +healthy`))

		out, err := cluster("up")
		Expect(err).NotTo(HaveOccurred(), "hack/local-cluster.sh up:\n%s", out)
		Expect(out).To(ContainSubstring("starting kube-controller-manager"))
		Expect(out).NotTo(ContainSubstring("starting kube-apiserver"))
		Expect(out).NotTo(ContainSubstring("starting etcd"))
		Expect(pidOf("etcd")).To(Equal(pids["etcd"]))
		Expect(pidOf("kube-apiserver")).To(Equal(pids["kube-apiserver"]))
		Expect(pidOf("kube-controller-manager")).NotTo(Equal(pids["kube-controller-manager"]))

		out, err = cluster("status")
		Expect(err).NotTo(HaveOccurred(), out)
	})
})

// cluster runs hack/local-cluster.sh <command> for this test's cluster; it returns its output.
func cluster(command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, command)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%s %s: %w", script, command, err)
	}
	return string(out), err
}

// pidOf reads the pid file hack/local-cluster.sh wrote for a component.
func pidOf(component string) int {
	raw, err := os.ReadFile(filepath.Join(clusterDir, component+".pid"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return pid
}

// uniqueName returns a DNS-1123 name unique to this run.
func uniqueName(prefix string) string { return fmt.Sprintf("%s-%s", prefix, rand.String(6)) }

// settle bounds every wait for the cluster: generous, as the control plane shares a slow machine.
const settle = 60 * time.Second

func init() {
	SetDefaultEventuallyTimeout(settle) // an Eventually given a context needs WithTimeout(settle)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
}
