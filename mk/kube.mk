# A real Kubernetes API server for the tests (issue 13): kube-apiserver, etcd and kubectl built
# with the installed Go (GOTOOLCHAIN=local) from the Go module proxy into .tools/bin, at the
# versions pinned by tools/kube/go.mod (and its go.sum). tests/fixtures/kube.py starts etcd and
# the API server on loopback; no kubelet, so no pod ever runs there.
#
#   make kube-install        # once: about 12 minutes on 2 cores cold, a no-op afterwards
#
# KUBE_VERSION must match k8s.io/kubernetes in tools/kube/go.mod: it is what the binaries report.

KUBE_VERSION ?= v1.35.4
ETCD_VERSION ?= v3.6.5
# Argo Workflows' full CRDs (manifests/base/crds/full of its Go module), at the version KFP
# 2.17.0 installs (its go.mod and third-party/argo kustomizations: v4.0.5). Only downloaded into
# Go's module cache (`go mod download`), never copied into the repository; the API-server tests
# read them from there.
ARGO_WORKFLOWS_MODULE ?= github.com/argoproj/argo-workflows/v4
ARGO_WORKFLOWS_VERSION ?= v4.0.5
KUBE_MODULE := tools/kube
KUBE_BINARIES := kube-apiserver etcd kubectl
# The stamp names both versions and a hash of the wrapper module's go.mod and go.sum, so any
# pin change rebuilds, and nothing else does.
KUBE_PIN := $(shell cat $(KUBE_MODULE)/go.mod $(KUBE_MODULE)/go.sum 2>/dev/null | sha256sum | cut -c1-12)
KUBE_STAMP := $(TOOLS)/.kube-$(KUBE_VERSION)-etcd-$(ETCD_VERSION)-$(KUBE_PIN)
KUBE_MINOR := $(word 2,$(subst ., ,$(KUBE_VERSION)))
# What `kubectl version` and the API server's /version report (otherwise v0.0.0-master).
KUBE_LDFLAGS := -s -w $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(KUBE_VERSION) -X $(pkg).gitMajor=1 -X $(pkg).gitMinor=$(KUBE_MINOR) \
	-X $(pkg).gitTreeState=clean)

$(KUBE_STAMP): $(KUBE_MODULE)/go.mod $(KUBE_MODULE)/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "kube-install: building kube-apiserver and kubectl $(KUBE_VERSION), etcd $(ETCD_VERSION) into $(TOOLS_BIN) (cold: about 12 min on 2 cores)"
	cd $(KUBE_MODULE) && GOTOOLCHAIN=local GOFLAGS=-mod=readonly $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' \
		-o $(abspath $(TOOLS_BIN))/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
	cd $(KUBE_MODULE) && GOTOOLCHAIN=local GOFLAGS=-mod=readonly $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' \
		-o $(abspath $(TOOLS_BIN))/kubectl k8s.io/kubernetes/cmd/kubectl
	cd $(KUBE_MODULE) && GOTOOLCHAIN=local GOFLAGS=-mod=readonly $(GO) build -trimpath -ldflags '-s -w' \
		-o $(abspath $(TOOLS_BIN))/etcd go.etcd.io/etcd/server/v3
	@rm -f $(TOOLS)/.kube-*
	@touch $@

.PHONY: argo-crds
argo-crds: ## Download Argo Workflows v4.0.5 (KFP 2.17.0's) into Go's module cache, for its full CRDs
	@mkdir -p $(TOOLS) && cd $(TOOLS) && GOTOOLCHAIN=local GOFLAGS=-mod=mod $(GO) mod download -json \
		$(ARGO_WORKFLOWS_MODULE)@$(ARGO_WORKFLOWS_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/argo-crds: \1\/manifests\/base\/crds\/full/p'

.PHONY: kube-install
kube-install: $(KUBE_STAMP) argo-crds ## Build the pinned kube-apiserver, kubectl (v1.35.4) and etcd (v3.6.5) into .tools/bin (no-op when built), and fetch Argo's CRDs

# The API-server tests (tests/cluster/test_apiserver.py) run against these binaries.
test: kube-install
