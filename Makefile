# securitybaseline-operator Makefile (kubebuilder layout). Tools are pinned and built into ./bin
# from the Go module proxy; the control plane for tests and `make run` is built from Go modules
# by hack/build-controlplane.sh and cached under bin/k8s/<version>.

IMG ?= securitybaseline-operator:latest
VERSION ?= 0.1.0
K8S_VERSION ?= 1.37.2

LOCALBIN ?= $(shell pwd)/bin
CONTROLPLANE_DIR ?= $(LOCALBIN)/k8s/$(K8S_VERSION)
KUBECTL ?= $(CONTROLPLANE_DIR)/kubectl
export KUBEBUILDER_ASSETS ?= $(CONTROLPLANE_DIR)

CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GINKGO_VERSION ?= v2.34.0
GOLANGCI_LINT_VERSION ?= v2.15.0

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GINKGO ?= $(LOCALBIN)/ginkgo-$(GINKGO_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and the operator's RBAC from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	cp config/crd/bases/security.baseline.dev_securitybaselines.yaml internal/crd/securitybaselines.yaml

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify
verify: manifests generate bundle helm-chart build-installer ## Fail when generated code or manifests are not committed.
	@if [ -n "$$(git status --porcelain -- api config bundle bundle.Dockerfile charts dist)" ]; then \
		echo "generated files are stale; run 'make manifests generate bundle helm-chart build-installer' and commit:"; \
		git status --porcelain -- api config bundle bundle.Dockerfile charts dist; git --no-pager diff --stat -- api config bundle bundle.Dockerfile charts dist; exit 1; fi
	@if [ -n "$$(git status --porcelain -- internal/crd)" ]; then echo "internal/crd/securitybaselines.yaml (the plugin's embedded CRD) is stale; run 'make manifests' and commit:"; git status --porcelain -- internal/crd; exit 1; fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: controlplane
controlplane: ## Build etcd, kube-apiserver, kube-controller-manager and kubectl from Go modules (cached).
	K8S_VERSION=$(K8S_VERSION) CONTROLPLANE_DIR=$(CONTROLPLANE_DIR) hack/build-controlplane.sh >/dev/null

.PHONY: test
test: verify vet controlplane ## Check generated files, then run every test against a real kube-apiserver.
	go test ./... -race -count=1 -timeout 30m

.PHONY: cluster-up
cluster-up: controlplane ## Start a persistent local control plane (etcd, kube-apiserver, kube-controller-manager).
	CONTROLPLANE_DIR=$(CONTROLPLANE_DIR) hack/local-cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local control plane started by cluster-up.
	CONTROLPLANE_DIR=$(CONTROLPLANE_DIR) hack/local-cluster.sh down

.PHONY: test-chaos
test-chaos: build controlplane ## Kill the operator and kube-apiserver during a rollout, then check the exact result (CHAOS_ARGS="-n 1000 -k 20").
	go run ./test/chaos -controlplane $(CONTROLPLANE_DIR) $(CHAOS_ARGS)

.PHONY: bench
bench: build controlplane ## Scale benchmark on a fresh local control plane (BENCH_ARGS="-n 100,1000,5000").
	go run ./test/bench $(BENCH_ARGS)

##@ Build

.PHONY: build
build: manifests generate ## Build the manager binary.
	go build -o bin/manager .
	go build -o bin/kubectl-securitybaseline ./cmd/kubectl-securitybaseline

.PHONY: run
run: controlplane ## Run the operator against $$KUBECONFIG, or a local control plane it starts.
	CONTROLPLANE_DIR=$(CONTROLPLANE_DIR) hack/run-local.sh

.PHONY: bundle
bundle: manifests kustomize ## Write the OLM bundle (bundle/, bundle.Dockerfile) from config/manifests: make bundle VERSION=x.y.z IMG=...
	$(KUSTOMIZE) build config/manifests | go run ./hack/bundle -version $(VERSION) -image $(IMG) -dir bundle

.PHONY: helm-chart
helm-chart: manifests kustomize ## Regenerate the Helm chart's CRDs, RBAC, admission policy and alert rule templates from config/.
	{ $(KUSTOMIZE) build config/default; echo ---; $(KUSTOMIZE) build config/prometheus; } | go run ./hack/bundle -chart charts/securitybaseline-operator

.PHONY: build-installer
build-installer: manifests kustomize ## Write the release manifests dist/install.yaml (CRD, RBAC, namespace, Deployment, admission policy) for IMG.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml

CONTAINER_TOOL ?= docker

.PHONY: docker-build
docker-build: ## Build the operator image with $$CONTAINER_TOOL (docker or podman).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the operator image with $$CONTAINER_TOOL.
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment

.PHONY: install
install: manifests controlplane ## Install the CRDs into the cluster of $$KUBECONFIG.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: manifests controlplane ## Remove the CRDs from the cluster of $$KUBECONFIG.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

.PHONY: deploy
deploy: manifests kustomize controlplane ## Deploy the operator to the cluster of $$KUBECONFIG.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize controlplane ## Remove the operator from the cluster of $$KUBECONFIG.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen kustomize ginkgo golangci-lint
controller-gen: $(CONTROLLER_GEN)
kustomize: $(KUSTOMIZE)
ginkgo: $(GINKGO)
golangci-lint: $(GOLANGCI_LINT)

$(CONTROLLER_GEN):
	$(call go-install-tool,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))
$(KUSTOMIZE):
	$(call go-install-tool,$@,sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))
$(GINKGO):
	$(call go-install-tool,$@,github.com/onsi/ginkgo/v2/ginkgo,$(GINKGO_VERSION))
$(GOLANGCI_LINT):
	$(call go-install-tool,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool builds a pinned tool into ./bin under a versioned name and links the plain name.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "building $(2)@$(3)"; \
rm -f "$(1)"; \
GOBIN="$(LOCALBIN)" go install "$(2)@$(3)"; \
mv "$(LOCALBIN)/$$(basename "$(1)" | sed 's/-$(3)$$//')" "$(1)"; \
}; \
ln -sf "$$(basename "$(1)")" "$$(echo "$(1)" | sed 's/-$(3)$$//')"
endef
