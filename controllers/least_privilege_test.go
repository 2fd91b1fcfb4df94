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
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// The operator's ServiceAccount as config/default installs it (name prefix securitybaseline-).
const (
	shippedNamePrefix = "securitybaseline-"
	operatorUser      = "system:serviceaccount:" + operatorNamespace + ":" + shippedNamePrefix + "controller-manager"
	// notHeld is what the API server says when a Role or RoleBinding would grant more than
	// the writer holds.
	notHeld = "attempting to grant RBAC permissions not currently held"
)

// Specs here run the manager as the operator's ServiceAccount holding only the RBAC shipped in
// config/rbac, instead of the suite's admin.
var _ = Describe("the operator with its shipped least-privilege RBAC", Serial, Ordered, func() {
	var (
		sel       string
		forbidden *forbiddenRecorder
	)

	BeforeAll(func() {
		applyShippedRBAC()
		user, err := testEnv.AddUser(envtest.User{
			Name:   operatorUser,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace},
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		userCfg := user.Config()
		userClient, err := client.New(userCfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			for _, attrs := range []authorizationv1.ResourceAttributes{
				{Verb: "bind", Group: rbacv1.GroupName, Resource: "clusterroles", Name: "view"},
				{Verb: "get", Resource: "pods", Namespace: "default"},
				{Verb: "patch", Group: securityv1alpha1.GroupVersion.Group, Resource: "securitybaselines/status"},
			} {
				review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
				g.Expect(userClient.Create(ctx, review)).To(Succeed())
				g.Expect(review.Status.Allowed).To(BeTrue(), "%+v", attrs)
			}
		}).Should(Succeed(), "the shipped RBAC is in force for the operator's ServiceAccount")

		forbidden = &forbiddenRecorder{}
		userCfg.WrapTransport = forbidden.wrap
		stopManager()
		stopManager = startManagerAs(userCfg)
		DeferCleanup(func() {
			stopManager()
			stopManager = startManager()
		})
	})

	BeforeEach(func() {
		sel = uniqueName("sel")
		forbidden.reset()
	})

	AfterEach(func() {
		for _, call := range forbidden.all() {
			GinkgoWriter.Println("forbidden:", call)
		}
	})

	It("converges a full baseline with nothing forbidden", func() {
		newNamespace(sel)
		name := uniqueName("leastpriv")
		createBaseline(name, fullSpec(sel))
		expectReady(name, 1)
		Expect(forbidden.unexpected()).To(BeEmpty(), "calls the shipped RBAC forbids")
	})

	It("reports a RoleBinding to a ClusterRole outside the allow-list as Forbidden and binds nothing; binds an allow-listed one", func() {
		ns := newNamespace(sel)
		name := uniqueName("bind")
		team := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}}
		createBaseline(name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			RBAC: &securityv1alpha1.RBAC{RoleBindings: []securityv1alpha1.RoleBinding{
				{Name: "cluster-admins", RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}, Subjects: team},
				{Name: "viewers", RoleRef: securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}, Subjects: team},
			}},
		})

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
			g.Expect(b.Status.Drift).To(ConsistOf(And(
				driftEntry(ns.Name, "RoleBinding", "cluster-admins", securityv1alpha1.DriftForbidden),
				HaveField("Message", And(ContainSubstring(notHeld), ContainSubstring(`Resources:["*"]`))))))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", securityv1alpha1.ReasonForbidden),
				HaveField("Message", ContainSubstring(notHeld))))
			g.Expect(condition(b, securityv1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionFalse))
			expectHealth(g, name, "forbidden")
		}).Should(Succeed())
		GinkgoWriter.Println("Stalled:", condition(getBaseline(Default, name), securityv1alpha1.ConditionStalled).Message)

		viewers := &rbacv1.RoleBinding{}
		Expect(getObject(viewers, ns.Name, "viewers")).To(Succeed(), "the allow-listed ClusterRole is bound")
		Expect(viewers.RoleRef.Name).To(Equal("view"))
		Consistently(isNotFound(&rbacv1.RoleBinding{}, ns.Name, "cluster-admins"), "2s").Should(BeTrue(), "nothing is bound")
		Expect(forbidden.unexpected("cluster-admins")).To(BeEmpty(), "calls the shipped RBAC forbids")
	})

	It("reports a Role granting more than the operator holds as Forbidden, without a retry loop; writes one within the grantable set", func() {
		ns := newNamespace(sel)
		name := uniqueName("grant")
		createBaseline(name, securityv1alpha1.SecurityBaselineSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{testLabel: sel}},
			RBAC: &securityv1alpha1.RBAC{
				Roles: []securityv1alpha1.Role{
					{Name: "secret-reader", Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}},
					{Name: "workload-reader", Rules: []rbacv1.PolicyRule{
						{APIGroups: []string{""}, Resources: []string{"pods", "pods/log", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
						{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
					}},
				},
				RoleBindings: []securityv1alpha1.RoleBinding{{
					Name:     "workload-readers",
					RoleRef:  securityv1alpha1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "workload-reader"},
					Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-$(NAMESPACE)"}},
				}},
			},
		})

		Eventually(func(g Gomega) {
			b := getBaseline(g, name)
			g.Expect(b.Status.ObservedGeneration).To(Equal(b.Generation))
			g.Expect(b.Status.Drift).To(ConsistOf(And(
				driftEntry(ns.Name, "Role", "secret-reader", securityv1alpha1.DriftForbidden),
				HaveField("Message", And(ContainSubstring(notHeld), ContainSubstring(`Resources:["secrets"], Verbs:["get"]`))))))
			g.Expect(condition(b, securityv1alpha1.ConditionStalled)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", securityv1alpha1.ReasonForbidden),
				HaveField("Message", ContainSubstring("secrets"))))
		}).Should(Succeed())
		GinkgoWriter.Println("Stalled:", condition(getBaseline(Default, name), securityv1alpha1.ConditionStalled).Message)
		Expect(isNotFound(&rbacv1.Role{}, ns.Name, "secret-reader")()).To(BeTrue())
		Expect(getObject(&rbacv1.Role{}, ns.Name, "workload-reader")).To(Succeed(), "a Role within the grantable set is written")
		Expect(getObject(&rbacv1.RoleBinding{}, ns.Name, "workload-readers")).To(Succeed(),
			"a RoleBinding to a Role whose rules the operator holds is written without bind")

		By("not retrying the forbidden write in a loop")
		settled := getBaseline(Default, name)
		attempts := len(forbidden.about("secret-reader"))
		reconciles := reconcileCount("success") + reconcileCount("error") + reconcileCount("requeue") + reconcileCount("requeue_after")
		Consistently(func(g Gomega) {
			g.Expect(getBaseline(g, name).ResourceVersion).To(Equal(settled.ResourceVersion), "no status churn")
			g.Expect(forbidden.about("secret-reader")).To(HaveLen(attempts), "no new write attempt")
			g.Expect(reconcileCount("success")+reconcileCount("error")+reconcileCount("requeue")+reconcileCount("requeue_after")).
				To(BeNumerically("<=", reconciles+2), "no reconcile loop")
		}, "3s").Should(Succeed())
		Expect(forbidden.unexpected("secret-reader")).To(BeEmpty(), "calls the shipped RBAC forbids")
	})
})

// forbiddenRecorder records every request the API server answered 403 Forbidden, with the
// server's message.
type forbiddenRecorder struct {
	mu    sync.Mutex
	calls []string
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func (f *forbiddenRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusForbidden {
			return resp, err
		}
		body, readErr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		message := string(body)
		status := &metav1.Status{}
		if readErr == nil && json.Unmarshal(body, status) == nil && status.Message != "" {
			message = status.Message
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, fmt.Sprintf("%s %s: %s", req.Method, req.URL.Path, message))
		return resp, nil
	})
}

func (f *forbiddenRecorder) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

func (f *forbiddenRecorder) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// about returns the forbidden calls about an object of the name.
func (f *forbiddenRecorder) about(name string) []string {
	var found []string
	for _, c := range f.all() {
		if strings.Contains(c, fmt.Sprintf("%q is forbidden", name)) || strings.HasSuffix(strings.SplitN(c, ":", 2)[0], "/"+name) {
			found = append(found, c)
		}
	}
	return found
}

// unexpected returns the forbidden calls about none of the expected names.
func (f *forbiddenRecorder) unexpected(expected ...string) []string {
	var found []string
	for _, c := range f.all() {
		if !slices.ContainsFunc(expected, func(name string) bool { return slices.Contains(f.about(name), c) }) {
			found = append(found, c)
		}
	}
	return found
}

// applyShippedRBAC creates the ServiceAccount, ClusterRoles, Roles and bindings of config/rbac
// as config/default renders them (name prefix, the operator's namespace), aggregates the
// aggregated ClusterRoles as kube-controller-manager would (envtest runs none), and deletes
// them when the specs end.
func applyShippedRBAC() {
	GinkgoHelper()
	objs := shippedRBAC()
	for _, o := range objs {
		Expect(k8sClient.Create(ctx, o)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, o))).To(Succeed()) })
	}
	for _, o := range objs {
		selectors, aggregated, err := unstructured.NestedSlice(o.Object, "aggregationRule", "clusterRoleSelectors")
		Expect(err).NotTo(HaveOccurred())
		if o.GetKind() != "ClusterRole" || !aggregated {
			continue
		}
		role := &rbacv1.ClusterRole{}
		Expect(getObject(role, "", o.GetName())).To(Succeed())
		all := &rbacv1.ClusterRoleList{}
		Expect(k8sClient.List(ctx, all)).To(Succeed())
		role.Rules = nil
		for _, member := range all.Items {
			for _, s := range selectors {
				raw, err := json.Marshal(s)
				Expect(err).NotTo(HaveOccurred())
				ls := &metav1.LabelSelector{}
				Expect(json.Unmarshal(raw, ls)).To(Succeed())
				selector, err := metav1.LabelSelectorAsSelector(ls)
				Expect(err).NotTo(HaveOccurred())
				if member.Name != role.Name && selector.Matches(labels.Set(member.Labels)) {
					role.Rules = append(role.Rules, member.Rules...)
					break
				}
			}
		}
		Expect(role.Rules).NotTo(BeEmpty(), "ClusterRole %s aggregates the shipped defaults", role.Name)
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
	}
}

// shippedRBAC reads config/rbac and renders it as config/default does.
func shippedRBAC() []*unstructured.Unstructured {
	GinkgoHelper()
	dir := filepath.Join("..", "config", "rbac")
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var objs []*unstructured.Unstructured
	roles := map[string]bool{}
	for _, e := range entries {
		if e.Name() == "kustomization.yaml" || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		Expect(err).NotTo(HaveOccurred())
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal(chunk, &u.Object)).To(Succeed())
			if len(u.Object) == 0 {
				continue
			}
			switch u.GetKind() {
			case "ClusterRole", "Role":
				roles[u.GetKind()+"/"+u.GetName()] = true
			case "ClusterRoleBinding", "RoleBinding", "ServiceAccount":
			default:
				continue
			}
			objs = append(objs, u)
		}
	}
	for _, u := range objs {
		if kind, _, _ := unstructured.NestedString(u.Object, "roleRef", "kind"); kind != "" {
			name, _, _ := unstructured.NestedString(u.Object, "roleRef", "name")
			Expect(roles).To(HaveKey(kind+"/"+name), "%s %s binds a role config/rbac ships", u.GetKind(), u.GetName())
			Expect(unstructured.SetNestedField(u.Object, shippedNamePrefix+name, "roleRef", "name")).To(Succeed())
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				if m := s.(map[string]any); m["kind"] == rbacv1.ServiceAccountKind {
					m["name"], m["namespace"] = shippedNamePrefix+m["name"].(string), operatorNamespace
				}
			}
			Expect(unstructured.SetNestedSlice(u.Object, subjects, "subjects")).To(Succeed())
		}
		u.SetName(shippedNamePrefix + u.GetName())
		if u.GetNamespace() != "" {
			u.SetNamespace(operatorNamespace)
		}
	}
	return objs
}
