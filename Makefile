# Two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test test-production install install-test system-deps messages migrate demo lint bench bench-cluster bench-storm mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.run-installed

## The translations (locale/*/LC_MESSAGES/*.po) compiled to .mo files, which
## are never committed: gettext's msgfmt does it (`make system-deps`).
MESSAGE_SOURCES := $(wildcard locale/*/LC_MESSAGES/*.po)
MESSAGE_FILES := $(MESSAGE_SOURCES:.po=.mo)
$(MESSAGE_FILES): %.mo: %.po | $(BIN)/python
	$(BIN)/python manage.py compilemessages --verbosity 0
messages: $(MESSAGE_FILES)

install: $(VENV)/.run-installed messages
install-test: $(VENV)/.test-installed messages

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Add the demo menu and staff accounts on purpose, to a database that has data.
demo: migrate
	$(BIN)/python manage.py load_demo --add

## Serve on http://$(HOST):$(PORT)/. Safe to repeat: a busy port stops it at
## once (before migrating), and the demo menu and staff accounts go only into
## an empty database (their passwords are printed once, when made).
## To serve the festival's LAN: HOST=0.0.0.0 DJANGO_ALLOWED_HOSTS=<this machine's address>.
run: install
	$(BIN)/python -m scripts.port_free $(HOST) $(PORT)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /docs/, kitchen: /kitchen/, board: /display/)"
	exec $(BIN)/python -m config.serve -b $(HOST) -p $(PORT) config.asgi:application

## Debian packages the tests drive: chromium (Playwright uses it; no browser
## download), pushpin (the GRIP proxy), haproxy (the balancer of run-cluster),
## redis-server (tests that restart Redis) and gettext (msgfmt compiles the
## translations).
SYSTEM_TEST_PACKAGES := chromium:chromium pushpin:pushpin haproxy:haproxy redis-server:redis-server msgfmt:gettext
## Fonts the kitchen and the board need for any customer's name or dish
## (Latin, Greek, Cyrillic, Arabic, CJK): a kitchen PC needs them too.
SYSTEM_FONT_PACKAGES := fonts-noto-core fonts-noto-cjk
system-deps:
	@missing=""; for pair in $(SYSTEM_TEST_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	for package in $(SYSTEM_FONT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing from Debian"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "could not install$$missing: those tests will skip (or fail with REQUIRE_SERVICES=1)"; \
	  else echo "missing$$missing: those tests will skip (or fail with REQUIRE_SERVICES=1)"; fi; fi

## The suite runs in two passes: every test not marked `heavy` in TEST_WORKERS
## processes at once (pytest-xdist; each process has its own test database, and
## ports are held until their server binds them: scripts/ports.py), then the
## heavy ones (memory measured, hundreds of streams, a whole cluster) one at a
## time, alone. TEST_WORKERS=0 runs the first pass one test at a time too.
## PYTEST_ARGS go to both passes; a pass that selects no test (exit 5) is fine.
TEST_WORKERS ?= 3
define run_suite
	status=0; \
	$(1) $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not heavy" $(PYTEST_ARGS) || status=$$?; \
	[ $$status = 5 ] && status=0; \
	$(1) $(BIN)/python -m pytest -m heavy $(PYTEST_ARGS) || { code=$$?; [ $$code = 5 ] || status=$$code; }; \
	exit $$status
endef

## The suite on the embedded defaults (SQLite, in-process events).
test: install-test system-deps
	$(call run_suite,)

## The same suite on the production set-up: PostgreSQL for data and the event
## log, Redis between processes (both on this machine).
PRODUCTION_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PRODUCTION_REDIS_URL ?= redis://127.0.0.1:6379/0
test-production: install-test system-deps
	$(call run_suite,DATABASE_URL=$(PRODUCTION_DATABASE_URL) REDIS_URL=$(PRODUCTION_REDIS_URL))

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## The benchmark suite (bench/README.md): prints the tables, about 5 minutes; BENCH_ARGS=--quick for a smoke run.
bench: install-test
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Pushpin + HAProxy + Daphne workers on PostgreSQL (bench/cluster.py): throughput with 1 and 2
## workers, 5,000-20,000 idle streams held by Pushpin, fan-out to 10,000; about 10 minutes.
bench-cluster: install-test system-deps
	$(BIN)/python bench/cluster.py $(BENCH_ARGS)

## Reconnect storms of 2,000 and 10,000 clients within one second, straight to one worker and
## through the cluster (bench/storm.py); about 5 minutes.
bench-storm: install-test system-deps
	$(BIN)/python bench/storm.py $(BENCH_ARGS)

## Mutation testing (cosmic-ray.toml, docs/mutation.md) of the payload builders, pricing and the
## ticket counter: it mutates those files in place, one mutant at a time, so run it on a clean
## tree (`git diff` shows a mutant left behind by an interrupted run). About 50 minutes here.
mutation: install-test
	mkdir -p var
	rm -f var/mutation.sqlite
	$(BIN)/cosmic-ray init cosmic-ray.toml var/mutation.sqlite
	$(BIN)/python scripts/mutation_scope.py var/mutation.sqlite
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/cosmic-ray exec cosmic-ray.toml var/mutation.sqlite
	$(BIN)/python scripts/mutation_scope.py --report var/mutation.sqlite

clean:
	rm -rf $(VENV) var .pytest_cache

## WORKERS Daphne workers (default 2) on FIRST_WORKER_PORT.. (default 8101) behind
## HAProxy (BALANCER_PORT, default a free one) behind Pushpin on
## http://$(HOST):$(PORT)/; DATABASE_URL and REDIS_URL as for `run`.
## Ctrl-C stops them all. See docs/deploy.md.
run-cluster: install
	exec $(BIN)/python scripts/cluster.py --port $(PORT) --host $(HOST)
