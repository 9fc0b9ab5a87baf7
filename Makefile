# Sifa: `make run` installs, initialises and serves; `make test` installs and runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# Runtime: the ruling font. Tests: a real browser, PDF validators, QR decoder, NSS tools, ffprobe,
# a load balancer and a TURN server.
RUN_APT := fonts-arphic-uming
TEST_APT := $(RUN_APT) chromium poppler-utils qpdf zbar-tools libnss3-tools ffmpeg haproxy coturn

.PHONY: run test install apt-run apt-test services init demo serve lint typecheck pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing through apt:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

apt-run:
	$(call apt_install,$(RUN_APT))

apt-test:
	$(call apt_install,$(TEST_APT))

# PostgreSQL and Redis normally run already on this kind of machine; start them if they do not.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || $(SUDO) redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true

init: install apt-run
	$(BIN)/sifa init

demo: init
	$(BIN)/sifa demo

serve: install
	$(BIN)/sifa serve

run: demo
	$(BIN)/sifa serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install apt-test services
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: install apt-test
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
