# Two commands do all set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
export TEST_DATABASE_URL

.PHONY: run serve migrate demo worker bench-webhooks test test-sqlite test-postgres check-openapi check-ts openapi lint fuzz bench bench-export lock clean postgres-up

$(STAMP): requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

demo: migrate
	$(BIN)/python -m app.cli load-demo --if-empty

# The worker (webhooks, change feed, reminders) runs inside the API process here (WORKER_IN_PROCESS);
# set WORKER_IN_PROCESS=false and run `make worker` beside it to keep them apart.
run: demo
	WORKER_IN_PROCESS=$${WORKER_IN_PROCESS:-true} $(BIN)/uvicorn app.main:app_factory --factory --host $${HOST:-127.0.0.1} --port $(PORT) \
		--proxy-headers --timeout-graceful-shutdown 20

worker: migrate
	$(BIN)/python -m app.cli worker

# The two databases' suites run side by side (one pytest process each, so both cores work);
# --output-sync prints each suite's output whole when it ends. `make test-sqlite` / `test-postgres` run one.
test: $(STAMP) lint check-openapi check-ts postgres-up
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP)
	TEST_DB=sqlite $(BIN)/python -m pytest -q

test-postgres: $(STAMP) postgres-up
	TEST_DB=postgres $(BIN)/python -m pytest -q

# A deeper contract-fuzzing pass than the one inside `make test` (both databases).
fuzz: $(STAMP) postgres-up
	TEST_DB=sqlite FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -q -m fuzz tests/contract
	TEST_DB=postgres FUZZ_ALL_ROLES=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -q -m fuzz tests/contract

# The suite never skips PostgreSQL: when no server answers, start the machine's cluster and say so.
postgres-up:
	@$(BIN)/python scripts/ensure_postgres.py

openapi: $(STAMP)
	$(BIN)/python -m app.cli openapi > openapi/openapi.json

check-openapi: $(STAMP)
	@$(BIN)/python -m app.cli openapi > .openapi.current.json
	@if ! diff -q openapi/openapi.json .openapi.current.json >/dev/null; then \
		echo "openapi/openapi.json is out of date: run 'make openapi' and commit it"; \
		diff -u openapi/openapi.json .openapi.current.json | head -40; rm -f .openapi.current.json; exit 1; fi
	@rm -f .openapi.current.json; echo "openapi contract: up to date"

# The SPA contract check (issue 7 item 6): TypeScript types generated from openapi/openapi.json by
# openapi-typescript, and spa-check/src/usage.ts type-checked against them (versions pinned in the lock).
spa-check/node_modules/.package-lock.json: spa-check/package-lock.json
	cd spa-check && npm ci --no-audit --no-fund --loglevel=error

check-ts: spa-check/node_modules/.package-lock.json
	cd spa-check && npx --no-install openapi-typescript ../openapi/openapi.json --output src/api.d.ts --silent
	cd spa-check && npx --no-install tsc --noEmit -p .
	@echo "openapi contract: consumable by TypeScript"

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations
	$(BIN)/lint-imports

# Benchmarks, never part of `make test` (about 15 min): two seeded PostgreSQL datasets (bench/generate.py),
# wrk against the service and a raw asyncpg + Starlette baseline (bench/run.py), figures in BENCHMARKS.md.
bench: $(STAMP) postgres-up
	@command -v wrk >/dev/null 2>&1 || { echo "wrk is missing: installing the Debian package (apt-get install wrk)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }
	$(BIN)/python -m bench.generate --db envduty_bench_small --scale small --seed $${BENCH_SEED:-42}
	$(BIN)/python -m bench.generate --db envduty_bench --scale large --seed $${BENCH_SEED:-42}
	$(BIN)/python -m bench.run --small-db envduty_bench_small --large-db envduty_bench --out BENCHMARKS.md

# The ledger export benchmark (issue 7 item 4): 100,000 items as CSV and XLSX, rows/s and the server's
# peak RSS, written to the export section of BENCHMARKS.md (about 5 min on an idle machine).
bench-export: $(STAMP) postgres-up
	$(BIN)/python -m bench.generate --db envduty_bench_export --scale small --users 2000 --items 100000 \
		--seed $${BENCH_SEED:-42}
	$(BIN)/python -m bench.export --db envduty_bench_export --out BENCHMARKS.md

# Webhook throughput (deliveries/s from the worker to a receiver on 127.0.0.1; a fresh SQLite file,
# or BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/envduty_bench_webhooks).
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks --events $${BENCH_EVENTS:-2000} --workers $${BENCH_WORKERS:-2} \
		$${BENCH_DATABASE_URL:+--database-url $$BENCH_DATABASE_URL}

# Regenerate the lock files after editing pyproject.toml (needs network to PyPI).
lock:
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile -q --strip-extras --generate-hashes --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --generate-hashes --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) data .openapi.current.json
