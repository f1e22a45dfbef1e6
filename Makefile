# The two commands: `make run` and `make test`. Both set up .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0
PORT ?= 8000

.PHONY: run test lint bench client install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log --workers $${WORKERS:-1}

test: install-dev
	@scripts/ensure_redis.sh
	@scripts/ensure_chromium.sh
	$(BIN)/ruff check app tests bench scripts examples
	$(BIN)/mypy app
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check app tests bench scripts examples
	$(BIN)/mypy app

bench: install-dev
	$(BIN)/pip install -q --no-deps -r requirements-bench.txt
	$(BIN)/python -m bench.run

# After an API change: refresh clients/typescript/openapi.json and the generated types (commit both)
client: install-dev
	$(BIN)/python -m scripts.export_openapi
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
