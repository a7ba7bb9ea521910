# Ferry: the two commands of the README, and the tools around them.
#   make run    set up (venv, install, database, demo) and serve http://127.0.0.1:5000
#   make test   set up and run the whole test suite (SQLite; FERRY_TEST_DATABASE_URL for PostgreSQL)
#   make serve  production start: gunicorn on HOST:PORT, one sync worker per core (docs/operations.md)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
ODK := tests/odk
ODK_STAMP := $(ODK)/node_modules/.installed-$(shell cat $(ODK)/package-lock.json | cksum | cut -d' ' -f1)
COLLECT := server/collect/app
COLLECT_STAMP := $(COLLECT)/node_modules/.installed-$(shell cat $(COLLECT)/package-lock.json | cksum | cut -d' ' -f1)
COLLECT_BUILT := server/collect/build/index.html
COLLECT_SOURCES := $(COLLECT)/index.html $(COLLECT)/vite.config.js $(wildcard $(COLLECT)/src/* $(COLLECT)/public/*)
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run serve test lint bench install odk-engine collect clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# ODK's own XForms engine (Node) checks that Ferry's verdicts match ODK's; installed from the lockfile.
$(ODK_STAMP): $(ODK)/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(ODK) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the ODK parity tests will be skipped"; fi

odk-engine: $(ODK_STAMP)

# The offline web form (/collect/): ODK Web Forms and Ferry's PWA around it, built with vite from the lockfile
# into server/collect/build/ (not committed). Without npm, /collect/ answers 503 and its tests are skipped.
$(COLLECT_STAMP): $(COLLECT)/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(COLLECT) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the web form (/collect/) will not be built"; fi

$(COLLECT_BUILT): $(COLLECT_STAMP) $(COLLECT_SOURCES)
	@if [ -e $(COLLECT_STAMP) ]; then npm run --prefix $(COLLECT) --silent build -- --logLevel error; fi

collect: $(COLLECT_BUILT)

run: $(STAMP) $(COLLECT_BUILT)
	$(BIN)/flask --app server demo
	@echo
	@echo "Ferry is starting on http://$(HOST):$(PORT)"
	@echo "Log in with a demo user above, for example:"
	@echo "  curl -s -X POST http://$(HOST):$(PORT)/api/v1/auth/token -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"username\": \"demo-admin\", \"password\": \"<password above>\"}'"
	@echo "then send 'Authorization: Bearer <token>' (try GET /api/v1/places). Health: /healthz"
	@echo "Reports in the browser: http://$(HOST):$(PORT)/reports/ (sign in as demo-analyst or demo-planner)"
	@echo
	$(BIN)/flask --app server run --host $(HOST) --port $(PORT)

# What the benchmark (tests/bench/bench_sync_push.py) measures is what this starts.
serve: $(STAMP) $(COLLECT_BUILT)
	exec $(BIN)/gunicorn --workers $(WORKERS) --worker-class sync --bind $(HOST):$(PORT) server.wsgi:app

test: $(STAMP) $(ODK_STAMP) $(COLLECT_BUILT)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	@status=0; for f in tests/bench/bench_*.py; do \
	  [ -e "$$f" ] || continue; echo "== $$f"; $(BIN)/python $$f || status=1; done; exit $$status

clean:
	rm -rf $(VENV) $(ODK)/node_modules $(COLLECT)/node_modules server/collect/build .pytest_cache .ruff_cache .hypothesis
