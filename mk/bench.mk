# Benchmarks (issue 6). evidently 0.7.23 does not import under our pandas 3, so the
# benchmark's evidently contender and the evidently agreement tests run in .venv-bench:
# our pins except pandas 2.3.3, the project on PYTHONPATH.

BENCH_VENV ?= .venv-bench
BENCH_PYTHON := $(BENCH_VENV)/bin/python
BENCH_REQUIREMENTS := bench/requirements-bench.txt
BENCH_DRIFT_ARGS ?=

$(BENCH_VENV)/.installed: $(BENCH_REQUIREMENTS)
	$(PYTHON_BOOTSTRAP) -m venv $(BENCH_VENV)
	$(BENCH_PYTHON) -m pip install --quiet -r $(BENCH_REQUIREMENTS)
	@touch $@

.PHONY: bench-venv
bench-venv: $(BENCH_VENV)/.installed ## Create .venv-bench (evidently beside pandas 2) for the benchmark and the evidently tests

# The evidently agreement tests (tests/unit/test_drift_suite.py) need .venv-bench.
test: bench-venv

.PHONY: bench-drift
bench-drift: install bench-venv ## Benchmark the drift suite against evidently, scipy and the sort floor (writes bench/results/drift.md)
	$(PYTHON) bench/bench_drift.py --bench-python $(BENCH_PYTHON) $(BENCH_DRIFT_ARGS)

BENCH_BIG_ARGS ?=

.PHONY: bench-big
bench-big: install ## Benchmark every monitoring stage and the whole lifecycle monitor on a generated 50M-row, 1 GB CSV batch, local folder and MinIO (writes bench/results/big.md; BIG_ROWS=5000000 for a smaller batch)
	MINIO_BIN=$(abspath $(TOOLS_BIN))/minio $(PYTHON) bench/bench_big.py $(BENCH_BIG_ARGS)
