VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench chaos clean

$(STAMP): pyproject.toml requirements.lock
	python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) launcher.py

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

# Orders along every path under provider faults, worker kills and server restarts (CHAOS_* settings: tests/reliability/config.py)
chaos: $(STAMP)
	$(PY) -m tests.reliability.chaos

clean:
	rm -rf $(VENV) .pytest_cache
