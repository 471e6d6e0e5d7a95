# The two commands of the README: `make serve` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test bench clean

$(BIN)/triage: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch first, so that sentence-transformers pulls no GPU build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/triage

setup: $(BIN)/triage

serve: setup
	$(BIN)/triage serve

test: setup
	bash .ci/system-packages
	bash .ci/services
	$(BIN)/pytest -q -p no:randomly

clean:
	rm -rf $(VENV) triage.db triage.db-wal triage.db-shm
