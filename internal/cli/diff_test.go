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

package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
	"github.com/securitybaseline/securitybaseline-operator/internal/desired"
)

// baselineYAML is a baseline selecting namespaces labelled profile=<profile>.
func baselineYAML(name, profile, extra string) string {
	return fmt.Sprintf(`apiVersion: security.baseline.dev/v1alpha1
kind: SecurityBaseline
metadata:
  name: %s
spec:
  namespaceSelector:
    matchLabels: {profile: %s}
%s`, name, profile, extra)
}

const fullSpec = `  podSecurity: {enforce: restricted}
  networkPolicies:
    defaultDeny: [Ingress, Egress]
    allowDNS: true
  rbac:
    roles:
      - name: app-reader
        rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
    roleBindings:
      - name: app-readers
        roleRef: {kind: Role, name: app-reader}
        subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: team-$(NAMESPACE)}]
    serviceAccounts:
      - name: ci
`

var _ = Describe("diff", func() {
	var profile, name string
	var namespaces []string

	BeforeEach(func() {
		profile, name = uniqueName("p"), uniqueName("sbl")
		namespaces = []string{uniqueName("a"), uniqueName("b")}
		for _, ns := range namespaces {
			createNamespace(ns, map[string]string{"profile": profile})
		}
		createNamespace(uniqueName("other"), nil)
	})

	It("shows every object a new baseline would create, and writes nothing", func() {
		file := writeFile(baselineYAML(name, profile, fullSpec))
		plans, r := diffJSON(file)
		Expect(r.code).To(Equal(ExitFindings), r.errOut)
		Expect(plans).To(HaveLen(1))
		plan := plans[0]
		Expect(plan.Exists).To(BeFalse())
		Expect(plan.Targets).To(ConsistOf(namespaces))
		for _, ns := range namespaces {
			Expect(plan.Changes).To(ContainElements(
				change(ActionChange, ns, "Namespace", ns),
				change(ActionCreate, ns, "NetworkPolicy", name+"-default-deny"),
				change(ActionCreate, ns, "NetworkPolicy", name+"-allow-dns"),
				change(ActionCreate, ns, "Role", "app-reader"),
				change(ActionCreate, ns, "RoleBinding", "app-readers"),
				change(ActionCreate, ns, "ServiceAccount", "ci"),
			))
		}
		Expect(plan.Changes).To(HaveLen(12))
		Expect(diffOf(plan, ActionCreate, namespaces[0], "RoleBinding", "app-readers")).To(ContainSubstring("+  name: team-" + namespaces[0]))
		Expect(diffOf(plan, ActionChange, namespaces[0], "Namespace", namespaces[0])).To(ContainSubstring("+    pod-security.kubernetes.io/enforce: restricted"))

		By("writing nothing: every write was a dry run")
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: namespaces[0], Name: "app-reader"}, &rbacv1.Role{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
		ns := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: namespaces[0]}, ns)).To(Succeed())
		Expect(ns.Labels).NotTo(HaveKey("pod-security.kubernetes.io/enforce"))

		By("printing a readable diff")
		r = run("", "diff", "-f", file, "--kubeconfig", kubeconfig)
		Expect(r.code).To(Equal(ExitFindings), r.errOut)
		Expect(r.out).To(ContainSubstring("SecurityBaseline " + name))
		Expect(r.out).To(ContainSubstring("+ create Role app-reader"))
		Expect(r.out).To(ContainSubstring("summary: 10 to create, 2 to change"))
	})

	It("exits 0 for a baseline in place, and shows changes, replacements and deletions of a changed one", func() {
		file := writeFile(baselineYAML(name, profile, fullSpec))
		live := createAsOperator(file, namespaces)

		r := run("", "diff", "-f", file, "--kubeconfig", kubeconfig)
		Expect(r.code).To(Equal(ExitOK), r.out+r.errOut)
		Expect(r.out).To(ContainSubstring("no object changes"))

		changed := strings.NewReplacer(
			"verbs: [get, list]", "verbs: [get, list, watch]",
			"enforce: restricted", "enforce: baseline",
			"allowDNS: true", "allowDNS: false",
			"roleRef: {kind: Role, name: app-reader}", "roleRef: {kind: ClusterRole, name: view}",
			"    serviceAccounts:\n      - name: ci\n", "",
		).Replace(fullSpec)
		plans, r := diffJSON(writeFile(baselineYAML(name, profile, changed)))
		Expect(r.code).To(Equal(ExitFindings), r.errOut)
		plan := plans[0]
		Expect(plan.Exists).To(BeTrue())
		Expect(plan.SpecDiff).To(ContainSubstring("-  enforce: restricted"))
		for _, ns := range namespaces {
			Expect(plan.Changes).To(ConsistOf(
				change(ActionChange, namespaces[0], "Namespace", namespaces[0]),
				change(ActionChange, namespaces[0], "Role", "app-reader"),
				change(ActionReplace, namespaces[0], "RoleBinding", "app-readers"),
				change(ActionDelete, namespaces[0], "NetworkPolicy", name+"-allow-dns"),
				change(ActionDelete, namespaces[0], "ServiceAccount", "ci"),
				change(ActionChange, namespaces[1], "Namespace", namespaces[1]),
				change(ActionChange, namespaces[1], "Role", "app-reader"),
				change(ActionReplace, namespaces[1], "RoleBinding", "app-readers"),
				change(ActionDelete, namespaces[1], "NetworkPolicy", name+"-allow-dns"),
				change(ActionDelete, namespaces[1], "ServiceAccount", "ci"),
			))
			Expect(diffOf(plan, ActionChange, ns, "Role", "app-reader")).To(ContainSubstring("+  - watch"))
			Expect(diffOf(plan, ActionChange, ns, "Namespace", ns)).To(And(
				ContainSubstring("-    pod-security.kubernetes.io/enforce: restricted"),
				ContainSubstring("+    pod-security.kubernetes.io/enforce: baseline")))
			Expect(diffOf(plan, ActionReplace, ns, "RoleBinding", "app-readers")).To(ContainSubstring("+  kind: ClusterRole"))
		}

		By("deleting everything in a namespace that leaves the selection")
		relabel(namespaces[1], map[string]string{"profile": "elsewhere"})
		plans, r = diffJSON(file)
		Expect(r.code).To(Equal(ExitFindings), r.errOut)
		Expect(plans[0].Targets).To(ConsistOf(namespaces[0]))
		Expect(plans[0].Changes).To(ConsistOf(
			change(ActionChange, namespaces[1], "Namespace", namespaces[1]), // its Pod Security labels are taken off
			change(ActionDelete, namespaces[1], "NetworkPolicy", name+"-default-deny"),
			change(ActionDelete, namespaces[1], "NetworkPolicy", name+"-allow-dns"),
			change(ActionDelete, namespaces[1], "Role", "app-reader"),
			change(ActionDelete, namespaces[1], "RoleBinding", "app-readers"),
			change(ActionDelete, namespaces[1], "ServiceAccount", "ci"),
		))
		Expect(live.UID).NotTo(BeEmpty())
	})

	It("reports an object it does not own as a conflict, and holds back what depends on it", func() {
		userRole := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "app-reader", Namespace: namespaces[0]},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"*"}}}}
		Expect(k8sClient.Create(ctx, userRole)).To(Succeed())
		file := writeFile(baselineYAML(name, profile, fullSpec))

		for _, exists := range []bool{false, true} {
			if exists {
				By("also once the baseline exists")
				createAsOperator(file, namespaces[1:])
			}
			plans, r := diffJSON(file)
			Expect(r.code).To(Equal(ExitFindings), r.errOut)
			conflict := findChange(plans[0], ActionConflict, namespaces[0], "Role", "app-reader")
			Expect(conflict).NotTo(BeNil())
			Expect(conflict.Message).To(Equal("a Role named app-reader exists and is not managed by this baseline"))
			held := findChange(plans[0], ActionConflict, namespaces[0], "RoleBinding", "app-readers")
			Expect(held).NotTo(BeNil())
			Expect(held.Message).To(ContainSubstring("depends on Role app-reader"))
			Expect(findChange(plans[0], ActionConflict, namespaces[1], "Role", "app-reader")).To(BeNil())
		}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(userRole), userRole)).To(Succeed())
		Expect(userRole.OwnerReferences).To(BeEmpty())
	})

	It("reports a Pod Security level an earlier baseline sets differently as a conflict", func() {
		createAsOperator(writeFile(baselineYAML(uniqueName("earlier"), profile, "  podSecurity: {enforce: restricted}\n")), namespaces)
		plans, r := diffJSON(writeFile(baselineYAML(name, profile, "  podSecurity: {enforce: privileged}\n")))
		Expect(r.code).To(Equal(ExitFindings), r.errOut)
		c := findChange(plans[0], ActionConflict, namespaces[0], "Namespace", namespaces[0])
		Expect(c).NotTo(BeNil())
		Expect(c.Message).To(ContainSubstring(`label pod-security.kubernetes.io/enforce is set to "restricted" by SecurityBaseline earlier-`))
	})

	It("runs with only the RBAC the README lists", func() {
		user := envtest.User{Name: uniqueName("ci-diff")}
		grantDiffRBAC(user.Name)
		file := writeFile(baselineYAML(name, profile, fullSpec))
		r := run("", "diff", "-f", file, "--kubeconfig", writeKubeconfig(user))
		Expect(r.code).To(Equal(ExitFindings), r.out+r.errOut)
		Expect(r.out).NotTo(ContainSubstring("rejected"))

		createAsOperator(file, namespaces)
		r = run("", "diff", "-f", file, "--kubeconfig", writeKubeconfig(user))
		Expect(r.code).To(Equal(ExitOK), r.out+r.errOut)
	})

	It("exits 2 when the cluster cannot be reached", func() {
		r := run("", "diff", "-f", writeFile(baselineYAML(name, profile, "")), "--server", "https://127.0.0.1:1", "--request-timeout", "2s")
		Expect(r.code).To(Equal(ExitError))
	})
})

func createNamespace(name string, labels map[string]string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})).To(Succeed())
}

func relabel(name string, labels map[string]string) {
	GinkgoHelper()
	ns := &corev1.Namespace{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, ns)).To(Succeed())
	patch := client.MergeFrom(ns.DeepCopy())
	maps.Copy(ns.Labels, labels) // the other labels (Pod Security) stay
	Expect(k8sClient.Patch(ctx, ns, patch)).To(Succeed())
}

func writeFile(content string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "baseline.yaml")
	Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
	return path
}

// createAsOperator creates the baseline of a file and writes its objects and Pod Security
// labels in the namespaces as the operator does: a plain create with its field manager, the
// controller ownerReference to the live UID, and Server-Side Apply for the labels.
func createAsOperator(file string, namespaces []string) *securityv1alpha1.SecurityBaseline {
	GinkgoHelper()
	raw, err := os.ReadFile(file)
	Expect(err).NotTo(HaveOccurred())
	b := &securityv1alpha1.SecurityBaseline{}
	Expect(yaml.Unmarshal(raw, b)).To(Succeed())
	Expect(k8sClient.Create(ctx, b)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, b))).To(Succeed()) })
	manager := client.FieldOwner(desired.FieldManager(b.Name))
	for _, ns := range namespaces {
		if labels := desired.PodSecurityLabels(b.Spec.PodSecurity); len(labels) > 0 {
			Expect(k8sClient.Apply(ctx, desired.NamespaceLabels(ns, labels), manager, client.ForceOwnership)).To(Succeed())
		}
		objs, err := desired.ForNamespace(b, ns)
		Expect(err).NotTo(HaveOccurred())
		for _, o := range objs {
			u, err := o.Unstructured()
			Expect(err).NotTo(HaveOccurred())
			Expect(k8sClient.Create(ctx, u, manager)).To(Succeed())
		}
	}
	return b
}

// grantDiffRBAC grants a user exactly the RBAC docs/kubectl-plugin.md lists for diff.
func grantDiffRBAC(user string) {
	GinkgoHelper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "kubectl-plugin.md"))
	Expect(err).NotTo(HaveOccurred())
	doc := string(raw)
	start := strings.Index(doc, "<!-- diff-rbac -->")
	Expect(start).To(BeNumerically(">=", 0), "docs/kubectl-plugin.md lists the RBAC of diff after <!-- diff-rbac -->")
	block := doc[start:]
	block = block[strings.Index(block, "```yaml")+len("```yaml") : strings.Index(block, "```\n\n")]
	role := &rbacv1.ClusterRole{}
	Expect(yaml.UnmarshalStrict([]byte(block), role)).To(Succeed())
	role.Name = user
	Expect(k8sClient.Create(ctx, role)).To(Succeed())
	Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	})).To(Succeed())
}

func diffJSON(file string) ([]Plan, result) {
	GinkgoHelper()
	r := run("", "diff", "-f", file, "--kubeconfig", kubeconfig, "-o", "json")
	var plans []Plan
	Expect(json.Unmarshal([]byte(r.out), &plans)).To(Succeed(), r.out+r.errOut)
	return plans, r
}

func change(action, namespace, kind, name string) any {
	return And(HaveField("Action", action), HaveField("Namespace", namespace), HaveField("Kind", kind), HaveField("Name", name))
}

func findChange(plan Plan, action, namespace, kind, name string) *Change {
	for i, c := range plan.Changes {
		if c.Action == action && c.Namespace == namespace && c.Kind == kind && c.Name == name {
			return &plan.Changes[i]
		}
	}
	return nil
}

func diffOf(plan Plan, action, namespace, kind, name string) string {
	GinkgoHelper()
	c := findChange(plan, action, namespace, kind, name)
	Expect(c).NotTo(BeNil(), "no %s of %s %s/%s in %+v", action, kind, namespace, name, plan.Changes)
	return c.Diff
}
