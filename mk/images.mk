# One image per lifecycle stage (issue 4), FROM the base image of mk/docker.mk, and the
# course scenario run in them with kfp.local.DockerRunner.
#
# Here (no registry):  make base-image-offline
#                      make images BASE_IMAGE=$(OFFLINE_BASE_IMAGE)
#                      make run-docker
# With a registry:     make images && make run-docker
#
# Tags come only from `python -m lifecycle.images` (the components' base_image); REGISTRY
# overrides its registry (the Makefile exports it as LIFECYCLE_REGISTRY). Every build hits
# Docker's layer cache when nothing changed.

STAGE_TAGS = $(PYTHON) -m lifecycle.images

.PHONY: images
images: base-image ## Build the base, then every stage image with the tags of lifecycle.images (REGISTRY=… overrides)
	@set -euo pipefail; $(STAGE_TAGS) | while read -r stage tag; do \
		test -f images/$$stage/Dockerfile || { echo "error: images/$$stage/Dockerfile is missing" >&2; exit 1; }; \
		echo "$(DOCKER) build images/$$stage -> $$tag"; \
		out=$$($(DOCKER) build $(DOCKER_BUILD_FLAGS) --quiet --network host \
			--file images/$$stage/Dockerfile --build-arg BASE_TAG=$(BASE_TAG) \
			--tag $$tag images/$$stage 2>&1) || { echo "$$out" >&2; exit 1; }; \
	done
	@$(MAKE) --no-print-directory image-sizes

.PHONY: image-sizes
image-sizes: ## Print each image's size and its own layers' size beyond the base
	@set -euo pipefail; base_size=$$($(DOCKER) image inspect --format '{{.Size}}' $(BASE_TAG)); \
	printf '| %-14s | %-46s | %9s | %15s |\n' image tag "size (MB)" "own layers (B)"; \
	printf '| %-14s | %-46s | %9s | %15s |\n' --- --- ---: ---:; \
	printf '| %-14s | %-46s | %9.1f | %15s |\n' base $(BASE_TAG) "$$(awk "BEGIN {print $$base_size / 1e6}")" -; \
	$(STAGE_TAGS) | while read -r stage tag; do \
		size=$$($(DOCKER) image inspect --format '{{.Size}}' $$tag); \
		printf '| %-14s | %-46s | %9.1f | %15d |\n' $$stage $$tag "$$(awk "BEGIN {print $$size / 1e6}")" $$((size - base_size)); \
	done

.PHONY: run-docker
run-docker: install ## Run the scenario in the stage images with kfp.local.DockerRunner (after make images; STORE=dir or minio://…)
	$(LIFECYCLE) scenario $(SCENARIO) --reset --runner docker $(if $(STORE),--store $(STORE))
