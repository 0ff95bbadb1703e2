# Development tasks (GNU make). `make run` starts the whole stack on http://localhost:8000/.
# Django reads .data/services.env (written by `make services`), so no recipe exports anything.

PY := .venv/bin/python
STAMP := .venv/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each takes whole files (--dist loadfile), a test database and Redis
# databases of its own (config/settings/test.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
ONLY ?=

.PHONY: help venv services migrate run test audit bench load lint docs screenshots openapi graphql stop clean

help:
	@echo "make run      venv + services + migrate + demo data, then web, worker and beat"
	@echo "make test     run the tests with coverage (PYTEST_ARGS='-k foo -x' to pass options; floors checked without)"
	@echo "make bench    run the benchmarks (ONLY=name for one)"
	@echo "make load     the locust mix (dashboards, API, capture, websockets) at LOAD_USERS users for LOAD_SECONDS"
	@echo "make audit    pip-audit over the pins of requirements/*.txt: fails on a known vulnerability (scripts/audit.py)"
	@echo "make lint     ruff check and the import contracts (lint-imports)"
	@echo "make docs     build the documentation site (docs/, MkDocs --strict) into .site/"
	@echo "make screenshots  keep the main pages' screenshots of the last browser-test run in docs/screenshots/"
	@echo "make openapi  regenerate tests/api/openapi.yaml, the API's OpenAPI document the tests compare against (and the integration hub's copy)"
	@echo "make graphql  regenerate tests/api/schema.graphql, the GraphQL schema the tests compare against"
	@echo "make services start embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set"
	@echo "make migrate  migrate_schemas (public and every tenant)"
	@echo "make stop     stop the embedded services; make clean also deletes .data/"

venv: $(STAMP)

# Re-install only when a requirements file changed.
$(STAMP): $(wildcard requirements/*.txt)
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --disable-pip-version-check -r requirements/dev.txt
	touch $@

services: venv
	$(PY) scripts/services.py up

migrate: services
	$(PY) manage.py migrate_schemas --noinput

run: migrate
	python3 scripts/sysdeps.py run
	$(PY) manage.py seed_demo
	$(PY) scripts/serve.py

# Coverage (lines and branches, pyproject.toml) is measured on every run, subprocesses included;
# its floors are checked only when the whole suite runs (no PYTEST_ARGS). The pins are audited
# first (make audit); Django's deploy check runs as a test (tests/core/test_entry_points_and_errors.py).
test: services audit
	python3 scripts/sysdeps.py test
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=30 --cov --cov-report=term-missing:skip-covered $(if $(PYTEST_ARGS),--cov-fail-under=0) $(PYTEST_ARGS)
	$(PY) scripts/coverage_floor.py $(if $(PYTEST_ARGS),,--check)

# Known vulnerabilities in the pinned requirements (pip-audit; the ignore list and what happens when
# its vulnerability service cannot be reached are in scripts/audit.py).
audit: venv
	$(PY) scripts/audit.py

bench: services
	python3 scripts/sysdeps.py bench
	$(PY) bench/run.py $(if $(ONLY),--only $(ONLY))

# The mixed load on the ASGI server + a Celery worker (bench/load.py): BENCH mixed_load_rps, mixed_load_p95_ms.
load: services
	python3 scripts/sysdeps.py bench
	$(PY) bench/run.py --only mixed_load

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check apps config plugins bench scripts
	.venv/bin/lint-imports

# The documentation site: docs/ with mkdocs.yml, into .site/ (git-ignored). --strict turns every
# warning (a broken link, a page missing from the nav) into a failure. NO_MKDOCS_2_WARNING silences
# Material's banner about its successor (a notice, not a problem of the site).
docs: venv
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir .site

# After `make test`: the main pages, both themes, desktop and phone, kept in docs/screenshots/.
screenshots: venv
	$(PY) scripts/screenshots.py

# The OpenAPI document as the test settings generate it (the hello plugin enabled), checked in:
# tests/api/test_openapi_snapshot.py fails when the generated one differs. No database needed.
openapi: venv
	env -u HUB_PLUGINS DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_POOL_MAX_SIZE=0 \
		$(PY) manage.py spectacular --api-version v1 --validate --fail-on-warn --file tests/api/openapi.yaml
	$(PY) scripts/hub_spec.py

# tests/api/graphql/test_schema.py fails when the printed GraphQL schema differs. No database needed.
graphql: venv
	env -u HUB_PLUGINS DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_POOL_MAX_SIZE=0 \
		$(PY) manage.py graphql_schema --file tests/api/schema.graphql

stop:
	@if [ -x $(PY) ]; then $(PY) scripts/services.py down; fi

clean: stop
	rm -rf .data
