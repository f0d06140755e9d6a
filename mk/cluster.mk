# Kubeflow Pipelines on kind: render and validate the manifests, create the cluster, deploy
# KFP 2.17.0 with our MinIO, load the stage images, reach the UI and API.
# manifests/README.md says what each piece is and what was verified where. Every namespaced
# object lives in `kubeflow`, KFP's own namespace: it is fixed in the manifests and scripts.

KUSTOMIZE_VERSION ?= v5.8.2
KIND_VERSION ?= v0.33.0
# Kubernetes version the manifests are validated against: the one of the kind node image
# pinned in manifests/kind/cluster.yaml (kind v0.33.0's default).
K8S_VERSION ?= 1.37.0
KFP_VERSION ?= 2.17.0
KFP_MANIFESTS ?= https://github.com/kubeflow/pipelines/manifests/kustomize
# One deadline for all of kfp-deploy's waits (seconds, or with an s/m suffix).
KFP_WAIT_TIMEOUT ?= 900s
# The overlay kfp-deploy applies; empty: overlays/kind on the kind cluster's context
# (kind-$(KIND_CLUSTER)), overlays/kfp (no NodePorts) on any other.
KFP_OVERLAY ?=
KIND_CLUSTER ?= lifecycle
KIND_CONFIG ?= manifests/kind/cluster.yaml
KUBECTL ?= kubectl
UI_PORT ?= 8080
API_PORT ?= 8888
# Pid files of the port-forwards `make ui` / `make api` start.
FORWARD_DIR ?= build/port-forward

KUSTOMIZE := $(TOOLS_BIN)/kustomize
KIND ?= $(if $(wildcard $(TOOLS_BIN)/kind),$(TOOLS_BIN)/kind,kind)
KUBERNETES_VALIDATE := $(VENV)/bin/kubernetes-validate
MANIFESTS_DIR ?= manifests
MANIFESTS_OUT ?= build/manifests
# The git-ignored credentials of the minio overlay (scripts/manifests-secret.sh), and the
# stages' own (bucket lifecycle only), which `make upload-data` writes with.
SECRETS_DIR = $(MANIFESTS_DIR)/overlays/minio
STAGE_ENV = $(SECRETS_DIR)/lifecycle-stage.env
# The images' content tags for the manifests (lifecycle.images --kustomize; git-ignored).
IMAGES_COMPONENT = $(MANIFESTS_DIR)/components/lifecycle-images/kustomization.yaml
# Every overlay is rendered by `make manifests-check` except the two that fetch upstream KFP
# (kfp, kind); each of those has an `<name>-offline` twin, rendered in its place, with
# testing/kfp-stand-in instead of kfp/upstream. `make manifests-remote` renders the two.
REMOTE_OVERLAYS := kfp kind
OVERLAYS = $(notdir $(patsubst %/,%,$(dir $(wildcard $(MANIFESTS_DIR)/overlays/*/kustomization.yaml))))
OFFLINE_OVERLAYS = $(filter-out $(REMOTE_OVERLAYS),$(OVERLAYS))
# The one render + validate command: `make manifests-check` runs it, and so does
# tests/cluster/test_manifests.py (in `make test`) on a copy of manifests/.
MANIFESTS_CHECK = scripts/manifests-check.sh $(KUSTOMIZE) $(KUBERNETES_VALIDATE) $(K8S_VERSION) \
	$(MANIFESTS_OUT) $(addprefix $(MANIFESTS_DIR)/overlays/,$(OFFLINE_OVERLAYS))

# The stamp carries the version, so changing KUSTOMIZE_VERSION rebuilds kustomize.
# GOTOOLCHAIN=local: build with the installed Go, never download a toolchain.
$(TOOLS)/.kustomize-$(KUSTOMIZE_VERSION):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(abspath $(TOOLS_BIN)) GOTOOLCHAIN=local go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@touch $@

.PHONY: kustomize-install
kustomize-install: $(TOOLS)/.kustomize-$(KUSTOMIZE_VERSION) ## Build the pinned kustomize into .tools/bin (go install)

$(TOOLS)/.kind-$(KIND_VERSION):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(abspath $(TOOLS_BIN)) GOTOOLCHAIN=local go install sigs.k8s.io/kind@$(KIND_VERSION)
	@touch $@

.PHONY: kind-install
kind-install: $(TOOLS)/.kind-$(KIND_VERSION) ## Build the pinned kind into .tools/bin (go install)

# `make test` runs tests/cluster, which runs $(MANIFESTS_CHECK) with the project's kustomize.
test: kustomize-install

.PHONY: manifests-secret
manifests-secret: ## Write the git-ignored credentials of MinIO's root, KFP's and the stages' users (from the environment or random; FORCE=1 rewrites)
	@FORCE=$(or $(FORCE),0) scripts/manifests-secret.sh $(SECRETS_DIR)

# Always rewritten (cheap): the tags follow the sources, and REGISTRY=… changes them.
.PHONY: manifests-images
manifests-images: install ## Write the manifests' image tags (components/lifecycle-images, git-ignored) from lifecycle.images (REGISTRY=…)
	@$(PYTHON) -m lifecycle.images --kustomize > $(IMAGES_COMPONENT).tmp && mv $(IMAGES_COMPONENT).tmp $(IMAGES_COMPONENT)
	@echo "manifests-images: wrote $(IMAGES_COMPONENT) ($$(grep -c newTag $(IMAGES_COMPONENT)) images, registry $$($(PYTHON) -c 'import lifecycle.images as i; print(i.registry())'))"

.PHONY: manifests
manifests: kustomize-install manifests-secret manifests-images ## Render every offline overlay to build/manifests/<overlay>.yaml (no validation)
	@scripts/manifests-check.sh $(KUSTOMIZE) "" $(K8S_VERSION) $(MANIFESTS_OUT) \
		$(addprefix $(MANIFESTS_DIR)/overlays/,$(OFFLINE_OVERLAYS))

.PHONY: manifests-check
manifests-check: install kustomize-install manifests-secret manifests-images ## Render every offline overlay (minio, kfp-offline, kind-offline) and validate each resource against the Kubernetes 1.37 schemas
	@$(MANIFESTS_CHECK)

.PHONY: manifests-remote
manifests-remote: install kustomize-install manifests-secret manifests-images ## Render and validate kfp and kind, which fetch upstream KFP 2.17.0 (needs network)
	@scripts/manifests-check.sh $(KUSTOMIZE) $(KUBERNETES_VALIDATE) $(K8S_VERSION) $(MANIFESTS_OUT) \
		$(addprefix $(MANIFESTS_DIR)/overlays/,$(REMOTE_OVERLAYS))

.PHONY: kind-up
kind-up: ## Create the kind cluster (UI on localhost:8080, API on localhost:8888)
	@scripts/kind-up.sh $(KIND) $(KUBECTL) $(KIND_CLUSTER) $(KIND_CONFIG)

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	$(KIND) delete cluster --name $(KIND_CLUSTER)

.PHONY: kfp-deploy
kfp-deploy: kustomize-install manifests-secret manifests-images ## Deploy KFP 2.17.0 + our MinIO on the current context, wait until ready (one deadline: KFP_WAIT_TIMEOUT=900s)
	@scripts/kfp-deploy.sh $(KUSTOMIZE) $(KUBECTL) "$(KFP_MANIFESTS)/cluster-scoped-resources?ref=$(KFP_VERSION)" \
		$(MANIFESTS_DIR)/overlays kind-$(KIND_CLUSTER) $(KFP_WAIT_TIMEOUT) $(KFP_OVERLAY)

.PHONY: kind-load
kind-load: install ## Load every image the cluster runs (stages, base, MinIO; built by make images) into the kind cluster
	$(PYTHON) -m lifecycle.images --all | scripts/kind-load.sh $(KIND) $(KIND_CLUSTER)

.PHONY: ui
ui: ## Open the KFP UI on http://localhost:8080 (kind's port mapping, else a port-forward of svc/ml-pipeline-ui)
	@scripts/kfp-port-forward.sh $(KUBECTL) $(KIND_CLUSTER) $(FORWARD_DIR) ml-pipeline-ui $(UI_PORT) 80

.PHONY: api
api: ## Reach the KFP API on http://localhost:8888 (kind's port mapping, else a port-forward of svc/ml-pipeline)
	@scripts/kfp-port-forward.sh $(KUBECTL) $(KIND_CLUSTER) $(FORWARD_DIR) ml-pipeline $(API_PORT) 8888
