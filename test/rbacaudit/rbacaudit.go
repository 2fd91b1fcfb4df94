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

// Package rbacaudit audits the RBAC the operator ships, as written in config/ and in the OLM
// bundle: what the operator's ServiceAccount is granted must stay on an allow-list kept with a
// reason per entry, and no shipped role may hold wildcards, Secrets, escalate, impersonate or
// an unrestricted bind.
package rbacaudit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// operatorServiceAccounts are the operator's ServiceAccount as config/rbac names it and as
// config/default's name prefix renders it (the bundle).
var operatorServiceAccounts = []string{"controller-manager", "securitybaseline-controller-manager"}

const (
	kindClusterRole = "ClusterRole"
	kindRole        = "Role"
)

// Role is a ClusterRole or Role as shipped, or a CSV's permission set.
type Role struct {
	// Source names where it was read: file and kind/name.
	Source string
	Kind   string
	Name   string
	Labels map[string]string
	Rules  []rbacv1.PolicyRule
	// Aggregation holds a ClusterRole's aggregationRule selectors.
	Aggregation []metav1.LabelSelector
	// Operator is set when the operator's ServiceAccount holds it.
	Operator bool
}

// Manifests are the RBAC objects found under a directory.
type Manifests struct {
	Roles    []*Role
	Bindings []Binding
}

// Binding grants a role to subjects.
type Binding struct {
	Source   string
	RoleRef  rbacv1.RoleRef
	Subjects []rbacv1.Subject
}

// Load reads every YAML document under dir (recursively) and keeps ClusterRoles, Roles,
// their bindings and the permissions of ClusterServiceVersions.
func Load(dir string) (*Manifests, error) {
	m := &Manifests{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return m.add(path, raw)
	})
	return m, err
}

type document struct {
	Kind     string            `json:"kind"`
	Metadata metav1.ObjectMeta `json:"metadata"`
	Rules    []rbacv1.PolicyRule
	// ClusterRole
	AggregationRule *rbacv1.AggregationRule `json:"aggregationRule"`
	// bindings
	RoleRef  rbacv1.RoleRef   `json:"roleRef"`
	Subjects []rbacv1.Subject `json:"subjects"`
	// ClusterServiceVersion
	Spec struct {
		Install struct {
			Spec struct {
				ClusterPermissions []csvPermission `json:"clusterPermissions"`
				Permissions        []csvPermission `json:"permissions"`
			} `json:"spec"`
		} `json:"install"`
	} `json:"spec"`
}

type csvPermission struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

func (m *Manifests) add(path string, raw []byte) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var doc document
		if err := yaml.Unmarshal(chunk, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		source := fmt.Sprintf("%s %s/%s", path, doc.Kind, doc.Metadata.Name)
		switch doc.Kind {
		case kindClusterRole, kindRole:
			r := &Role{Source: source, Kind: doc.Kind, Name: doc.Metadata.Name, Labels: doc.Metadata.Labels, Rules: doc.Rules}
			if doc.AggregationRule != nil {
				r.Aggregation = doc.AggregationRule.ClusterRoleSelectors
			}
			m.Roles = append(m.Roles, r)
		case "ClusterRoleBinding", "RoleBinding":
			m.Bindings = append(m.Bindings, Binding{Source: source, RoleRef: doc.RoleRef, Subjects: doc.Subjects})
		case "ClusterServiceVersion":
			install := doc.Spec.Install.Spec
			for i, p := range install.ClusterPermissions {
				m.Roles = append(m.Roles, &Role{Source: fmt.Sprintf("%s clusterPermissions[%d]", source, i), Kind: kindClusterRole,
					Rules: p.Rules, Operator: slices.Contains(operatorServiceAccounts, p.ServiceAccountName)})
			}
			for i, p := range install.Permissions {
				m.Roles = append(m.Roles, &Role{Source: fmt.Sprintf("%s permissions[%d]", source, i), Kind: kindRole,
					Rules: p.Rules, Operator: slices.Contains(operatorServiceAccounts, p.ServiceAccountName)})
			}
		}
	}
}

// MarkOperator marks the roles the operator's ServiceAccount is bound to, and the ClusterRoles
// aggregated into those, as the operator's. It returns a problem for each binding that grants
// the operator a role not shipped beside it: such a role escapes the audit.
func (m *Manifests) MarkOperator() []string {
	var problems []string
	for _, b := range m.Bindings {
		if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && slices.Contains(operatorServiceAccounts, s.Name)
		}) {
			continue
		}
		found := false
		for _, r := range m.Roles {
			if r.Kind == b.RoleRef.Kind && r.Name == b.RoleRef.Name {
				found = true
				m.markOperator(r)
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: grants the operator %s %q, which is not shipped here and so escapes the audit",
				b.Source, b.RoleRef.Kind, b.RoleRef.Name))
		}
	}
	return problems
}

func (m *Manifests) markOperator(r *Role) {
	if r.Operator {
		return
	}
	r.Operator = true
	for _, sel := range r.Aggregation {
		selector, err := metav1.LabelSelectorAsSelector(&sel)
		if err != nil || selector.Empty() {
			continue
		}
		for _, member := range m.Roles {
			if member.Kind == kindClusterRole && member != r && selector.Matches(labels.Set(member.Labels)) {
				m.markOperator(member)
			}
		}
	}
}

// Permission is an allow-list entry: what the operator may do with one resource, and why.
type Permission struct {
	Group, Resource string
	Verbs           []string
	Why             string
	// RoleOnly allows it only in a Role (the operator's own namespace), never cluster-wide.
	RoleOnly bool
	// NamedOnly allows it only on named objects (resourceNames).
	NamedOnly bool
}

// Audit returns the problems of one role: for every shipped role, wildcards, Secrets,
// escalate, impersonate and bind without resourceNames; for the operator's, any verb on a
// resource the allow-list does not grant, and any non-resource URL.
func Audit(r *Role, allowed []Permission) []string {
	var problems []string
	report := func(i int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s rules[%d]: %s", r.Source, i, fmt.Sprintf(format, args...)))
	}
	for i, rule := range r.Rules {
		for field, values := range map[string][]string{
			"apiGroups": rule.APIGroups, "resources": rule.Resources, "verbs": rule.Verbs, "nonResourceURLs": rule.NonResourceURLs,
		} {
			for _, v := range values {
				if strings.Contains(v, "*") {
					report(i, "wildcard %q in %s", v, field)
				}
			}
		}
		for _, res := range rule.Resources {
			if res == "secrets" || strings.HasPrefix(res, "secrets/") {
				report(i, "access to Secrets (%s %v)", res, rule.Verbs)
			}
		}
		for _, verb := range rule.Verbs {
			switch verb {
			case "escalate", "impersonate":
				report(i, "verb %q on %v", verb, rule.Resources)
			case "bind":
				if len(rule.ResourceNames) == 0 {
					report(i, "bind on %v without resourceNames: may bind any role", rule.Resources)
				}
			}
		}
		if !r.Operator {
			continue
		}
		if len(rule.NonResourceURLs) > 0 {
			report(i, "the operator needs no non-resource URL: %v", rule.NonResourceURLs)
		}
		for _, group := range rule.APIGroups {
			for _, res := range rule.Resources {
				p := allowedPermission(allowed, group, res)
				if p.RoleOnly && r.Kind != kindRole {
					report(i, "the operator may hold %s only in a Role of its own namespace", groupResource(group, res))
				}
				if p.NamedOnly && len(rule.ResourceNames) == 0 {
					report(i, "the operator may hold %s only on named objects (resourceNames)", groupResource(group, res))
				}
				for _, verb := range rule.Verbs {
					if !slices.Contains(p.Verbs, verb) {
						report(i, "the operator holds %q on %s, which the allow-list does not grant", verb, groupResource(group, res))
					}
				}
			}
		}
	}
	return problems
}

func allowedPermission(allowed []Permission, group, resource string) Permission {
	for _, p := range allowed {
		if p.Group == group && p.Resource == resource {
			return p
		}
	}
	return Permission{}
}

func groupResource(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}
