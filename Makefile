# The two README commands come first: `make run` starts everything, `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV_VERSION := 0.13.8
BIN := $(VENV)/bin

.PHONY: run test test-fast lint typecheck schemas processing migrate bench clean

run: $(VENV)/.synced
	@$(BIN)/python -m compileall -q -j 0 shared services labourx
	$(BIN)/labourx dev

# Two workers (pytest-xdist), a file each at a time: each has its own PostgreSQL, broker and
# databases, and most tests wait on I/O, so two keep both cores busy on a two-core machine.
test: $(VENV)/.synced $(VENV)/.debian-tools lint typecheck
	$(BIN)/labourx schemas check
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

# The tests that need no database, broker, browser or Debian tool: rules, settings and event
# contracts, for a quick check while editing (`make test` still runs everything).
test-fast: $(VENV)/.synced
	$(BIN)/pytest -q -p no:cacheprovider tests/unit tests/contracts

lint: $(VENV)/.synced
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(VENV)/.synced
	$(BIN)/mypy labourx shared services tests bench

schemas: $(VENV)/.synced
	$(BIN)/labourx schemas generate

# docs/processing.md, the record of processing, from the personal-data marks on the models.
processing: $(VENV)/.synced
	$(BIN)/python -m labourx.processing

migrate: $(VENV)/.synced
	$(BIN)/labourx migrate

bench: $(VENV)/.synced
	$(BIN)/python -m bench

# POST, relay, pipeline CPU and end to end, smaller: under three minutes, before and after a change.
.PHONY: bench-quick
bench-quick: $(VENV)/.synced
	$(BIN)/python -m bench --quick

# A virtual environment with uv in it, then every pinned dependency from uv.lock, compiled to
# bytecode once here rather than by every process at its first start (`make run` starts
# several at once: compiling on a busy two-core machine made the first start take a minute).
$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q uv==$(UV_VERSION); }
	$(BIN)/uv sync --frozen --quiet --compile-bytecode
	touch $@

# Debian packages the tests use: docker-compose validates docker-compose.yml, promtool (package
# prometheus) the alert rules and scrape config, Chromium runs the console's browser tests (with
# a Lao font so pages and screenshots show the script), pdftotext (poppler-utils) reads printed
# PDFs back, and Node.js runs the test-only OpenID provider (tests/tools/oidc-provider) when the
# machine has none. Quick when they are there already; sudo only when not root.
DEBIAN_TOOLS := docker-compose prometheus chromium fonts-noto-core poppler-utils \
  $(if $(shell command -v npm),,nodejs npm)
$(VENV)/.debian-tools: | $(VENV)/.synced
	command -v docker-compose >/dev/null && command -v promtool >/dev/null \
	  && command -v chromium >/dev/null && command -v pdftotext >/dev/null \
	  && command -v npm >/dev/null \
	  && fc-list :lang=lo | grep -q . || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(DEBIAN_TOOLS) >/dev/null; }
	touch $@

clean:
	rm -rf $(VENV) .labourx
