# A local MinIO server for STORE=minio://… (issue 3): built from source with the Go toolchain,
# run on 127.0.0.1 only, data under .minio/ (git-ignored).
#
#   make minio-install            # once: go install the pinned server into .tools/bin
#   make minio                    # start it; prints the STORE URI and the env to export
#   make run STORE=minio://127.0.0.1:9000/lifecycle
#   make minio-stop
#
# Credentials, with LOCAL-ONLY defaults below (the server listens on loopback only; never
# reuse them for a cluster, whose credentials come from Kubernetes Secrets):
# MINIO_ROOT_USER / MINIO_ROOT_PASSWORD are the server's root (admin) user; `make minio` then
# creates the stages' user, MINIO_ACCESS_KEY / MINIO_SECRET_KEY (what the store reads), whose
# policy allows the bucket MINIO_BUCKET and nothing else (lifecycle/store/provision.py).

GO ?= go
# The pseudo-version `go install github.com/minio/minio@latest` resolves to (checked on
# 2026-12-01; its commit is of 2026-02-12). One pin for the local server and the cluster's
# image: images/minio/minio.version (its content is part of the image's tag).
MINIO_VERSION ?= $(shell cat images/minio/minio.version)
MINIO_BIN := $(TOOLS_BIN)/minio
MINIO_HOST ?= 127.0.0.1
MINIO_PORT ?= 9000
MINIO_CONSOLE_PORT ?= 9001
MINIO_DIR ?= .minio
MINIO_DATA := $(MINIO_DIR)/data
MINIO_PID := $(MINIO_DIR)/minio.pid
MINIO_LOG := $(MINIO_DIR)/minio.log
MINIO_BUCKET ?= lifecycle
MINIO_READY_TIMEOUT ?= 30
MINIO_ROOT_USER ?= lifecycle-local
MINIO_ROOT_PASSWORD ?= lifecycle-local-only-secret
MINIO_ACCESS_KEY ?= lifecycle-local-stage
MINIO_SECRET_KEY ?= lifecycle-stage-local-only-secret
BENCH_STORE_ARGS ?=

# `make run STORE=minio://127.0.0.1:9000/lifecycle` against `make minio` needs no exports: the
# store client gets the credentials above (yours when MINIO_ACCESS_KEY/MINIO_SECRET_KEY are set).
run run-docker: export MINIO_ACCESS_KEY := $(MINIO_ACCESS_KEY)
run run-docker: export MINIO_SECRET_KEY := $(MINIO_SECRET_KEY)

# The version stamp makes a pin change rebuild; a binary already built from the pinned
# version (as `go version -m` reports) is kept, so this is a no-op when it is present.
$(TOOLS)/.minio-$(MINIO_VERSION):
	@mkdir -p $(TOOLS_BIN)
	@if [ -x $(MINIO_BIN) ] && $(GO) version -m $(MINIO_BIN) 2>/dev/null | grep -q 'mod[[:space:]]*github.com/minio/minio[[:space:]]*$(MINIO_VERSION)'; then \
		echo "$(MINIO_BIN) is already $(MINIO_VERSION)"; \
	else \
		echo "GOBIN=$(abspath $(TOOLS_BIN)) $(GO) install github.com/minio/minio@$(MINIO_VERSION)"; \
		GOBIN=$(abspath $(TOOLS_BIN)) $(GO) install github.com/minio/minio@$(MINIO_VERSION); \
	fi
	@touch $@

.PHONY: minio-install
minio-install: $(TOOLS)/.minio-$(MINIO_VERSION) ## Build the pinned MinIO server into .tools/bin (go install; no-op when present)

# The MinIO tests run against the real server: build it before the tests (a no-op once built).
test: minio-install

.PHONY: minio
minio: minio-install install ## Start MinIO on 127.0.0.1:9000 (MINIO_PORT; data in .minio/), create the stages' user (bucket lifecycle only), print STORE and its credentials
	@mkdir -p $(MINIO_DATA)
	@if [ -f $(MINIO_PID) ] && kill -0 "$$(cat $(MINIO_PID))" 2>/dev/null; then \
		echo "MinIO already running (pid $$(cat $(MINIO_PID)))"; \
	else \
		MINIO_ROOT_USER='$(MINIO_ROOT_USER)' MINIO_ROOT_PASSWORD='$(MINIO_ROOT_PASSWORD)' MINIO_UPDATE=off \
		nohup $(MINIO_BIN) server --address $(MINIO_HOST):$(MINIO_PORT) \
			--console-address $(MINIO_HOST):$(MINIO_CONSOLE_PORT) $(MINIO_DATA) \
			>> $(MINIO_LOG) 2>&1 & echo $$! > $(MINIO_PID); \
	fi
	@for i in $$(seq $$(( $(MINIO_READY_TIMEOUT) * 10 ))); do \
		curl -fsS -o /dev/null http://$(MINIO_HOST):$(MINIO_PORT)/minio/health/ready 2>/dev/null && break; \
		if ! kill -0 "$$(cat $(MINIO_PID))" 2>/dev/null; then echo "MinIO exited; see $(MINIO_LOG)" >&2; tail -5 $(MINIO_LOG) >&2; rm -f $(MINIO_PID); exit 1; fi; \
		sleep 0.1; \
	done; \
	curl -fsS -o /dev/null http://$(MINIO_HOST):$(MINIO_PORT)/minio/health/ready || { echo "MinIO not ready after $(MINIO_READY_TIMEOUT)s; see $(MINIO_LOG)" >&2; exit 1; }
	@echo "MinIO ready: http://$(MINIO_HOST):$(MINIO_PORT) (console http://$(MINIO_HOST):$(MINIO_CONSOLE_PORT), log $(MINIO_LOG))"
	@MINIO_ROOT_USER='$(MINIO_ROOT_USER)' MINIO_ROOT_PASSWORD='$(MINIO_ROOT_PASSWORD)' \
		STAGE_ACCESS_KEY='$(MINIO_ACCESS_KEY)' STAGE_SECRET_KEY='$(MINIO_SECRET_KEY)' \
		$(PYTHON) -m lifecycle.store.provision --endpoint $(MINIO_HOST):$(MINIO_PORT) --grant $(MINIO_BUCKET)=STAGE
	@echo "Use it with the stages' user (bucket $(MINIO_BUCKET) only; local-only credentials):"
	@echo "  export MINIO_ACCESS_KEY='$(MINIO_ACCESS_KEY)' MINIO_SECRET_KEY='$(MINIO_SECRET_KEY)'"
	@echo "  export STORE=minio://$(MINIO_HOST):$(MINIO_PORT)/$(MINIO_BUCKET)"

.PHONY: minio-stop
minio-stop: ## Stop the MinIO started by make minio (its data stays in .minio/data)
	@if [ -f $(MINIO_PID) ] && kill -0 "$$(cat $(MINIO_PID))" 2>/dev/null; then \
		kill "$$(cat $(MINIO_PID))"; \
		for i in $$(seq 100); do kill -0 "$$(cat $(MINIO_PID))" 2>/dev/null || break; sleep 0.1; done; \
		echo "MinIO stopped"; \
	else \
		echo "MinIO is not running"; \
	fi
	@rm -f $(MINIO_PID)

.PHONY: bench-store
bench-store: install minio-install ## Benchmark both stores (1000 appends, reading 10,000 records); writes bench/results/store.md
	MINIO_BIN=$(MINIO_BIN) $(PYTHON) bench/bench_store.py $(BENCH_STORE_ARGS)
