# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := redis-server espeak-ng libespeak-ng1 chromium fonts-noto-core

.PHONY: demo test install system-deps bench clean

demo: install
	$(BIN)/qserver demo

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

install: system-deps $(VENV)/.installed

# Debian packages the suite and the demo use, installed only where missing (needs root or sudo).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

bench: install
	$(BIN)/python bench/floor.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/announcer.py --phases wav,instant
	$(BIN)/python bench/city.py

clean:
	rm -rf $(VENV) var *.egg-info
