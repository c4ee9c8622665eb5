VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench chaos clean fuzz demo

$(STAMP): pyproject.toml requirements.lock
	python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/settlement run

# Lint, format and types first (seconds), then the whole suite.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

# Every benchmark against its same-run baseline (QUICK=1: a small smoke run; BENCH=B1,B5: some of them).
bench: $(STAMP)
	QUICK=$(QUICK) BENCH=$(BENCH) $(PY) -m bench

# The OpenAPI fuzz test, longer than in `make test` and with a fresh seed (FUZZ_SEED=... replays one).
fuzz: $(STAMP)
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; seconds=$${FUZZ_SECONDS:-600}; \
	echo "make fuzz: seed $$seed, $$seconds s per role"; \
	FUZZ_SEED=$$seed FUZZ_SECONDS=$$seconds $(PY) -m pytest tests/integration/test_api_fuzz.py -s -q

# Orders along every path under provider faults, worker kills and server restarts (CHAOS_* settings: tests/reliability/config.py)
chaos: $(STAMP)
	$(PY) -m tests.reliability.chaos

# A few minutes of business against `make run` (in another terminal): DEMO_SECONDS, DEMO_RATE (operations/demo.py)
demo: $(STAMP)
	$(PY) -m operations.demo

clean:
	rm -rf $(VENV) .pytest_cache
