# The model lifecycle on Kubeflow Pipelines. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
LIFECYCLE := $(VENV)/bin/lifecycle
TOOLS ?= .tools
TOOLS_BIN := $(TOOLS)/bin
SCENARIO ?= course
STORE ?=
# More arguments of `lifecycle scenario` for run and run-docker (e.g. --no-serve).
SCENARIO_ARGS ?=
# An image registry other than kind's localhost:5001: every target (compile, images, run-docker,
# kind-load, upload) then names the same tags (lifecycle/images.py reads LIFECYCLE_REGISTRY).
REGISTRY ?=
ifneq ($(REGISTRY),)
export LIFECYCLE_REGISTRY := $(REGISTRY)
endif

export PATH := $(abspath $(TOOLS_BIN)):$(PATH)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@touch $@

.PHONY: install
install: $(VENV)/.installed ## Create .venv and install the project with its dev tools

.PHONY: run
run: install ## Run the scenario (SCENARIO=course|diabetes, STORE=dir or minio://HOST:PORT/BUCKET) on the KFP local runner
	$(LIFECYCLE) scenario $(SCENARIO) --reset $(if $(STORE),--store $(STORE)) $(SCENARIO_ARGS)

# The committed YAML names the default registry; `make upload REGISTRY=…` compiles its own.
.PHONY: compile
compile: install ## Write every component.yaml and the pipelines' YAML (committed; default registry), then the components' READMEs
	LIFECYCLE_REGISTRY= $(PYTHON) -m pipelines.compile
	$(PYTHON) -m pipelines.component_docs

.PHONY: test
# Workers of the test suite (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: install ## Run the whole test suite (on TEST_WORKERS processes)
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: soak
soak: install minio-install ## The soak test: 100 monitoring runs in a row (minutes; not in make test)
	$(PYTHON) -m pytest -m soak

.PHONY: lint
lint: install ## Lint with ruff
	$(VENV)/bin/ruff check lifecycle components pipelines cli tests bench docs images
	$(VENV)/bin/ruff format --check lifecycle components pipelines cli tests bench docs images

-include mk/*.mk
