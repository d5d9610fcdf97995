PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/feeds run --host 127.0.0.1 --port 8000

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy feeds
	$(BIN)/pytest -q

# Extract the pages' text, update every catalog under feeds/translations, compile them (.mo,
# committed). A new language: $(BIN)/pybabel init -i feeds/translations/messages.pot \
#   -d feeds/translations -l LANG, then `make translations` (docs/languages.md).
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg --sort-by-file --no-wrap --omit-header \
		-o feeds/translations/messages.pot feeds
	$(BIN)/pybabel -q update -i feeds/translations/messages.pot -d feeds/translations \
		--no-wrap
	$(BIN)/pybabel compile --statistics -d feeds/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
