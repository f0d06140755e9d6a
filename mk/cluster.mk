# Kubeflow Pipelines on kind: render and validate the manifests, create the cluster, deploy
# KFP 2.17.0 with our MinIO, load the stage images, reach the UI and API.
# manifests/README.md says what each piece is and what was verified where.

KUSTOMIZE_VERSION ?= v5.8.2
KIND_VERSION ?= v0.33.0
# Kubernetes version the manifests are validated against: the one of the kind node image
# pinned in manifests/kind/cluster.yaml (kind v0.33.0's default).
K8S_VERSION ?= 1.37.0
KFP_VERSION ?= 2.17.0
KFP_MANIFESTS ?= https://github.com/kubeflow/pipelines/manifests/kustomize
KFP_NAMESPACE ?= kubeflow
KFP_WAIT_TIMEOUT ?= 900s
KIND_CLUSTER ?= lifecycle
KIND_CONFIG ?= manifests/kind/cluster.yaml
KUBECTL ?= kubectl

KUSTOMIZE := $(TOOLS_BIN)/kustomize
KIND ?= $(if $(wildcard $(TOOLS_BIN)/kind),$(TOOLS_BIN)/kind,kind)
KUBERNETES_VALIDATE := $(VENV)/bin/kubernetes-validate
MANIFESTS_OUT ?= build/manifests
MINIO_ENV := manifests/overlays/kind/minio.env
# Overlays that render offline; kind-kfp fetches upstream KFP and is rendered by
# `make manifests-remote` (network) or applied by `make kfp-deploy`.
OFFLINE_OVERLAYS := manifests/overlays/kind manifests/overlays/kind-kfp-offline
REMOTE_OVERLAYS := manifests/overlays/kind-kfp

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

# `make test` runs tests/cluster, which renders the overlays with the project's kustomize.
test: kustomize-install

.PHONY: manifests-secret
manifests-secret: ## Write the git-ignored MinIO credentials (MINIO_ACCESS_KEY/MINIO_SECRET_KEY or random; FORCE=1 rewrites)
	@FORCE=$(or $(FORCE),0) scripts/manifests-secret.sh $(MINIO_ENV)

.PHONY: manifests
manifests: kustomize-install manifests-secret ## Render each offline overlay to build/manifests/<overlay>.yaml
	@scripts/manifests-check.sh $(KUSTOMIZE) "" $(K8S_VERSION) $(MANIFESTS_OUT) $(OFFLINE_OVERLAYS)

.PHONY: manifests-remote
manifests-remote: kustomize-install manifests-secret ## Render and validate kind-kfp (fetches upstream KFP 2.17.0: needs network)
	@scripts/manifests-check.sh $(KUSTOMIZE) $(KUBERNETES_VALIDATE) $(K8S_VERSION) $(MANIFESTS_OUT) $(REMOTE_OVERLAYS)

.PHONY: manifests-check
manifests-check: install kustomize-install manifests-secret ## Render every offline overlay and validate each resource against the Kubernetes 1.37 schemas
	@scripts/manifests-check.sh $(KUSTOMIZE) $(KUBERNETES_VALIDATE) $(K8S_VERSION) $(MANIFESTS_OUT) $(OFFLINE_OVERLAYS)

.PHONY: kind-up
kind-up: ## Create the kind cluster (UI on localhost:8080, API on localhost:8888)
	@scripts/kind-up.sh $(KIND) $(KIND_CLUSTER) $(KIND_CONFIG)

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	$(KIND) delete cluster --name $(KIND_CLUSTER)

.PHONY: kfp-deploy
kfp-deploy: kustomize-install manifests-secret ## Deploy KFP 2.17.0 + our MinIO on the current context, wait until ready (KFP_WAIT_TIMEOUT=900s)
	@scripts/kfp-deploy.sh $(KUSTOMIZE) "$(KFP_MANIFESTS)/cluster-scoped-resources?ref=$(KFP_VERSION)" \
		manifests/overlays/kind-kfp $(KFP_NAMESPACE) $(KFP_WAIT_TIMEOUT)

.PHONY: kind-load
kind-load: install ## Load every stage image (built by make images) into the kind cluster
	$(PYTHON) -m lifecycle.images | scripts/kind-load.sh $(KIND) $(KIND_CLUSTER)

.PHONY: ui
ui: ## Open the KFP UI on http://localhost:8080 (port-forward svc/ml-pipeline-ui unless kind maps it)
	@scripts/kfp-port-forward.sh $(KFP_NAMESPACE) ml-pipeline-ui 8080 80

.PHONY: api
api: ## Reach the KFP API on http://localhost:8888 (port-forward svc/ml-pipeline unless kind maps it)
	@scripts/kfp-port-forward.sh $(KFP_NAMESPACE) ml-pipeline 8888 8888
