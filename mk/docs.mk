# Architecture docs (issue 7): the diagrams.net model and SVG generated from the compiled
# pipelines, the component/artefact tables of docs/README.md, the results pictures and numbers of
# a real run. Needs Graphviz's dot, gvpack and neato (Debian package `graphviz`).

DOCS_STORE ?= /tmp/docs-store
DOCS_REPORT ?= /tmp/docs-report.html

.PHONY: diagram
diagram: install ## Write docs/architecture.drawio and .svg and the README tables from the compiled specs (REPO_URL= for links)
	$(PYTHON) -m pipelines.architecture

.PHONY: component-docs
component-docs: install ## Write the Inputs/Outputs/Image/Store tables of components/*/README.md from the compiled specs
	$(PYTHON) -m pipelines.component_docs

.PHONY: docs-check
docs-check: install ## Fail when docs/ is stale against the compiled specs (links compared by the file they name)
	$(PYTHON) -m pipelines.architecture --check

.PHONY: docs
docs: diagram ## diagram + a fresh course run: the results pictures, report.png and numbers of docs/ (DOCS_STORE=/tmp/docs-store, ~2 min)
	$(LIFECYCLE) scenario course --reset --store $(DOCS_STORE) --report $(DOCS_REPORT)
	$(PYTHON) docs/results.py --store $(DOCS_STORE) --out docs/images
