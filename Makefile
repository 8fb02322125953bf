# Two entry points: `make bench` runs the main job on whatever device is present,
# `make test` installs what the tests need and runs the whole suite (tests + benchmark smoke).
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python

.PHONY: test bench env

$(VENV)/.ready: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) -m pip install -q --no-deps thunder-speech==3.2.0
	touch $@

env: $(VENV)/.ready

test: $(VENV)/.ready
	$(PY) -m pytest tests bench --benchmark-disable -q -ra

bench: $(VENV)/.ready
	$(PY) -m thunder_kernels $(ARGS)
