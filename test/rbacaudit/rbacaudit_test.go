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

package rbacaudit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var (
	readOnly = []string{"get", "list", "watch"}
	owned    = []string{"get", "list", "watch", "create", "patch", "delete"}
)

// allowed is everything the operator's ServiceAccount may hold, with the reason. A change to
// the operator's RBAC that this table does not cover fails the audit: extend the table only
// with a reason a reviewer can check.
var allowed = []Permission{
	// The operator's own work (config/rbac/role.yaml, generated from the markers).
	allow("security.baseline.dev", "securitybaselines", []string{"get", "list", "watch", "patch"},
		"reads every SecurityBaseline; patch adds and removes its finalizer"),
	allow("security.baseline.dev", "securitybaselines/status", []string{"get", "patch"}, "writes status once per reconcile"),
	allow("security.baseline.dev", "securitybaselines/finalizers", []string{"update"},
		"ownerReferences with blockOwnerDeletion on managed objects need update on the owner's finalizers"),
	allow("", "namespaces", []string{"get", "list", "watch", "patch"},
		"selects target namespaces and patches their Pod Security labels; never creates or deletes one"),
	allow("", "serviceaccounts", owned, "rbac.serviceAccounts in each target namespace"),
	allow("networking.k8s.io", "networkpolicies", owned, "networkPolicies in each target namespace"),
	allow("rbac.authorization.k8s.io", "roles", owned,
		"rbac.roles; without escalate, Kubernetes lets it write only rules it holds itself"),
	allow("rbac.authorization.k8s.io", "rolebindings", owned,
		"rbac.roleBindings; without bind on Roles, only to roles whose rules it holds or allow-listed ClusterRoles"),
	allow("rbac.authorization.k8s.io", "clusterroles", []string{"bind"},
		"RoleBindings to the install-time allow-list of ClusterRoles (bindable_clusterroles.yaml)", namedOnly),
	allow("admissionregistration.k8s.io", "validatingadmissionpolicies", []string{"get", "create", "patch"},
		"applies its own author-authorization policy at start-up (--install-admission-policy), by name only; get: not again when unchanged", namedOnly),
	allow("admissionregistration.k8s.io", "validatingadmissionpolicybindings", []string{"get", "create", "patch"},
		"binds its own author-authorization policy at start-up (--install-admission-policy), by name only; get: not again when unchanged", namedOnly),
	allow("external-secrets.io", "secretstores", owned, "secretStores[].externalSecrets in each target namespace"),
	allow("secrets-store.csi.x-k8s.io", "secretproviderclasses", owned, "secretStores[].csi in each target namespace"),
	allow("openreports.io", "reports", owned, "the baseline's compliance report (OpenReports) in each target namespace"),
	allow("wgpolicyk8s.io", "policyreports", owned, "the baseline's compliance report where only the Policy WG's CRD is installed"),
	allow("events.k8s.io", "events", []string{"create", "patch", "get", "list", "watch"},
		"create/patch: events on SecurityBaselines; get/list/watch: grantable read-only"),
	allow("coordination.k8s.io", "leases", []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		"leader election, in the operator's own namespace", roleOnly),
	// Secured metrics (config/rbac/metrics_auth_role.yaml).
	allow("authentication.k8s.io", "tokenreviews", []string{"create"}, "authenticates each metrics scrape's bearer token"),
	allow("authorization.k8s.io", "subjectaccessreviews", []string{"create"}, "authorizes each metrics scrape (get on /metrics)"),
	// What baselines may grant by default (config/rbac/grantable_read_only_role.yaml, aggregated
	// into the grantable ClusterRole): reading common namespaced resources, never Secrets.
	allow("", "pods", readOnly, "grantable read-only"),
	allow("", "pods/log", readOnly, "grantable read-only: container logs"),
	allow("", "services", readOnly, "grantable read-only"),
	allow("", "endpoints", readOnly, "grantable read-only"),
	allow("", "configmaps", readOnly, "grantable read-only"),
	allow("", "persistentvolumeclaims", readOnly, "grantable read-only"),
	allow("", "events", []string{"get", "list", "watch", "create", "patch"},
		"get/list/watch: grantable read-only; create/patch: leader election events, in the operator's namespace (leader_election_role.yaml)"),
	allow("", "replicationcontrollers", readOnly, "grantable read-only"),
	allow("", "resourcequotas", readOnly, "grantable read-only"),
	allow("", "limitranges", readOnly, "grantable read-only"),
	allow("apps", "deployments", readOnly, "grantable read-only"),
	allow("apps", "replicasets", readOnly, "grantable read-only"),
	allow("apps", "statefulsets", readOnly, "grantable read-only"),
	allow("apps", "daemonsets", readOnly, "grantable read-only"),
	allow("batch", "jobs", readOnly, "grantable read-only"),
	allow("batch", "cronjobs", readOnly, "grantable read-only"),
	allow("autoscaling", "horizontalpodautoscalers", readOnly, "grantable read-only"),
	allow("policy", "poddisruptionbudgets", readOnly, "grantable read-only"),
	allow("networking.k8s.io", "ingresses", readOnly, "grantable read-only"),
	allow("discovery.k8s.io", "endpointslices", readOnly, "grantable read-only"),
}

// limit narrows an allow-list entry.
type limit int

const (
	// roleOnly: only in a Role of the operator's own namespace.
	roleOnly limit = iota + 1
	// namedOnly: only on named objects (resourceNames).
	namedOnly
)

func allow(group, resource string, verbs []string, why string, limits ...limit) Permission {
	return Permission{Group: group, Resource: resource, Verbs: verbs, Why: why,
		RoleOnly: slices.Contains(limits, roleOnly), NamedOnly: slices.Contains(limits, namedOnly)}
}

// root is the repository whose RBAC is audited; RBACAUDIT_ROOT points the test at another
// checkout (for example an older commit's, to see it fail).
func root() string {
	if r := os.Getenv("RBACAUDIT_ROOT"); r != "" {
		return r
	}
	return filepath.Join("..", "..")
}

// auditDir loads the RBAC under dir and returns every problem, and how many of the roles are
// the operator's.
func auditDir(t *testing.T, dir string) (problems []string, operatorRoles int) {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	problems = m.MarkOperator()
	for _, r := range m.Roles {
		if r.Operator {
			operatorRoles++
			t.Logf("operator's: %s", r.Source)
		}
		problems = append(problems, Audit(r, allowed)...)
	}
	return problems, operatorRoles
}

func TestShippedRBAC(t *testing.T) {
	for _, dir := range []string{"config", "bundle"} {
		t.Run(dir, func(t *testing.T) {
			problems, operatorRoles := auditDir(t, filepath.Join(root(), dir))
			if operatorRoles == 0 {
				t.Errorf("found none of the operator's roles under %s: the audit would check nothing", dir)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// TestAuditRejectsEscalatingRole: the operator's role before least privilege held escalate on
// Roles and bind on every Role and ClusterRole, which made its token as strong as
// cluster-admin's; the audit must say so.
func TestAuditRejectsEscalatingRole(t *testing.T) {
	problems, operatorRoles := auditDir(t, filepath.Join("testdata", "escalating"))
	if operatorRoles != 1 {
		t.Fatalf("the fixture's role is the operator's (bound to its ServiceAccount), found %d", operatorRoles)
	}
	for _, want := range []string{
		`verb "escalate" on [roles]`,
		`bind on [clusterroles] without resourceNames`,
		`bind on [roles] without resourceNames`,
		`the operator holds "escalate" on roles.rbac.authorization.k8s.io`,
	} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("no problem reports %q; got:\n%s", want, strings.Join(problems, "\n"))
		}
	}
}

// TestAuditRules checks each rule of the audit on one small role.
func TestAuditRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		yaml     string
		operator bool
		want     string
	}{
		{"wildcard verb", `{apiGroups: [""], resources: [pods], verbs: ["*"]}`, false, `wildcard "*" in verbs`},
		{"wildcard resource", `{apiGroups: [apps], resources: ["*"], verbs: [get]}`, false, `wildcard "*" in resources`},
		{"wildcard group", `{apiGroups: ["*"], resources: [pods], verbs: [get]}`, false, `wildcard "*" in apiGroups`},
		{"secrets", `{apiGroups: [""], resources: [secrets], verbs: [get]}`, false, "access to Secrets"},
		{"impersonate", `{apiGroups: [""], resources: [users], verbs: [impersonate]}`, false, `verb "impersonate"`},
		{"escalate", `{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}`, false, `verb "escalate"`},
		{"unrestricted bind", `{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}`, false,
			"without resourceNames"},
		{"verb off the allow-list", `{apiGroups: [""], resources: [namespaces], verbs: [delete]}`, true,
			`holds "delete" on namespaces, which the allow-list does not grant`},
		{"resource off the allow-list", `{apiGroups: [apps], resources: [deployments], verbs: [create]}`, true,
			`holds "create" on deployments.apps`},
		{"non-resource URL", `{nonResourceURLs: [/metrics], verbs: [get]}`, true, "needs no non-resource URL"},
		{"unnamed admission policy", `{apiGroups: [admissionregistration.k8s.io], resources: [validatingadmissionpolicies], verbs: [patch]}`,
			true, "only on named objects"},
		{"leases cluster-wide", `{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get]}`, true,
			"only in a Role of its own namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Manifests{}
			doc := "kind: ClusterRole\nmetadata: {name: r}\nrules: [" + tc.yaml + "]\n"
			if err := m.add("inline", []byte(doc)); err != nil {
				t.Fatal(err)
			}
			m.Roles[0].Operator = tc.operator
			problems := Audit(m.Roles[0], allowed)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("want a problem containing %q, got %q", tc.want, problems)
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		m := &Manifests{}
		doc := `kind: ClusterRole
metadata: {name: r}
rules:
  - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [view]}
  - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
`
		if err := m.add("inline", []byte(doc)); err != nil {
			t.Fatal(err)
		}
		m.Roles[0].Operator = true
		if problems := Audit(m.Roles[0], allowed); len(problems) > 0 {
			t.Errorf("want no problem, got %q", problems)
		}
	})
	t.Run("binding to a role not shipped", func(t *testing.T) {
		m := &Manifests{}
		doc := `kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: controller-manager, namespace: system}]
`
		if err := m.add("inline", []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if problems := m.MarkOperator(); len(problems) != 1 || !strings.Contains(problems[0], "escapes the audit") {
			t.Errorf("want the binding to cluster-admin reported, got %q", problems)
		}
	})
}

// TestAggregatedRolesAreTheOperators: a ClusterRole aggregated into one the operator holds is
// audited as the operator's.
func TestAggregatedRolesAreTheOperators(t *testing.T) {
	m := &Manifests{}
	doc := `kind: ClusterRole
metadata: {name: grantable}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {x/grantable: "true"}}]}
rules: []
---
kind: ClusterRole
metadata: {name: extra, labels: {x/grantable: "true"}}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [delete]}]
---
kind: ClusterRole
metadata: {name: other}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [delete]}]
---
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: grantable}
subjects: [{kind: ServiceAccount, name: controller-manager, namespace: system}]
`
	if err := m.add("inline", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if problems := m.MarkOperator(); len(problems) > 0 {
		t.Fatal(problems)
	}
	got := map[string]bool{}
	for _, r := range m.Roles {
		got[r.Name] = r.Operator
	}
	if !got["grantable"] || !got["extra"] || got["other"] {
		t.Errorf("want grantable and extra the operator's, other not; got %v", got)
	}
}
