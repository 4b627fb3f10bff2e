# Two entry points for a fresh clone: `make seed` (seed the SQLite default) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: seed test test-docker lint migrate clean-venv

$(VENV)/.runtime-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(PIP) install -r requirements-dev.txt
	touch $@

## seed: create the venv if needed and seed the database (SQLite file by default); ARGS="--profile demo"
seed: $(VENV)/.runtime-installed
	$(BIN)/python backend/scripts/seed_data.py $(ARGS)

## migrate: bring the database named by DATABASE_URL to the newest schema
migrate: $(VENV)/.runtime-installed
	$(BIN)/alembic -c backend/alembic.ini upgrade head

## lint: ruff lint and format check
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, make sure PostgreSQL's server binaries exist, then run every test on SQLite and PostgreSQL
test: lint
	bash tools/ensure_postgres.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-docker: the README's Docker commands against a real engine, under docker compose and docker-compose
## (starts dockerd if none runs; builds local stand-in images unless PYTHON_IMAGE and POSTGRES_IMAGE are set)
test-docker: $(VENV)/.runtime-installed
	PYTHON=$(BIN)/python bash tools/docker/test_docker.sh

clean-venv:
	rm -rf $(VENV)
