# The documented commands. Each installs what it needs first (idempotent).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BAKERY := $(VENV)/bin/bakery
# Delta jars follow the pinned delta-spark (one source of truth: requirements.txt).
DELTA_VERSION := $(shell sed -n 's/^delta-spark==//p' requirements.txt)
SCALA_BINARY := 2.13
JARS := .jars

.PHONY: install demo test test-fast test-packaged app mlflow lint bench clean

install: $(VENV)/.installed $(JARS)/.installed

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(JARS)/.installed: requirements.txt
	mkdir -p $(JARS)
	mvn -q -B dependency:copy -Dartifact=io.delta:delta-spark_$(SCALA_BINARY):$(DELTA_VERSION) -DoutputDirectory=$(JARS)
	mvn -q -B dependency:copy -Dartifact=io.delta:delta-storage:$(DELTA_VERSION) -DoutputDirectory=$(JARS)
	touch $@

demo: install
	$(BAKERY) demo

app: install
	$(BAKERY) app

# The MLflow UI over the demo home's tracking store and registry, until stopped.
mlflow: install
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(abspath lakehouse)/mlflow/mlflow.db --host 127.0.0.1 --port 5000

# Two pytest-xdist workers, each taking whole test files (module fixtures built once, file order kept) in
# collection order, which tests/conftest.py starts with the longest file; TEST_WORKERS=0 runs the suite in
# one process. Each worker has its own Spark session and temporary directories.
TEST_WORKERS ?= 2
# Bytecode (and pytest's rewritten test modules) is cached between runs even where the shell turns that off.
unexport PYTHONDONTWRITEBYTECODE
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: install
	$(PY) -m pytest -q $(XDIST)

# The inner loop: what needs no Spark session and no browser, and is not an end-to-end run (marked slow).
test-fast: install
	$(PY) -m pytest -q $(XDIST) -m "not slow and not packaged and not spark and not browser"

# The bundle's job graph from the built wheel in catalog mode, alone (`make test` runs it too).
test-packaged: install
	$(PY) -m pytest -q -m packaged tests/test_packaged_jobs.py

lint: install
	$(VENV)/bin/ruff check src tests jobs bench
	$(VENV)/bin/ruff format --check src tests jobs bench
	PYTHONPATH=src $(VENV)/bin/lint-imports

bench: install
	$(PY) bench/pipeline_speed.py

clean:
	rm -rf lakehouse .pytest_cache
