# plutarc: `make up` runs the platform, `make test` runs the whole suite. Both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell scripts/ensure-uv)
RUN := $(UV) run --frozen
export UV_PYTHON ?= 3.11

.PHONY: help install venv jars tinyproxy pulumi web chromium openapi images compose-up compose-down up test test-deploy lint typecheck bench kafka kafka-stop kafka-status fixtures clean

help:
	@echo "make up          install what is missing, start Kafka and every service, print where they listen"
	@echo "make test        install what is missing, start real Kafka and PostgreSQL, run lint, types and every test"
	@echo "make test-deploy check the Helm chart offline, build the images, run the compose platform's tests"
	@echo "make images      build every image with podman from a debootstrap base (cached; docs/deployment.md)"
	@echo "make compose-up  the whole platform from the images in podman-compose (API on 127.0.0.1:8000)"
	@echo "make bench       run the benchmarks under bench/ and print their numbers"
	@echo "make web         build the dashboard (web/dist, served by the API at /) when its sources or lock changed"
	@echo "make openapi     rewrite web/openapi.json from the API's routes (the dashboard's typed client)"
	@echo "make kafka       start the local Kafka broker (idempotent);  make kafka-stop  stops it"

install: venv jars tinyproxy pulumi web

tinyproxy:
	@scripts/ensure-tinyproxy >/dev/null

pulumi:
	@scripts/ensure-pulumi >/dev/null

# The dashboard: npm ci from the lock, then a build, each only when its inputs changed.
WEB_INPUTS := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json \
  web/package-lock.json web/openapi.json web/vite.config.ts web/tsconfig.json
web: web/dist/.built
web/node_modules/.package-lock.json: web/package-lock.json
	@scripts/ensure-node
	cd web && npm ci --no-audit --no-fund --loglevel=error
web/dist/.built: web/node_modules/.package-lock.json $(WEB_INPUTS)
	cd web && npm run --silent build
	@touch $@

openapi: venv
	$(RUN) python -m plutarc_api.openapi_doc

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; it downloads nothing).
chromium:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null 2>&1; } \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; } \
	  || echo "chromium is not installed (not root): the dashboard's browser tests will be skipped; run: sudo apt-get install chromium"

venv: .venv/.synced
.venv/.synced: uv.lock pyproject.toml $(wildcard */pyproject.toml */*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	@touch $@

jars: venv
	$(RUN) plutarc kafka install

up: install
	$(RUN) plutarc up

kafka: install
	$(RUN) plutarc kafka start

kafka-stop: venv
	$(RUN) plutarc kafka stop

kafka-status: venv
	$(RUN) plutarc kafka status

lint: venv
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: venv
	$(RUN) mypy -p plutarc_contracts -p plutarc_runtime -p plutarc_access -p plutarc_localkafka \
	  -p plutarc_testkit -p plutarc_identity -p plutarc_support -p plutarc_bots -p plutarc_exchange -p plutarc_compute -p plutarc_api -p plutarc_cli

test: install chromium lint typecheck
	$(RUN) pytest --durations=25

# The Helm chart, checked offline; then the images, and the platform from them in compose: each
# image's labels and user, a journey over HTTP, and one service upgraded alone (docs/deployment.md).
test-deploy: venv
	scripts/test-deploy
	scripts/build-images
	$(RUN) pytest -p no:cacheprovider deploy/tests

images: venv
	scripts/build-images

COMPOSE = CONTAINERS_CONF=$$(scripts/ensure-podman) $(UV) tool run --from podman-compose==1.5.0 \
  podman-compose -p plutarc -f deploy/compose/compose.yaml
compose-up: images
	$(COMPOSE) up -d
	@echo "the platform is starting; the API and the dashboard: http://127.0.0.1:$${PLUTARC_API_PORT:-8000}/"

compose-down:
	$(COMPOSE) down

bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || echo "wrk is not installed: the API benchmark falls back to httpx, a weaker load generator"
	$(RUN) python -m bench

fixtures: venv
	$(RUN) python contracts/scripts/make_fixtures.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
