# sohoa-edge: `make run` and `make test` set everything up on a fresh Debian 12 /
# Raspberry Pi OS machine (apt-get as root, a venv, exact pins from requirements.lock).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SYS_STAMP := $(VENV)/.stamp-system
PY_STAMP := $(VENV)/.stamp-python
export SOHOA_HOME ?= $(CURDIR)/.sohoa-home
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test bench bench-sync-faults bench-powercut lint clean help install

help:
	@echo "make run | make test | make bench | make bench-sync-faults | make bench-powercut | make lint | make install | make clean"

setup: $(PY_STAMP)

$(SYS_STAMP): provisioning/system/apt-packages.txt provisioning/system/setup-host.sh
	bash provisioning/system/setup-host.sh
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	touch $@

$(PY_STAMP): $(SYS_STAMP) requirements.lock pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m service.ocr.quantize  # int8 recognizer and detector, derived from the pinned wheels and hash-checked
	touch $@

run: setup
	$(VENV)/bin/sohoa station

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m bench

bench-sync-faults: setup
	$(PY) -m bench sync-faults

bench-powercut: setup
	$(PY) -m bench powercut

# As root: the appliance in /opt/sohoa, units enabled (DESTDIR=… stages it instead).
install: setup
	DESTDIR="$(DESTDIR)" PYTHON="$(PYTHON)" bash provisioning/system/install.sh

lint: setup
	$(VENV)/bin/ruff check service firmware kiosk_ui provisioning province_gateway bench tests
	$(VENV)/bin/mypy service firmware kiosk_ui provisioning province_gateway

clean:
	rm -rf $(VENV) .sohoa-home .pytest_cache .mypy_cache .ruff_cache
