# Two commands on a fresh machine with Python 3.11+ and make: `make demo`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := sample_data
OUT    := out

.PHONY: demo test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

demo: $(VENV)/.installed
	-$(BIN)/python -m territory.assets fetch   # Leaflet for --offline maps; a failure only disables --offline
	$(BIN)/territory size $(SAMPLE)/customers.csv --reps $(SAMPLE)/reps.csv --config $(SAMPLE)/plan.toml
	$(BIN)/territory plan $(SAMPLE)/customers.csv --reps $(SAMPLE)/reps.csv --config $(SAMPLE)/plan.toml \
		--out $(OUT) --jobs 2
	@echo "Open $(OUT)/report.html and $(OUT)/map.html in a browser; $(OUT)/plan.xlsx in Excel."

lint: $(VENV)/.installed-test
	$(BIN)/ruff check territory tests scripts
	$(BIN)/ruff format --check territory tests scripts
	$(BIN)/mypy

test: lint
	-$(BIN)/python -m territory.assets fetch  # Leaflet into the asset cache (once); if the registry is unreachable, the tests that need it skip
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
