# Everything a fresh clone needs: `make demo` and `make test` install what they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := podium-emulator tap-podium transform target-podium-merge
PYPROJECTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)

.PHONY: help install meltano-install test lint demo bench clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python $(PYPROJECTS) requirements-dev.txt
	@echo "==> installing the repository's packages into $(VENV)"
	$(BIN)/pip install --quiet -r requirements-dev.txt \
		$(foreach p,$(PACKAGES),-e ./$(p)[test])
	touch $@

install: $(VENV)/.installed  ## Create the virtual environment and install every package.

# Plugins are editable installs of the repo's folders: code changes need no
# reinstall, but a changed pyproject.toml (a new dependency) does.
.meltano/.installed: $(VENV)/.installed meltano.yml $(wildcard plugins/*.yml) $(PYPROJECTS)
	@echo "==> meltano install (one virtual environment per plugin, uv backend)"
	$(BIN)/meltano install
	touch $@

meltano-install: .meltano/.installed  ## Install the Meltano plugins.

test: install meltano-install  ## Run the whole test suite.
	$(BIN)/pytest

lint:  install ## Check style with ruff.
	$(BIN)/ruff check .

demo: install meltano-install  ## Run the main job end to end on a generated corpus.
	$(BIN)/python scripts/demo.py

bench: install meltano-install  ## Measure speed, memory and API budget (BENCH_ARGS=--quick).
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/readme_table.py

clean:  ## Remove the environment and every generated file.
	rm -rf $(VENV) .meltano output bench/work
