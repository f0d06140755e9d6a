# The pipelines on the kind cluster: data, upload, runs, the daily monitoring schedule, and the
# whole path end to end. The logic is pipelines/kfp_client.py; docs/cluster-quickstart.md walks
# through it. The KFP API must answer on KFP_HOST (`make api`; a cluster made from
# manifests/kind/cluster.yaml serves it on localhost:8888 already).
#
# Multi-user Kubeflow: KFP_NAMESPACE=<profile namespace>, and a bearer token: KFP_TOKEN=<token>,
# or KFP_TOKEN_SERVICE_ACCOUNT=<ServiceAccount of that namespace> for `kubectl create token`.
# The client reads them from the environment (command-line variables reach it too).

KFP_HOST ?= http://localhost:$(API_PORT)
export KFP_HOST
PIPELINE ?= training
BATCH ?= batch_1
# Extra run parameters, NAME=VALUE separated by spaces (e.g. PARAMS="test_name=holdout").
PARAMS ?=
EXPERIMENT ?= lifecycle
CONFIG ?= pipelines/scenarios/course.yaml
RUN_TIMEOUT ?= 1800
WAIT ?=
# KFP's 6-field cron, seconds first, in the scheduler's time zone (UTC, set by our manifests):
# daily at 02:00:00 UTC.
CRON ?= 0 0 2 * * *
SCHEDULE_NAME ?= lifecycle-monitoring-daily
SCHEDULE_SOURCE ?= incoming/latest.csv
# Empty: each scheduled run names its batch by its schedule time (UTC).
SCHEDULE_BATCH_ID ?=
MINIO_FORWARD_PORT ?= 9000
LIFECYCLE_BUCKET ?= lifecycle
KFP_CLIENT := $(PYTHON) -m pipelines.kfp_client --kubectl $(KUBECTL)

.PHONY: upload-data
upload-data: install ## Copy the course data into the cluster's MinIO under incoming/ as the stages' user (port-forward svc/minio-service)
	@scripts/kfp-upload-data.sh $(PYTHON) $(KUBECTL) $(STAGE_ENV) $(MINIO_FORWARD_PORT) $(LIFECYCLE_BUCKET)

.PHONY: upload
upload: install ## Compile and upload both pipelines with CONFIG's cluster: resources (a new version when one exists; unchanged specs are skipped)
	$(KFP_CLIENT) upload --config $(CONFIG)

.PHONY: submit
submit: install ## Run a pipeline on the uploaded data (PIPELINE=training|monitoring BATCH=batch_1 PARAMS="k=v" WAIT=1)
	$(KFP_CLIENT) submit $(PIPELINE) --batch $(BATCH) --config $(CONFIG) --experiment $(EXPERIMENT) \
		$(foreach p,$(PARAMS),--param $(p)) $(if $(WAIT),--wait --timeout $(RUN_TIMEOUT))

.PHONY: schedule
schedule: install ## Schedule the monitoring run (CRON="0 0 2 * * *" UTC, max 1 at a time, no catch-up); updates it when cron or parameters changed
	$(KFP_CLIENT) schedule --name $(SCHEDULE_NAME) --cron "$(CRON)" --source $(SCHEDULE_SOURCE) \
		--batch-id "$(SCHEDULE_BATCH_ID)" --config $(CONFIG) --experiment $(EXPERIMENT) \
		$(foreach p,$(PARAMS),--param $(p))

.PHONY: unschedule
unschedule: install ## Delete the monitoring schedule (SCHEDULE_NAME)
	$(KFP_CLIENT) unschedule --name $(SCHEDULE_NAME)

# Sub-makes keep the order: each step needs the one before it.
.PHONY: e2e-kind
e2e-kind: ## Everything on kind: cluster, images, deploy, data, upload, a training run (waits for success), the schedule
	$(MAKE) kind-up
	$(MAKE) images
	$(MAKE) kind-load
	$(MAKE) kfp-deploy
	$(MAKE) upload-data
	$(MAKE) upload
	$(MAKE) submit PIPELINE=training WAIT=1
	$(MAKE) schedule
	@echo "e2e-kind: done; open http://localhost:8080 (make ui): Runs, Recurring Runs"
