# The two commands of the README: `make serve` and `make test`. Everything installs into .venv.
# `setup` (and so `serve`) installs the core only: no torch, no CUDA libraries, no shap, no optuna.
# `test` adds the test tools and every optional extra, so that no test is left out for a missing extra, and runs
# the suite in two processes (pytest-xdist; a module's tests stay in one, each process has its own databases).
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TEST_STAMP := $(VENV)/.test-extras-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test bench clean

$(BIN)/triage: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# a venv made before the core moved to xgboost-cpu: the CUDA build of xgboost owns the same module, so it goes first
	if $(BIN)/pip show --quiet xgboost 2>/dev/null; then \
		$(BIN)/pip uninstall --quiet --yes xgboost xgboost-cpu nvidia-nccl-cu12; fi
	$(BIN)/pip install --quiet -e .
	touch $(BIN)/triage

$(TEST_STAMP): $(BIN)/triage
	# the CPU build of torch first and alone, so that sentence-transformers pulls no GPU build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,embeddings,explain,tune]'
	touch $(TEST_STAMP)

setup: $(BIN)/triage

serve: setup
	$(BIN)/triage serve

test: $(TEST_STAMP)
	bash .ci/system-packages
	bash .ci/services
	$(BIN)/pytest -q -p no:randomly -n 2 --dist loadscope

clean:
	rm -rf $(VENV) triage.db triage.db-wal triage.db-shm
