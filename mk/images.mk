# One image per lifecycle stage (issue 4), FROM the base image of mk/docker.mk, and the
# course scenario run in them with kfp.local.DockerRunner.
#
# Here (no registry):  make base-image-offline
#                      make images BASE_IMAGE=$(OFFLINE_BASE_IMAGE)
#                      make run-docker
# With a registry:     make images && make run-docker
#
# Tags come only from `python -m lifecycle.images` (the components' base_image): each is the
# content digest of what its image is built from, so an unchanged image keeps its tag and a
# changed one gets a new tag (never a moved one). REGISTRY overrides the registry (the Makefile
# exports it as LIFECYCLE_REGISTRY). Every build hits Docker's layer cache when nothing changed.

STAGE_TAGS = $(PYTHON) -m lifecycle.images
ALL_TAGS = $(PYTHON) -m lifecycle.images --all
MINIO_TAG = $(shell $(PYTHON) -m lifecycle.images --stage minio $(IMAGES_REGISTRY_ARG))
# MinIO needs no Python; any Debian-like base works, and here the offline one is all there is.
MINIO_BASE_IMAGE ?= $(BASE_IMAGE)
MINIO_IMAGE_DIR := build/images/minio

.PHONY: images
images: base-image image-minio ## Build the base, every stage image and MinIO's, tagged by content (lifecycle.images; REGISTRY=… overrides)
	@set -euo pipefail; $(STAGE_TAGS) | while read -r stage tag; do \
		test -f images/$$stage/Dockerfile || { echo "error: images/$$stage/Dockerfile is missing" >&2; exit 1; }; \
		echo "$(DOCKER) build images/$$stage -> $$tag"; \
		out=$$($(DOCKER) build $(DOCKER_BUILD_FLAGS) --quiet --network host \
			--file images/$$stage/Dockerfile --build-arg BASE_TAG=$(BASE_TAG) \
			--tag $$tag images/$$stage 2>&1) || { echo "$$out" >&2; exit 1; }; \
	done
	@$(MAKE) --no-print-directory image-sizes

# The build folder holds images/minio/ and the binary of `make minio-install` (the pin of
# images/minio/minio.version): the image runs the same server as `make minio`.
.PHONY: image-minio
image-minio: docker-up minio-install install ## Build the MinIO image from the pinned server that make minio-install built
	@rm -rf $(MINIO_IMAGE_DIR) && mkdir -p $(MINIO_IMAGE_DIR)
	@cp images/minio/* $(MINIO_IMAGE_DIR)/ && cp $(MINIO_BIN) $(MINIO_IMAGE_DIR)/minio
	@echo "$(DOCKER) build images/minio -> $(MINIO_TAG)"
	@out=$$($(DOCKER) build $(DOCKER_BUILD_FLAGS) --quiet --network host \
		--build-arg BASE_IMAGE=$(MINIO_BASE_IMAGE) --build-arg VERSION=$(MINIO_VERSION) \
		--tag $(MINIO_TAG) $(MINIO_IMAGE_DIR) 2>&1) || { echo "$$out" >&2; exit 1; }

# For a cluster that pulls from a registry (kind loads images instead: make kind-load).
.PHONY: images-push
images-push: install ## Push every image the cluster runs (stages, base, MinIO) to REGISTRY=host[:port][/path] (after make images REGISTRY=…)
	@test -n "$(REGISTRY)" || { echo "images-push: set REGISTRY=host[:port][/path] (the one make images REGISTRY=… built for)" >&2; exit 2; }
	@$(ALL_TAGS) | DOCKER=$(DOCKER) scripts/images-push.sh

.PHONY: image-sizes
image-sizes: ## Print each image's size and its own layers' size beyond its base
	@set -euo pipefail; base_size=$$($(DOCKER) image inspect --format '{{.Size}}' $(BASE_TAG)); \
	row() { printf '| %-14s | %-52s | %9s | %15s |\n' "$$@"; }; \
	row image tag "size (MB)" "own layers (B)"; row --- --- ---: ---:; \
	row base $(BASE_TAG) "$$(awk "BEGIN {printf \"%.1f\", $$base_size / 1e6}")" -; \
	$(STAGE_TAGS) | while read -r stage tag; do \
		size=$$($(DOCKER) image inspect --format '{{.Size}}' $$tag); \
		row $$stage $$tag "$$(awk "BEGIN {printf \"%.1f\", $$size / 1e6}")" $$((size - base_size)); \
	done; \
	if $(DOCKER) image inspect $(MINIO_TAG) >/dev/null 2>&1; then \
		size=$$($(DOCKER) image inspect --format '{{.Size}}' $(MINIO_TAG)); \
		under=$$($(DOCKER) image inspect --format '{{.Size}}' $(MINIO_BASE_IMAGE) 2>/dev/null || echo 0); \
		row minio $(MINIO_TAG) "$$(awk "BEGIN {printf \"%.1f\", $$size / 1e6}")" $$((size - under)); \
	fi

.PHONY: run-docker
run-docker: install ## Run the scenario in the stage images with kfp.local.DockerRunner (after make images; STORE=dir or minio://…)
	$(LIFECYCLE) scenario $(SCENARIO) --reset --runner docker $(if $(STORE),--store $(STORE)) $(SCENARIO_ARGS)
