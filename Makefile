# cdcflow: `make up` runs the product, `make test` runs every test against a real stack. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := backend/.venv
PY         := $(VENV)/bin/python
STACKCTL   := stack/stackctl
WEB_SRC    := $(shell find frontend/app frontend/lib -type f 2>/dev/null) frontend/package-lock.json \
              frontend/next.config.mjs frontend/proxy.ts frontend/tsconfig.json

.PHONY: help prereqs mariadb-server install jars web-build browser stack-up stack-down up down migrate test test-unit status clean bench-fullload bench-events bench-monitoring bench-scale bench-connect-capacity bench-cdc bench-browser demo-traffic

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

prereqs: ## check the tools this machine must have, naming any that are missing
	@stack/prereqs.sh

$(VENV)/.installed: backend/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e 'backend[dev]'
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.stack/jars/.resolved: stack/pom.xml $(wildcard stack/maven/*/pom.xml) $(shell find stack/maven -name '*.java' 2>/dev/null)
	mvn -B -q -f stack/pom.xml package
	@touch $@

install: prereqs mariadb-server $(VENV)/.installed frontend/node_modules/.installed ## virtualenv, npm packages
jars: prereqs .stack/jars/.resolved ## resolve Kafka, Connect and Debezium from Maven Central

frontend/.next/BUILD_ID: frontend/node_modules/.installed $(WEB_SRC)
	cd frontend && NEXT_TELEMETRY_DISABLED=1 npx next build
web-build: frontend/.next/BUILD_ID ## production build of the web app

stack-up: jars ## start PostgreSQL, Kafka and Kafka Connect (infrastructure only)
	@$(STACKCTL) up

stack-down: ## stop the infrastructure (and the app, if running)
	@$(STACKCTL) down

migrate: $(VENV)/.installed ## apply migrations, create the first admin and the demo data (each only if missing)
	@set -a && . .stack/env && set +a && $(VENV)/bin/cdcflow migrate && $(VENV)/bin/cdcflow create-admin && \
	  $(VENV)/bin/cdcflow demo seed

up: install jars web-build stack-up migrate ## the whole product: stack, API, web app; prints the URL
	@$(STACKCTL) app-up
	@. .stack/env && printf '\n  cdcflow is up:  %s\n  Admin login:    %s / %s\n  API:            %s  (OpenAPI: %s/docs)\n  Kafka Connect:  %s  (user %s, password in %s)\n  MariaDB:        %s:%s  (demo connections "Demo MariaDB source" / "Demo MariaDB target")\n  Stop with:      make down\n\n' \
	  "$$CDCFLOW_UI_URL" "$$CDCFLOW_ADMIN_USER" "$$CDCFLOW_ADMIN_PASSWORD" "$$CDCFLOW_API_URL" "$$CDCFLOW_API_URL" "$$KAFKA_CONNECT_URL" \
	  "$$KAFKA_CONNECT_USER" "$$KAFKA_CONNECT_PASSWORD_FILE" "$$MARIADB_HOST" "$$MARIADB_PORT"

down: ## stop everything `make up` started
	@$(STACKCTL) down

status: ## what is running
	@$(STACKCTL) status

mariadb-server: ## Debian's MariaDB server binaries for the stack (apt when missing; RUNLEVEL=1: the packaged service is not started)
	@test -x /usr/sbin/mariadbd || { [ "$$(id -u)" = 0 ] && { RUNLEVEL=1 apt-get install -y -q mariadb-server mariadb-client >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && RUNLEVEL=1 apt-get install -y -q mariadb-server mariadb-client >/dev/null; }; }; } || \
	  { echo "MariaDB is missing: install Debian's mariadb-server package" >&2; exit 1; }

browser: ## Debian's Chromium for the browser tests (installed with apt when missing)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && { apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; } || \
	  { echo "Chromium is missing: install Debian's chromium package" >&2; exit 1; }

test: install jars web-build browser ## all backend, frontend and browser tests on a private, throwaway stack
	@stack/run-tests.sh

test-unit: $(VENV)/.installed ## the backend's unit tests only: pure logic, no stack, seconds (the converter's run in make jars)
	cd backend && .venv/bin/pytest -q -p no:cacheprovider tests/test_unit_*.py

bench-fullload: install stack-up ## benchmark: cdcflow full load vs pg_dump | psql, and MariaDB -> PG vs mariadb | psql COPY
	$(PY) bench/fullload_bench.py $(BENCH_ARGS)
	$(PY) bench/fullload_mariadb_bench.py $(BENCH_ARGS)

bench-events: install stack-up migrate ## benchmark: event logger ingest vs a bare consume loop
	$(PY) bench/event_logger_bench.py $(BENCH_ARGS)

bench-scale: install stack-up migrate ## benchmark: events/s through an event-logger group of 1 vs 2 processes
	$(PY) bench/scale_bench.py $(BENCH_ARGS)

bench-monitoring: install stack-up migrate ## benchmark: monitoring endpoints at 10M events vs the seed's query
	$(PY) bench/monitoring_bench.py $(BENCH_ARGS)

bench-connect-capacity: install stack-up migrate ## benchmark: how many small pipelines one Connect worker carries before lag rises
	@$(STACKCTL) api-up
	$(PY) bench/connect_capacity_bench.py $(BENCH_ARGS)

bench-cdc: install stack-up migrate ## benchmark: cdcflow's stream vs native logical replication (latency, burst)
	@$(STACKCTL) api-up
	$(PY) bench/cdc_bench.py $(BENCH_ARGS)

bench-browser: up browser ## benchmark: input round trip and heap of the pages under 1,000 changes/s (LIVE_RATE)
	bench/browser_bench.sh

demo-traffic: $(VENV)/.installed ## steady inserts/updates/deletes on the demo shop (RATE=20 DURATION=)
	@set -a && . .stack/env && set +a && $(VENV)/bin/cdcflow demo traffic --rate $${RATE:-20} \
	  $${DURATION:+--duration $$DURATION}

clean: down ## stop everything and delete local data (keeps installed packages and jars)
	rm -rf .stack/pg .stack/kafka .stack/connect .stack/logs .stack/run .stack/test
