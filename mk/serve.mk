# Serving (issue 16): `lifecycle serve` locally, in its image, on a cluster (KServe), and its
# load benchmark against MLServer. components/serve/README.md describes the server.

SERVE_PORT ?= 8080
SERVE_HOST ?= 127.0.0.1
SERVE_ARGS ?=
SERVE_BENCH_VENV ?= .venv-serve-bench
SERVE_BENCH_PYTHON := $(SERVE_BENCH_VENV)/bin/python
SERVE_BENCH_REQUIREMENTS := bench/requirements-serve-bench.txt
BENCH_SERVE_ARGS ?=
SERVING_OVERLAY ?= $(MANIFESTS_DIR)/overlays/serving

$(SERVE_BENCH_VENV)/.installed: $(SERVE_BENCH_REQUIREMENTS)
	$(PYTHON_BOOTSTRAP) -m venv $(SERVE_BENCH_VENV)
	$(SERVE_BENCH_PYTHON) -m pip install --quiet -r $(SERVE_BENCH_REQUIREMENTS)
	@touch $@

.PHONY: serve-bench-venv
serve-bench-venv: $(SERVE_BENCH_VENV)/.installed ## Create .venv-serve-bench (MLServer 1.7.1 + mlserver-sklearn) for make bench-serve

.PHONY: serve
serve: install ## Serve the production model on http://127.0.0.1:8080 (STORE=…, SERVE_PORT=, SERVE_ARGS="--reload-seconds 2 …")
	$(LIFECYCLE) serve --host $(SERVE_HOST) --port $(SERVE_PORT) $(if $(STORE),--store $(STORE)) $(SERVE_ARGS)

.PHONY: bench-serve
bench-serve: install serve-bench-venv ## Load benchmark: ours vs MLServer 1.7.1 with wrk (needs Debian's wrk); writes bench/results/serve.md
	@command -v wrk >/dev/null || { echo "error: wrk is not installed: apt-get install wrk" >&2; exit 2; }
	$(PYTHON) bench/bench_serve.py --bench-python $(SERVE_BENCH_PYTHON) $(BENCH_SERVE_ARGS)

# The KServe SDK's wheel (PyPI), read by tests/cluster/test_serving_manifests.py for KServe's
# v1beta1 types; never installed (it pins pandas < 3).
KSERVE_SDK_VERSION ?= 0.21.0
KSERVE_SDK_DIR := $(TOOLS)/kserve-sdk-$(KSERVE_SDK_VERSION)

$(KSERVE_SDK_DIR)/.downloaded:
	@mkdir -p $(KSERVE_SDK_DIR)
	$(PYTHON_BOOTSTRAP) -m pip download --quiet --no-deps --only-binary :all: \
		--dest $(KSERVE_SDK_DIR) kserve==$(KSERVE_SDK_VERSION)
	@touch $@

.PHONY: kserve-sdk
kserve-sdk: $(KSERVE_SDK_DIR)/.downloaded ## Download the KServe SDK wheel (its v1beta1 types check the InferenceService)

test: kserve-sdk

.PHONY: serve-docker
serve-docker: ## Serve from the serve image (after make images) on 127.0.0.1:8080, STORE a folder or minio://…
	@store="$(or $(STORE),$(abspath .store))"; \
	if [[ "$$store" == *://* ]]; then mount=(); else mkdir -p "$$store"; mount=(--volume "$$store:$$store"); fi; \
	$(DOCKER) run --rm --network host --read-only --tmpfs /tmp --user $$(id -u):$$(id -g) "$${mount[@]}" \
		--env STORE="$$store" --env MINIO_ACCESS_KEY --env MINIO_SECRET_KEY \
		$$($(PYTHON) -m lifecycle.images --stage serve) --host $(SERVE_HOST) --port $(SERVE_PORT) $(SERVE_ARGS)

.PHONY: serve-deploy
serve-deploy: kustomize-install manifests-secret manifests-images ## Apply the serving overlay (InferenceService, its Role; needs KServe) and wait until it is ready
	$(KUSTOMIZE) build $(SERVING_OVERLAY) | $(KUBECTL) apply -f -
	$(KUBECTL) -n kubeflow wait --for=condition=Ready --timeout=$(KFP_WAIT_TIMEOUT) \
		inferenceservice/$$($(PYTHON) -c 'from components.serve.inference_service import service_name; print(service_name("course"))')
