# Architecture docs (issue 7): the diagrams.net model and SVG generated from the compiled
# pipelines, the component/artefact tables of docs/README.md, the results pictures of a real run.
# Needs Graphviz `dot` (Debian package `graphviz`).

DOCS_STORE ?= /tmp/docs-store

.PHONY: diagram
diagram: install ## Write docs/architecture.drawio and .svg and the README tables from the compiled specs (REPO_URL= for links)
	$(PYTHON) -m pipelines.architecture

.PHONY: docs-check
docs-check: install ## Fail when docs/ is stale against the compiled specs
	$(PYTHON) -m pipelines.architecture --check

.PHONY: docs
docs: diagram ## diagram + the results pictures of a fresh course run (DOCS_STORE=/tmp/docs-store, ~6 min)
	$(LIFECYCLE) scenario course --reset --store $(DOCS_STORE)
	$(PYTHON) docs/results.py --store $(DOCS_STORE) --out docs/images
