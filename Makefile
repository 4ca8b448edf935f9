# Pathways: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# axe-core for the accessibility tests, pinned in package-lock.json (test-only; not for `make run`).
NODE_STAMP := node_modules/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=1 PATHWAYS_BASE_URL=$${PATHWAYS_BASE_URL:-http://127.0.0.1:$(PORT)} \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --silent && touch $(NODE_STAMP); \
	else \
		echo "HINT: npm is needed for the accessibility tests (apt-get install -y npm)" >&2; \
	fi

test: install $(NODE_STAMP)
	@scripts/system-deps.sh --browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Figures on gunicorn + PostgreSQL (127.0.0.1:5432, databases pathways_bench*; see
# docs/performance.md). `make bench BENCH_SIZES=1000,16000` skips the 150,000-officer matrix.
bench: install
	BENCH_SIZES="$(BENCH_SIZES)" $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules db.sqlite3 media static_collected
